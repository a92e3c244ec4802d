package views

import (
	"context"
	"strconv"
	"strings"

	"bangui/lang"
)

// SecondFactorView is the page that asks for a second factor after a right
// password (GET /login/second-factor).
type SecondFactorView struct {
	Error         string
	TOTP          bool // the account has an authenticator app
	RecoveryCodes int  // its unused recovery codes
	// Enrol is set when the admin requires a second factor and the account
	// has none: it sets one up here before anything else.
	Enrol *TOTPView
	// Passkeys is how many passkeys the account has.
	Passkeys int
}

// TOTPView is the state of one account's authenticator app, for the
// two-factor section of /account and the set-up step of a login.
type TOTPView struct {
	// Base is the path of the routes the forms post to: "/account/totp",
	// or "/login/second-factor/totp" while a login sets one up.
	Base          string
	Enabled       bool   // an authenticator app is set up
	PendingSecret string // one being set up: its secret (base32)
	RecoveryCodes int    // unused recovery codes
	Required      bool   // the admin requires a second factor for every account
	Error         string // what went wrong with the last form
}

// RecoveryCodesView shows new recovery codes, once.
type RecoveryCodesView struct {
	Codes    []string
	Download string // path the download form posts to
	Continue string // where the Continue link goes (absolute)
}

// groupSecret writes a base32 secret in groups of four, for typing.
func groupSecret(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// recoveryCodesLeft says how many recovery codes are left.
func recoveryCodesLeft(ctx context.Context, n int) string {
	if n == 0 {
		return lang.T(ctx, "factor.no_codes_left")
	}
	return lang.N(ctx, "factor.codes_left", n)
}

// resetFactorsPath is the admin's route that removes a user's second factors.
func resetFactorsPath(userID int64) string {
	return "/users/" + strconv.FormatInt(userID, 10) + "/factors/reset"
}

// confirmResetFactors is the question before an admin removes a user's
// second factors.

// RecoveryCodesText is the codes one per line under a heading in ctx's
// language, as copied and downloaded.
func RecoveryCodesText(ctx context.Context, codes []string) string {
	return lang.T(ctx, "acct.recovery_codes_heading") + "\n" + strings.Join(codes, "\n") + "\n"
}
