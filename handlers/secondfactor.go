package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/views"
)

// Session keys of a login whose password was right and that waits for its
// second factor. Such a session is not logged in: it carries no identity,
// so no private page opens for it.
const (
	sessPendingUser     = "pending_user_id"
	sessPendingNext     = "pending_next"
	sessPendingUntil    = "pending_until"    // unix seconds
	sessPendingEnrol    = "pending_enrol"    // the account must set up a second factor first
	sessPendingFailures = "pending_failures" // wrong codes so far
)

const (
	// pendingLoginLifetime is how long a right password waits for its
	// second factor.
	pendingLoginLifetime = 5 * time.Minute
	// pendingLoginMaxFailures wrong codes end the waiting login: the
	// password must be given again.
	pendingLoginMaxFailures = 5
)

// pendingLogin is a login waiting for its second factor.
type pendingLogin struct {
	UserID   int64
	Next     string
	Enrol    bool // must set up a second factor (the admin requires one)
	Failures int
}

// secondFactorSet is what second factors an account has.
type secondFactorSet struct {
	services.FactorStatus
	Passkeys int // how many passkeys (for any host name of the panel)
}

// any reports whether the account has a second factor to log in with
// (recovery codes alone are none: they stand in for one).
func (f secondFactorSet) any() bool { return f.TOTP || f.Passkeys > 0 }

// secondFactorsOf returns the second factors of an account.
func (s *Server) secondFactorsOf(ctx context.Context, userID int64) (secondFactorSet, error) {
	st, err := s.factors.Status(ctx, userID)
	if err != nil {
		return secondFactorSet{}, err
	}
	n, err := s.passkeys.Count(ctx, userID)
	return secondFactorSet{FactorStatus: st, Passkeys: int(n)}, err
}

// startPendingLogin makes the session one that waits for id's second factor
// (with a new token, logged in as nobody) and sends it to the second-factor
// page.
func (s *Server) startPendingLogin(c echo.Context, id models.Identity, next string, enrol bool) error {
	ctx := c.Request().Context()
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.logOut(ctx)
	s.sm.Put(ctx, sessPendingUser, id.UserID)
	s.sm.Put(ctx, sessPendingNext, next)
	s.sm.Put(ctx, sessPendingUntil, s.now().Add(pendingLoginLifetime).Unix())
	s.sm.Put(ctx, sessPendingEnrol, enrol)
	s.sm.Put(ctx, sessPendingFailures, 0)
	return s.redirect(c, s.url("/login/second-factor"))
}

// pendingLoginOf returns the login the session waits to finish, if it has
// one that has not expired.
func (s *Server) pendingLoginOf(ctx context.Context) (pendingLogin, bool) {
	p := pendingLogin{
		UserID:   s.sm.GetInt64(ctx, sessPendingUser),
		Next:     s.sm.GetString(ctx, sessPendingNext),
		Enrol:    s.sm.GetBool(ctx, sessPendingEnrol),
		Failures: s.sm.GetInt(ctx, sessPendingFailures),
	}
	if p.UserID == 0 || s.now().Unix() >= s.sm.GetInt64(ctx, sessPendingUntil) {
		return p, false
	}
	return p, true
}

// endPendingLogin forgets the session's waiting login.
func (s *Server) endPendingLogin(ctx context.Context) {
	for _, k := range []string{sessPendingUser, sessPendingNext, sessPendingUntil, sessPendingEnrol, sessPendingFailures} {
		s.sm.Remove(ctx, k)
	}
}

// pendingUser returns the waiting login and its account. Without one (none,
// expired, or its account gone or disabled since) the answer is a redirect
// to the login page, and ok is false.
func (s *Server) pendingUser(c echo.Context) (pendingLogin, models.User, bool, error) {
	ctx := c.Request().Context()
	p, ok := s.pendingLoginOf(ctx)
	if ok {
		u, err := s.users.Get(ctx, p.UserID)
		switch {
		case err == nil && !u.Disabled:
			return p, u, true, nil
		case err != nil && !errors.Is(err, repo.ErrNotFound):
			return p, u, false, err
		}
	}
	hadOne := p.UserID != 0
	s.endPendingLogin(ctx)
	c.Response().Header().Set("Cache-Control", "no-store")
	if hadOne {
		s.flash(c, "warning", tr(c, "factor.login_expired"))
	}
	return p, models.User{}, false, s.redirect(c, s.url("/login")+nextQuery(p.Next))
}

// nextQuery is the ?next= of a login page link, or "".
func nextQuery(next string) string {
	if next == "" {
		return ""
	}
	return "?next=" + url.QueryEscape(next)
}

// secondFactorThrottleKey is the key under which the login throttle counts
// an account's wrong codes, wherever they come from.
func secondFactorThrottleKey(userID int64) string {
	return "second-factor:" + strconv.FormatInt(userID, 10)
}

// secondFactorForm is GET /login/second-factor.
func (s *Server) secondFactorForm(c echo.Context) error {
	p, u, ok, err := s.pendingUser(c)
	if !ok {
		return err
	}
	return s.renderSecondFactor(c, http.StatusOK, p, u, "")
}

// renderSecondFactor renders the second-factor page of a waiting login.
func (s *Server) renderSecondFactor(c echo.Context, status int, p pendingLogin, u models.User, msg string) error {
	f, err := s.secondFactorsOf(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	v := views.SecondFactorView{Error: msg, TOTP: f.TOTP, RecoveryCodes: f.RecoveryCodes, Passkeys: f.Passkeys}
	if p.Enrol && !f.any() {
		v.Enrol = &views.TOTPView{Base: loginTOTPBase, PendingSecret: f.PendingSecret, Required: true, Error: msg}
		v.Error = ""
	}
	return s.render(c, status, views.SecondFactorPage(v), nil)
}

// secondFactorInput is the second-factor form: a code of the authenticator
// app, or a recovery code.
type secondFactorInput struct {
	Code         string `form:"code"`
	RecoveryCode string `form:"recovery_code"`
}

// secondFactorSubmit is POST /login/second-factor: a right code finishes
// the login; a wrong one is throttled per account, audited, and after
// pendingLoginMaxFailures ends the waiting login.
func (s *Server) secondFactorSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	p, u, ok, err := s.pendingUser(c)
	if !ok {
		return err
	}
	var in secondFactorInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	if wait := s.throttle.Wait(secondFactorThrottleKey(u.ID), s.now()); wait > 0 {
		return s.renderSecondFactor(c, http.StatusTooManyRequests, p, u,
			tr(c, "factor.throttled", "Wait", seconds(c, wait)))
	}
	what := "authenticator code"
	if in.RecoveryCode != "" {
		what = "recovery code"
		err = s.factors.UseRecoveryCode(ctx, u.ID, in.RecoveryCode)
	} else {
		err = s.factors.CheckTOTP(ctx, u.ID, in.Code, s.now())
	}
	if errors.Is(err, services.ErrWrongCode) {
		return s.wrongSecondFactor(c, p, u, what)
	}
	if err != nil {
		return err
	}
	s.throttle.Reset(secondFactorThrottleKey(u.ID))
	if what == "recovery code" {
		s.audit(c, models.AuditEntry{Action: models.AuditFactorChange, Actor: u.Name, Target: u.Name, Detail: "recovery code used to log in"})
	}
	s.endPendingLogin(ctx)
	return s.completeLogin(c, u.Identity(), p.Next)
}

// wrongSecondFactor answers a wrong code of a waiting login: the form
// again, or the login page once too many codes were wrong. The throttle
// refuses the account's next code until its delay has passed (unlike the
// password, the answer need not wait: it is refused without a check).
func (s *Server) wrongSecondFactor(c echo.Context, p pendingLogin, u models.User, what string) error {
	ctx := c.Request().Context()
	s.throttle.Fail(secondFactorThrottleKey(u.ID), s.now())
	s.log.Info("failed second factor", "user", u.Name, "ip", c.RealIP(), "request_id", requestID(c))
	s.audit(c, models.AuditEntry{Action: models.AuditLoginFailed, Target: u.Name, Detail: "second factor: wrong " + what, Result: "refused"})
	p.Failures++
	if p.Failures >= pendingLoginMaxFailures {
		s.endPendingLogin(ctx)
		s.flash(c, "error", tr(c, "factor.too_many"))
		return s.redirect(c, s.url("/login")+nextQuery(p.Next))
	}
	s.sm.Put(ctx, sessPendingFailures, p.Failures)
	msg := tr(c, "factor.wrong_code")
	if what == "recovery code" {
		msg = tr(c, "factor.wrong_recovery")
	}
	return s.renderSecondFactor(c, http.StatusUnauthorized, p, u, msg)
}
