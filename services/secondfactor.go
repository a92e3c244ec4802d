package services

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"strings"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"bangui/models"
	"bangui/repo"
)

// TOTP parameters: those every authenticator app understands (RFC 6238's
// defaults, as Google Authenticator uses them).
const (
	totpPeriod = 30 // seconds per time step
	totpDigits = otp.DigitsSix
	// totpSkew is how many steps before and after the current one a code
	// may be from, for clocks that are a little off.
	totpSkew = 1
	// totpIssuer names the panel in the authenticator app.
	totpIssuer = "BanGUI"
	// RecoveryCodeCount is how many recovery codes a user gets at a time.
	RecoveryCodeCount = 10
)

// ErrWrongCode says an authenticator code or recovery code was not
// accepted: wrong, from too long ago, or used already.
var ErrWrongCode = errors.New("the code is wrong or was used already")

// SecondFactors enrols and checks the second factors of the panel's
// accounts that BanGUI keeps itself (authenticator apps and recovery
// codes), and keeps the admin's rule that every account needs one.
type SecondFactors struct {
	store    *repo.FactorStore
	settings repo.Settings
}

// NewSecondFactors returns the service on its stores.
func NewSecondFactors(store *repo.FactorStore, settings repo.Settings) *SecondFactors {
	return &SecondFactors{store: store, settings: settings}
}

// FactorStatus is what second factors of its own a user has.
type FactorStatus struct {
	TOTP          bool   // a confirmed authenticator app
	PendingSecret string // an authenticator app being set up: its secret (base32)
	RecoveryCodes int    // unused recovery codes
}

// Status returns the user's second factors.
func (f *SecondFactors) Status(ctx context.Context, userID int64) (FactorStatus, error) {
	var st FactorStatus
	t, err := f.store.TOTP(ctx, userID)
	switch {
	case errors.Is(err, repo.ErrNotFound):
	case err != nil:
		return st, err
	case t.Confirmed:
		st.TOTP = true
	default:
		st.PendingSecret = t.Secret
	}
	if st.RecoveryCodes, err = f.store.RecoveryCodesLeft(ctx, userID); err != nil {
		return st, err
	}
	return st, nil
}

// Required reports whether the admin requires a second factor for every
// account.
func (f *SecondFactors) Required(ctx context.Context) (bool, error) {
	v, err := f.settings.Get(ctx, models.SettingRequireSecondFactor)
	if errors.Is(err, repo.ErrNotFound) {
		return false, nil
	}
	return v == "1", err
}

// SetRequired sets whether every account needs a second factor.
func (f *SecondFactors) SetRequired(ctx context.Context, on bool) error {
	v := "0"
	if on {
		v = "1"
	}
	return f.settings.Set(ctx, models.SettingRequireSecondFactor, v)
}

// StartTOTP makes a new secret the user's authenticator app being set up
// (replacing one being set up) and returns it. A user whose app is set up
// already must turn it off first: repo.ErrDuplicate.
func (f *SecondFactors) StartTOTP(ctx context.Context, userID int64) (string, error) {
	b := make([]byte, 20) // 160 bits, RFC 4226's recommendation
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	if err := f.store.StartTOTP(ctx, userID, secret); err != nil {
		return "", err
	}
	return secret, nil
}

// TOTPKey returns the otpauth key of secret for account: what the QR code
// holds.
func TOTPKey(secret, account string) (*otp.Key, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return nil, fmt.Errorf("services: totp secret: %w", err)
	}
	return totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: account, Secret: raw,
		Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
}

// TOTPQRCode returns the QR code of secret's key for account as a PNG of
// size×size pixels on a white quiet zone (four modules wide, as scanners
// expect, so that it scans on a dark page too).
func TOTPQRCode(secret, account string, size int) ([]byte, error) {
	key, err := TOTPKey(secret, account)
	if err != nil {
		return nil, err
	}
	code, err := qr.Encode(key.String(), qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("services: qr code: %w", err)
	}
	modules := code.Bounds().Dx() + 8
	scale := max(size/modules, 1)
	inner, err := barcode.Scale(code, scale*code.Bounds().Dx(), scale*code.Bounds().Dy())
	if err != nil {
		return nil, fmt.Errorf("services: qr code: %w", err)
	}
	img := image.NewGray(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	off := (size - inner.Bounds().Dx()) / 2
	draw.Draw(img, inner.Bounds().Add(image.Pt(off, off)), inner, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ConfirmTOTP finishes setting up the user's authenticator app with a code
// it shows now, and returns new recovery codes (which replace any old
// ones). ErrWrongCode for a wrong code; repo.ErrNotFound when no app is
// being set up.
func (f *SecondFactors) ConfirmTOTP(ctx context.Context, userID int64, code string, now time.Time) ([]string, error) {
	t, err := f.store.TOTP(ctx, userID)
	if err != nil {
		return nil, err
	}
	if t.Confirmed {
		return nil, fmt.Errorf("services: confirm totp of user %d: %w", userID, repo.ErrNotFound)
	}
	step, ok := matchStep(t.Secret, code, now, 0)
	if !ok {
		return nil, ErrWrongCode
	}
	if err := f.store.ConfirmTOTP(ctx, userID, step); err != nil {
		return nil, err
	}
	return f.NewRecoveryCodes(ctx, userID)
}

// CheckTOTP accepts a code of the user's authenticator app once: the code
// must belong to a time step near now and later than the last accepted
// one. ErrWrongCode otherwise.
func (f *SecondFactors) CheckTOTP(ctx context.Context, userID int64, code string, now time.Time) error {
	t, err := f.store.TOTP(ctx, userID)
	if errors.Is(err, repo.ErrNotFound) || err == nil && !t.Confirmed {
		return ErrWrongCode
	}
	if err != nil {
		return err
	}
	step, ok := matchStep(t.Secret, code, now, t.LastStep)
	if !ok {
		return ErrWrongCode
	}
	used, err := f.store.UseTOTPStep(ctx, userID, step)
	if err != nil {
		return err
	}
	if !used { // another request took this step first
		return ErrWrongCode
	}
	return nil
}

// TurnOffTOTP removes the user's authenticator app (set up or being set
// up). The recovery codes go too when removeCodes is set (the caller knows
// whether another second factor still needs them).
func (f *SecondFactors) TurnOffTOTP(ctx context.Context, userID int64, removeCodes bool) error {
	if removeCodes {
		return f.store.Reset(ctx, userID)
	}
	return f.store.DeleteTOTP(ctx, userID)
}

// Reset removes every second factor this service keeps for the user.
func (f *SecondFactors) Reset(ctx context.Context, userID int64) error {
	return f.store.Reset(ctx, userID)
}

// NewRecoveryCodes makes RecoveryCodeCount new recovery codes for the user,
// replacing the old ones, and returns them: they are stored hashed and
// cannot be shown again.
func (f *SecondFactors) NewRecoveryCodes(ctx context.Context, userID int64) ([]string, error) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([]string, RecoveryCodeCount)
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	for i := range codes {
		b := make([]byte, 10) // 80 bits: 16 base32 characters
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		c := strings.ToLower(enc.EncodeToString(b))
		codes[i] = c[0:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
		hashes[i] = hashRecoveryCode(codes[i])
	}
	if err := f.store.ReplaceRecoveryCodes(ctx, userID, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// UseRecoveryCode spends one of the user's recovery codes. ErrWrongCode
// when it is not one of them or was used already.
func (f *SecondFactors) UseRecoveryCode(ctx context.Context, userID int64, code string) error {
	ok, err := f.store.UseRecoveryCode(ctx, userID, hashRecoveryCode(code))
	if err != nil {
		return err
	}
	if !ok {
		return ErrWrongCode
	}
	return nil
}

// hashRecoveryCode is the stored form of a recovery code: the SHA-256 of
// the code in lower case without spaces and dashes, so a code typed in
// upper case or without its dashes still counts. A code carries 80 random
// bits, so a fast hash is enough: it cannot be found by trying.
func hashRecoveryCode(code string) string {
	norm := strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ', '\t':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(code)))
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:])
}

// StepOf returns the TOTP time step of t.
func StepOf(t time.Time) int64 { return t.Unix() / totpPeriod }

// matchStep returns the time step near now whose code is code and that is
// later than after, checking every candidate step in constant time.
func matchStep(secret, code string, now time.Time, after int64) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != totpDigits.Length() {
		return 0, false
	}
	var found int64
	matched := false
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := StepOf(now) + d
		if step <= after || step < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !matched {
			found, matched = step, true
		}
	}
	return found, matched
}
