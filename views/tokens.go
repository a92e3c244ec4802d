package views

import (
	"context"
	"strconv"
	"time"

	"bangui/lang"
	"bangui/models"
)

// TokensSection is the API token part of the account page: the tokens
// listed, the form that makes one, and a token just made (shown once).
type TokensSection struct {
	Tokens   []models.TokenInfo
	Form     TokenForm
	NewToken string // the secret of the token just made; shown this once
	NewName  string
	AllUsers bool // the list holds every user's tokens (an admin's view)
}

// TokenForm is the form that makes a token.
type TokenForm struct {
	Name   string              `form:"name"`
	Scope  string              `form:"scope"`
	Expiry string              `form:"expiry"` // days, or "never"
	Scopes []models.TokenScope // the scopes the user may give
	Errors map[string][]string
}

// TokenExpiries are the expiry choices, in days; "never" is the last one.
var TokenExpiries = []string{"30", "90", "365", "never"}

func (f TokenForm) errs(field string) []string { return f.Errors[field] }

func scopeOptions(ctx context.Context, scopes []models.TokenScope) []Option {
	out := make([]Option, len(scopes))
	for i, s := range scopes {
		label := string(s)
		switch s {
		case models.ScopeRead:
			label = lang.T(ctx, "tokens.scope.read")
		case models.ScopeOperate:
			label = lang.T(ctx, "tokens.scope.operate")
		case models.ScopeAdmin:
			label = lang.T(ctx, "tokens.scope.admin")
		}
		out[i] = Option{Value: string(s), Label: label}
	}
	return out
}

func expiryOptions(ctx context.Context) []Option {
	out := make([]Option, len(TokenExpiries))
	for i, d := range TokenExpiries {
		n, _ := strconv.Atoi(d)
		out[i] = Option{Value: d, Label: lang.N(ctx, "tokens.days", n)}
		if d == "never" {
			out[i].Label = lang.T(ctx, "tokens.never")
		}
	}
	return out
}

// tokenStateLabel is a tokenState in words.
func tokenStateLabel(ctx context.Context, state string) string {
	switch state {
	case "revoked":
		return lang.T(ctx, "tokens.state.revoked")
	case "expired":
		return lang.T(ctx, "tokens.state.expired")
	}
	return lang.T(ctx, "tokens.state.active")
}

// tokenState words a token's state at now.
func tokenState(t models.TokenInfo, now time.Time) string {
	switch {
	case t.Revoked():
		return "revoked"
	case t.Expired(now.Unix()):
		return "expired"
	}
	return "active"
}

// optTime is the time of a nullable unix-seconds column, zero when nil.
func optTime(sec *int64) time.Time {
	if sec == nil {
		return time.Time{}
	}
	return time.Unix(*sec, 0)
}
