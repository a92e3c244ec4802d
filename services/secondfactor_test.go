package services

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"bangui/models"
	"bangui/repo"
)

// newSecondFactors returns the service on a fresh SQLite database with one
// user, whose id it returns too.
func newSecondFactors(t *testing.T) (*SecondFactors, int64) {
	t.Helper()
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	id, err := repo.NewUserStore(db).Create(ctx, models.User{Name: "alice", PasswordHash: "x", Role: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	return NewSecondFactors(repo.NewFactorStore(db), repo.NewSettingsStore(db)), id
}

// codeAt is what an authenticator app holding secret shows at t.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTOTPWithAControlledClock(t *testing.T) {
	ctx := context.Background()
	f, alice := newSecondFactors(t)
	now := time.Date(2026, 12, 7, 10, 0, 5, 0, time.UTC) // 5 s into a step

	secret, err := f.StartTOTP(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Status(ctx, alice); st.TOTP || st.PendingSecret != secret {
		t.Fatalf("status while setting up: %+v", st)
	}
	// Until it is confirmed the app is no second factor.
	if err := f.CheckTOTP(ctx, alice, codeAt(t, secret, now), now); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("code of an unconfirmed app: %v", err)
	}
	if _, err := f.ConfirmTOTP(ctx, alice, wrongCode(codeAt(t, secret, now)), now); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("confirming with a wrong code: %v", err)
	}
	codes, err := f.ConfirmTOTP(ctx, alice, codeAt(t, secret, now), now)
	if err != nil || len(codes) != RecoveryCodeCount {
		t.Fatalf("confirm: %d codes, %v", len(codes), err)
	}
	if st, _ := f.Status(ctx, alice); !st.TOTP || st.PendingSecret != "" || st.RecoveryCodes != RecoveryCodeCount {
		t.Fatalf("status once set up: %+v", st)
	}

	// The code that confirmed the app is spent.
	if err := f.CheckTOTP(ctx, alice, codeAt(t, secret, now), now.Add(10*time.Second)); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("the confirming code again: %v", err)
	}
	// The next step's code works once.
	next := now.Add(30 * time.Second)
	if err := f.CheckTOTP(ctx, alice, codeAt(t, secret, next), next); err != nil {
		t.Fatalf("valid code: %v", err)
	}
	if err := f.CheckTOTP(ctx, alice, codeAt(t, secret, next), next.Add(5*time.Second)); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("reused code in its own step: %v", err)
	}
	// A code of the step before is accepted (a clock a little behind) as
	// long as that step is later than the last accepted one.
	later := now.Add(3 * 30 * time.Second)
	if err := f.CheckTOTP(ctx, alice, codeAt(t, secret, later.Add(-30*time.Second)), later); err != nil {
		t.Fatalf("code of the step before: %v", err)
	}
	// … but once a step is accepted, an earlier step's code is refused.
	if err := f.CheckTOTP(ctx, alice, codeAt(t, secret, next), later); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("an older step's code after a newer one: %v", err)
	}
	// Expired: a code two steps old.
	much := now.Add(10 * 30 * time.Second)
	if err := f.CheckTOTP(ctx, alice, codeAt(t, secret, much.Add(-60*time.Second)), much); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("expired code: %v", err)
	}
	// Wrong codes, including garbage.
	for _, c := range []string{wrongCode(codeAt(t, secret, much)), "", "12345", "1234567", "abcdef"} {
		if err := f.CheckTOTP(ctx, alice, c, much); !errors.Is(err, ErrWrongCode) {
			t.Fatalf("wrong code %q: %v", c, err)
		}
	}
	// The wrong and expired tries spent nothing: the current code works.
	if err := f.CheckTOTP(ctx, alice, " "+codeAt(t, secret, much)+" ", much); err != nil {
		t.Fatalf("current code after wrong ones: %v", err)
	}

	// A second start while the app is set up is refused.
	if _, err := f.StartTOTP(ctx, alice); !errors.Is(err, repo.ErrDuplicate) {
		t.Fatalf("start over a confirmed app: %v", err)
	}
	if err := f.TurnOffTOTP(ctx, alice, true); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Status(ctx, alice); st.TOTP || st.RecoveryCodes != 0 {
		t.Fatalf("status after turning off: %+v", st)
	}
}

func TestRecoveryCodesAreSingleUse(t *testing.T) {
	ctx := context.Background()
	f, alice := newSecondFactors(t)
	codes, err := f.NewRecoveryCodes(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 19 || strings.Count(c, "-") != 3 || seen[c] {
			t.Fatalf("code %q: want four groups of four, all different", c)
		}
		seen[c] = true
	}
	if err := f.UseRecoveryCode(ctx, alice, codes[3]); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := f.UseRecoveryCode(ctx, alice, codes[3]); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("second use: %v", err)
	}
	// Typed in upper case, without dashes, with spaces: the same code.
	typed := " " + strings.ToUpper(strings.ReplaceAll(codes[4], "-", "")) + " "
	if err := f.UseRecoveryCode(ctx, alice, typed); err != nil {
		t.Fatalf("code typed differently: %v", err)
	}
	if err := f.UseRecoveryCode(ctx, alice, "aaaa-bbbb-cccc-dddd"); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("made-up code: %v", err)
	}
	if st, _ := f.Status(ctx, alice); st.RecoveryCodes != RecoveryCodeCount-2 {
		t.Fatalf("codes left: %d", st.RecoveryCodes)
	}
	// New codes end the old ones.
	fresh, err := f.NewRecoveryCodes(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.UseRecoveryCode(ctx, alice, codes[5]); !errors.Is(err, ErrWrongCode) {
		t.Fatalf("an old code after new ones: %v", err)
	}
	if err := f.UseRecoveryCode(ctx, alice, fresh[0]); err != nil {
		t.Fatalf("a new code: %v", err)
	}
}

func TestSecondFactorRequiredSetting(t *testing.T) {
	ctx := context.Background()
	f, _ := newSecondFactors(t)
	if on, err := f.Required(ctx); on || err != nil {
		t.Fatalf("default: %v, %v", on, err)
	}
	for _, want := range []bool{true, false} {
		if err := f.SetRequired(ctx, want); err != nil {
			t.Fatal(err)
		}
		if on, err := f.Required(ctx); on != want || err != nil {
			t.Fatalf("after setting %v: %v, %v", want, on, err)
		}
	}
}

// wrongCode returns a six-digit code different from c.
func wrongCode(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}
