package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/repo"
	"bangui/views"
)

// Logging in with a passkey: alone (usernameless, the passkey verifies its
// user, so it is two factors in one) or as the second factor after the
// password of an account that has passkeys. Both begin with a JSON request
// (the options for navigator.credentials.get) and finish with a plain form
// POST carrying the browser's answer, which completeLogin answers as it
// answers a password.

// passkeyLoginBegin answers the options of a usernameless login. Its
// challenge waits in the visitor's session, so a visitor without one gets
// a session row: that row lives only passkeyTimeout, and one address can
// start such a login only as often as the login throttle lets a failure
// through (at most one every 5 s when it keeps trying).
func (s *Server) passkeyLoginBegin(c echo.Context) error {
	ctx := c.Request().Context()
	now := s.now()
	key := throttleKey(c.RealIP())
	if wait := max(s.throttle.Wait(key, now), s.throttle.Wait(passkeyBeginKey(key), now)); wait > 0 {
		return passkeyError(c, http.StatusTooManyRequests, tr(c, "passkey.throttled", "Wait", seconds(c, wait)))
	}
	rp, err := s.relyingParty(c)
	if err != nil {
		return passkeyError(c, http.StatusConflict, trErr(c, err))
	}
	assertion, data, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return fmt.Errorf("passkeys: begin login: %w", err)
	}
	if err := s.startCeremony(ctx, passkeyCeremony{Purpose: ceremonyLogin, Data: *data}); err != nil {
		return err
	}
	if !identityOf(ctx).LoggedIn() {
		s.throttle.Fail(passkeyBeginKey(key), now)
		s.sm.SetDeadline(ctx, now.Add(passkeyTimeout))
	}
	return passkeyJSON(c, http.StatusOK, assertion)
}

// passkeyBeginKey is the login throttle's key for the usernameless logins
// begun from the client key.
func passkeyBeginKey(key string) string { return "passkey-begin:" + key }

// passkeyLoginFinish checks a usernameless login's answer and logs its
// account in.
func (s *Server) passkeyLoginFinish(c echo.Context) error {
	ctx := c.Request().Context()
	next := c.FormValue("next")
	refuse := func(status int, msg string) error {
		return s.render(c, status, views.LoginPage(views.LoginForm{Error: msg, Next: next}), nil)
	}
	if wait := s.throttle.Wait(throttleKey(c.RealIP()), s.now()); wait > 0 {
		return refuse(http.StatusTooManyRequests, tr(c, "login.throttled", "Wait", seconds(c, wait)))
	}
	pc, ok := s.takeCeremony(ctx, ceremonyLogin)
	if !ok {
		return refuse(http.StatusConflict, msgNoCeremony.In(langOf(c)))
	}
	rp, err := s.relyingParty(c)
	if err != nil {
		return refuse(http.StatusConflict, trErr(c, err))
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(c.FormValue("credential")))
	if err != nil {
		return refuse(http.StatusBadRequest, tr(c, "acct.passkey_unreadable", "Reason", ceremonyDetail(err)))
	}
	var acct *passkeyAccount
	findAccount := func(_, handle []byte) (webauthn.User, error) {
		uid, err := s.passkeys.UserOfHandle(ctx, handle)
		if err != nil {
			return nil, err
		}
		u, err := s.users.Get(ctx, uid)
		if err != nil {
			return nil, err
		}
		if u.Disabled {
			return nil, errAccountDisabled
		}
		if acct, err = s.loadPasskeyAccount(ctx, u, rp.Config.RPID); err != nil {
			return nil, err
		}
		return acct, nil
	}
	_, cred, err := rp.ValidatePasskeyLogin(findAccount, pc.Data, parsed)
	if err == nil {
		err = s.recordPasskeyUse(ctx, acct, cred)
	}
	if err != nil {
		return s.passkeyLoginFailed(c, acct, err, func(msg string) error { return refuse(http.StatusUnauthorized, msg) })
	}
	s.throttle.Reset(throttleKey(c.RealIP()))
	s.throttle.Reset(passkeyBeginKey(throttleKey(c.RealIP())))
	return s.completeLogin(c, acct.user.Identity(), next)
}

// errAccountDisabled refuses a passkey of a disabled account.
var errAccountDisabled = errors.New("the account is disabled")

// errPasskeyCloned refuses a passkey whose signature counter went back:
// another copy of its key is in use.
var errPasskeyCloned = errors.New("the passkey's counter went backwards, so a copy of it may exist")

// recordPasskeyUse stores what the login taught about the passkey, and
// refuses one that looks copied.
func (s *Server) recordPasskeyUse(ctx context.Context, acct *passkeyAccount, cred *webauthn.Credential) error {
	k, ok := acct.keyOf(cred.ID)
	if !ok {
		return errors.New("unknown passkey")
	}
	warned := k.CloneWarning
	k.SignCount, k.Flags, k.CloneWarning = int64(cred.Authenticator.SignCount), int64(cred.Flags.ProtocolValue()), cred.Authenticator.CloneWarning
	if err := s.passkeys.RecordUse(ctx, k); err != nil {
		return err
	}
	if k.CloneWarning && !warned {
		return errPasskeyCloned
	}
	return nil
}

// passkeyLoginFailed counts a failed passkey login against the client,
// logs and audits it, and answers through refuse.
func (s *Server) passkeyLoginFailed(c echo.Context, acct *passkeyAccount, err error, refuse func(string) error) error {
	ip := c.RealIP()
	s.throttle.Fail(throttleKey(ip), s.now())
	name := ""
	if acct != nil {
		name = acct.user.Name
	}
	s.log.Info("failed passkey login", "ip", ip, "user", name, "err", err, "request_id", requestID(c))
	s.audit(c, models.AuditEntry{Action: models.AuditLoginFailed, Target: name, Detail: "passkey: " + err.Error(), Result: "refused"})
	switch {
	case errors.Is(err, repo.ErrNotFound):
		return refuse(tr(c, "passkey.unknown"))
	case errors.Is(err, errAccountDisabled):
		return refuse(tr(c, "passkey.disabled"))
	case errors.Is(err, errPasskeyCloned):
		return refuse(tr(c, "acct.passkey_cloned"))
	}
	return refuse(tr(c, "acct.passkey_not_accepted", "Reason", ceremonyDetail(err)))
}

// passkeySecondFactorBegin answers the options for the passkeys of the
// account whose login waits for its second factor. Without a waiting
// login it sends the browser to the login page, as every second-factor
// route does (passkeys.js follows).
func (s *Server) passkeySecondFactorBegin(c echo.Context) error {
	ctx := c.Request().Context()
	_, u, ok, err := s.pendingUser(c)
	if !ok {
		return err
	}
	if wait := s.throttle.Wait(secondFactorThrottleKey(u.ID), s.now()); wait > 0 {
		return passkeyError(c, http.StatusTooManyRequests, tr(c, "login.throttled", "Wait", seconds(c, wait)))
	}
	rp, err := s.relyingParty(c)
	if err != nil {
		return passkeyError(c, http.StatusConflict, trErr(c, err))
	}
	acct, err := s.loadPasskeyAccount(ctx, u, rp.Config.RPID)
	if err != nil {
		return err
	}
	if len(acct.keys) == 0 {
		return passkeyError(c, http.StatusConflict, tr(c, "passkey.other_address"))
	}
	assertion, data, err := rp.BeginLogin(acct, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return fmt.Errorf("passkeys: begin second factor: %w", err)
	}
	if err := s.startCeremony(ctx, passkeyCeremony{Purpose: ceremonySecondFactor, UserID: u.ID, Data: *data}); err != nil {
		return err
	}
	return passkeyJSON(c, http.StatusOK, assertion)
}

// passkeySecondFactorFinish checks the passkey of the waiting login's
// account and completes its login; a failure counts against the account
// as a wrong code does.
func (s *Server) passkeySecondFactorFinish(c echo.Context) error {
	ctx := c.Request().Context()
	p, u, ok, err := s.pendingUser(c)
	if !ok {
		return err
	}
	refuse := func(msg string) error { return s.renderSecondFactor(c, http.StatusUnauthorized, p, u, msg) }
	if wait := s.throttle.Wait(secondFactorThrottleKey(u.ID), s.now()); wait > 0 {
		return s.renderSecondFactor(c, http.StatusTooManyRequests, p, u,
			tr(c, "login.throttled", "Wait", seconds(c, wait)))
	}
	f, refused, err := s.finishCeremony(c, ceremonySecondFactor, u)
	if err != nil {
		return err
	}
	if refused != "" {
		return refuse(refused)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(c.FormValue("credential")))
	if err != nil {
		return refuse(tr(c, "acct.passkey_unreadable", "Reason", ceremonyDetail(err)))
	}
	cred, err := f.rp.ValidateLogin(f.acct, f.data, parsed)
	if err == nil {
		err = s.recordPasskeyUse(ctx, f.acct, cred)
	}
	if err != nil {
		s.throttle.Fail(secondFactorThrottleKey(u.ID), s.now())
		return s.passkeyLoginFailed(c, f.acct, err, refuse)
	}
	s.throttle.Reset(secondFactorThrottleKey(u.ID))
	s.endPendingLogin(ctx)
	return s.completeLogin(c, u.Identity(), p.Next)
}
