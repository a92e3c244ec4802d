package handlers

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/views"
)

// Where the forms of an authenticator app being set up post to: the
// account page's section, or a login that must set up a second factor.
const (
	accountTOTPBase = "/account/totp"
	loginTOTPBase   = "/login/second-factor/totp"
	// totpQRSize is the width and height of the QR code image, in pixels.
	totpQRSize = 240
)

// secondFactorRoutes registers the second-factor step of the login (open:
// the session is not logged in yet), the account's own authenticator app
// (signedIn: any role) and the admin's factor reset and policy (admin).
func (s *Server) secondFactorRoutes(t routeTable) {
	none, viewer, admin := models.RoleNone, models.RoleViewer, models.RoleAdmin
	t.GET("/login/second-factor", none, s.secondFactorForm)
	t.POST("/login/second-factor", none, s.secondFactorSubmit)
	t.POST(loginTOTPBase+"/start", none, s.totpStart(s.loginEnrolee))
	t.GET(loginTOTPBase+"/qr.png", none, s.totpQR(s.loginEnrolee))
	t.POST(loginTOTPBase+"/confirm", none, s.totpConfirm(s.loginEnrolee))

	t.GET(accountTOTPBase, viewer, s.totpPage)
	t.POST(accountTOTPBase+"/start", viewer, s.totpStart(s.accountEnrolee))
	t.GET(accountTOTPBase+"/qr.png", viewer, s.totpQR(s.accountEnrolee))
	t.POST(accountTOTPBase+"/confirm", viewer, s.totpConfirm(s.accountEnrolee))
	t.POST(accountTOTPBase+"/disable", viewer, s.totpDisable)
	t.POST(accountTOTPBase+"/recovery-codes", viewer, s.recoveryCodesRenew)
	t.POST(accountTOTPBase+"/recovery-codes.txt", viewer, s.recoveryCodesDownload)

	t.POST("/users/:id/factors/reset", admin, s.factorsReset)
	t.POST("/users/second-factor", admin, s.secondFactorPolicy)
}

// enrolee is the account whose authenticator app a request sets up.
type enrolee struct {
	user  models.User
	base  string        // accountTOTPBase or loginTOTPBase
	login *pendingLogin // set while a login sets it up
}

// page is the path of the page the enrolee's set-up shows on.
func (e enrolee) page() string {
	if e.login != nil {
		return "/login/second-factor"
	}
	return accountTOTPBase
}

// enroleeFunc finds the enrolee of a request. When ok is false the
// request is answered already (with err, or a redirect).
type enroleeFunc func(c echo.Context) (e enrolee, ok bool, err error)

// accountEnrolee is the logged-in account.
func (s *Server) accountEnrolee(c echo.Context) (enrolee, bool, error) {
	u, err := s.currentAccount(c.Request().Context())
	if err != nil {
		return enrolee{}, false, err
	}
	return enrolee{user: u, base: accountTOTPBase}, true, nil
}

// loginEnrolee is the account of a waiting login that must set up a second
// factor first; a login whose account has one already must use it.
func (s *Server) loginEnrolee(c echo.Context) (enrolee, bool, error) {
	p, u, ok, err := s.pendingUser(c)
	if !ok {
		return enrolee{}, false, err
	}
	f, err := s.secondFactorsOf(c.Request().Context(), u.ID)
	if err != nil {
		return enrolee{}, false, err
	}
	if !p.Enrol || f.any() {
		return enrolee{}, false, s.redirect(c, s.url("/login/second-factor"))
	}
	return enrolee{user: u, base: loginTOTPBase, login: &p}, true, nil
}

// enroleePage returns the enrolee to the page their set-up continues on.
func (s *Server) enroleePage(c echo.Context, e enrolee, status int, msg string) error {
	if e.login != nil {
		return s.renderSecondFactor(c, status, *e.login, e.user, msg)
	}
	return s.renderTOTPPage(c, status, e.user, msg)
}

// totpPage is GET /account/totp.
func (s *Server) totpPage(c echo.Context) error {
	u, err := s.currentAccount(c.Request().Context())
	if err != nil {
		return err
	}
	return s.renderTOTPPage(c, http.StatusOK, u, "")
}

// renderTOTPPage renders the account's two-factor page with msg as the
// error of its last form.
func (s *Server) renderTOTPPage(c echo.Context, status int, u models.User, msg string) error {
	v, err := s.totpView(c, u)
	if err != nil {
		return err
	}
	v.Error = msg
	return s.render(c, status, views.TOTPPage(v), nil)
}

// totpView is the state of u's authenticator app for the account page
// (and its merge into /account).
func (s *Server) totpView(c echo.Context, u models.User) (views.TOTPView, error) {
	ctx := c.Request().Context()
	f, err := s.secondFactorsOf(ctx, u.ID)
	if err != nil {
		return views.TOTPView{}, err
	}
	required, err := s.factors.Required(ctx)
	if err != nil {
		return views.TOTPView{}, err
	}
	return views.TOTPView{Base: accountTOTPBase, Enabled: f.TOTP, PendingSecret: f.PendingSecret,
		RecoveryCodes: f.RecoveryCodes, Required: required}, nil
}

// totpStart makes a new secret for the enrolee's authenticator app.
func (s *Server) totpStart(who enroleeFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, ok, err := who(c)
		if !ok {
			return err
		}
		if _, err := s.factors.StartTOTP(c.Request().Context(), e.user.ID); errors.Is(err, repo.ErrDuplicate) {
			s.flash(c, "info", tr(c, "factor.already"))
		} else if err != nil {
			return err
		}
		return s.redirect(c, s.url(e.page()))
	}
}

// totpQR is the QR code of the secret being set up, as a PNG.
func (s *Server) totpQR(who enroleeFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, ok, err := who(c)
		if !ok {
			return err
		}
		f, err := s.secondFactorsOf(c.Request().Context(), e.user.ID)
		if err != nil {
			return err
		}
		if f.PendingSecret == "" {
			return echo.NewHTTPError(http.StatusNotFound, tr(c, "factor.none_pending"))
		}
		img, err := services.TOTPQRCode(f.PendingSecret, e.user.Name, totpQRSize)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.Blob(http.StatusOK, "image/png", img)
	}
}

// codeInput is a form with an authenticator code.
type codeInput struct {
	Code string `form:"code"`
}

// totpConfirm turns the enrolee's authenticator app on with a first code
// and shows the new recovery codes, once. A login that had to set one up is
// logged in here.
func (s *Server) totpConfirm(who enroleeFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		e, ok, err := who(c)
		if !ok {
			return err
		}
		var in codeInput
		if err := bindForm(c, &in); err != nil {
			return err
		}
		key := secondFactorThrottleKey(e.user.ID)
		if wait := s.throttle.Wait(key, s.now()); wait > 0 {
			return s.enroleePage(c, e, http.StatusTooManyRequests, tr(c, "factor.throttled", "Wait", seconds(c, wait)))
		}
		codes, err := s.factors.ConfirmTOTP(ctx, e.user.ID, in.Code, s.now())
		switch {
		case errors.Is(err, services.ErrWrongCode):
			s.throttle.Fail(key, s.now())
			return s.enroleePage(c, e, http.StatusUnprocessableEntity,
				tr(c, "factor.no_match"))
		case errors.Is(err, repo.ErrNotFound):
			s.flash(c, "warning", tr(c, "factor.nothing_pending"))
			return s.redirect(c, s.url(e.page()))
		case err != nil:
			return err
		}
		s.throttle.Reset(key)
		s.audit(c, models.AuditEntry{Action: models.AuditFactorChange, Actor: e.user.Name, Target: e.user.Name, Detail: "authenticator app turned on"})
		next := s.url(accountTOTPBase)
		if e.login != nil {
			s.endPendingLogin(ctx)
			if err := s.startSession(c, e.user.Identity()); err != nil {
				return err
			}
			next = s.safeNext(e.login.Next)
		}
		return s.render(c, http.StatusOK, views.RecoveryCodesPage(views.RecoveryCodesView{
			Codes: codes, Download: accountTOTPBase + "/recovery-codes.txt", Continue: next}), nil)
	}
}

// proofInput is a form that changes the account's second factors: it needs
// a current authenticator code or the password.
type proofInput struct {
	Proof string `form:"proof"`
}

// checkProof reports whether proof is a current code of u's authenticator
// app or u's password; wrong ones count in the throttle.
func (s *Server) checkProof(c echo.Context, u models.User) (ok bool, msg string, err error) {
	var in proofInput
	if err := bindForm(c, &in); err != nil {
		return false, "", err
	}
	key := secondFactorThrottleKey(u.ID)
	if wait := s.throttle.Wait(key, s.now()); wait > 0 {
		return false, tr(c, "factor.throttled_tries", "Wait", seconds(c, wait)), nil
	}
	err = s.factors.CheckTOTP(c.Request().Context(), u.ID, in.Proof, s.now())
	if err != nil && !errors.Is(err, services.ErrWrongCode) {
		return false, "", err
	}
	if err == nil || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(in.Proof)) == nil {
		s.throttle.Reset(key)
		return true, "", nil
	}
	s.throttle.Fail(key, s.now())
	return false, tr(c, "factor.bad_proof"), nil
}

// totpDisable is POST /account/totp/disable: it turns the authenticator
// app off (and the recovery codes, unless another second factor remains),
// unless the admin requires a second factor and this is the last one.
func (s *Server) totpDisable(c echo.Context) error {
	ctx := c.Request().Context()
	e, ok, err := s.accountEnrolee(c)
	if !ok {
		return err
	}
	f, err := s.secondFactorsOf(ctx, e.user.ID)
	if err != nil {
		return err
	}
	if !f.TOTP {
		return s.redirect(c, s.url(accountTOTPBase))
	}
	good, msg, err := s.checkProof(c, e.user)
	if err != nil {
		return err
	}
	if !good {
		s.audit(c, models.AuditEntry{Action: models.AuditFactorChange, Target: e.user.Name, Detail: "turn off authenticator app: wrong code or password", Result: "refused"})
		return s.renderTOTPPage(c, http.StatusUnauthorized, e.user, msg)
	}
	required, err := s.factors.Required(ctx)
	if err != nil {
		return err
	}
	others := f.Passkeys > 0
	if required && !others {
		return s.renderTOTPPage(c, http.StatusConflict, e.user,
			tr(c, "factor.keep_one"))
	}
	if err := s.factors.TurnOffTOTP(ctx, e.user.ID, !others); err != nil {
		return err
	}
	s.audit(c, models.AuditEntry{Action: models.AuditFactorChange, Target: e.user.Name, Detail: "authenticator app turned off"})
	s.flash(c, "success", tr(c, "factor.turned_off"))
	return s.redirect(c, s.url(accountTOTPBase))
}

// recoveryCodesRenew is POST /account/totp/recovery-codes: new recovery
// codes replace the old ones and are shown once.
func (s *Server) recoveryCodesRenew(c echo.Context) error {
	e, ok, err := s.accountEnrolee(c)
	if !ok {
		return err
	}
	f, err := s.secondFactorsOf(c.Request().Context(), e.user.ID)
	if err != nil {
		return err
	}
	if !f.any() {
		return s.renderTOTPPage(c, http.StatusConflict, e.user, tr(c, "factor.codes_need_factor"))
	}
	good, msg, err := s.checkProof(c, e.user)
	if err != nil {
		return err
	}
	if !good {
		return s.renderTOTPPage(c, http.StatusUnauthorized, e.user, msg)
	}
	codes, err := s.factors.NewRecoveryCodes(c.Request().Context(), e.user.ID)
	if err != nil {
		return err
	}
	s.audit(c, models.AuditEntry{Action: models.AuditFactorChange, Target: e.user.Name, Detail: "new recovery codes"})
	return s.render(c, http.StatusOK, views.RecoveryCodesPage(views.RecoveryCodesView{
		Codes: codes, Download: accountTOTPBase + "/recovery-codes.txt", Continue: s.url(accountTOTPBase)}), nil)
}

// recoveryCodeForm is what a recovery code looks like.
var recoveryCodeForm = regexp.MustCompile(`^[a-z2-7]{4}(-[a-z2-7]{4}){3}$`)

// recoveryCodesDownload is POST /account/totp/recovery-codes.txt: the codes
// the page just showed (sent back by its form; nothing is stored in the
// clear to read them from) as a text file.
func (s *Server) recoveryCodesDownload(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	codes := form["code"]
	if len(codes) == 0 || len(codes) > services.RecoveryCodeCount {
		return echo.NewHTTPError(http.StatusBadRequest, tr(c, "factor.no_download"))
	}
	for _, code := range codes {
		if !recoveryCodeForm.MatchString(code) {
			return echo.NewHTTPError(http.StatusBadRequest, tr(c, "factor.not_a_code"))
		}
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="bangui-recovery-codes.txt"`)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(views.RecoveryCodesText(c.Request().Context(), codes)))
}

// factorsReset is POST /users/:id/factors/reset: an admin removes a user's
// second factors (a lost phone); the user logs in with the password alone
// until they set up new ones, or must set one up at once when the admin
// requires it.
func (s *Server) factorsReset(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "factor.no_user"))
	}
	u, err := s.users.Get(ctx, id)
	if errors.Is(err, repo.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "factor.no_user"))
	}
	if err != nil {
		return err
	}
	if err := s.factors.Reset(ctx, u.ID); err != nil {
		return err
	}
	s.audit(c, models.AuditEntry{Action: models.AuditFactorChange, Target: u.Name, Detail: "second factors reset by an admin"})
	s.flash(c, "success", tr(c, "factor.removed", "Name", u.Name))
	return s.redirect(c, s.url("/users"))
}

// policyInput is the admin's second-factor setting.
type policyInput struct {
	Require checkbox `form:"require"`
}

// secondFactorPolicy is POST /users/second-factor: whether every account
// must have a second factor.
func (s *Server) secondFactorPolicy(c echo.Context) error {
	ctx := c.Request().Context()
	var in policyInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	on := bool(in.Require)
	if err := s.factors.SetRequired(ctx, on); err != nil {
		return err
	}
	detail := "second factor no longer required"
	msg := tr(c, "factor.not_required")
	if on {
		detail = "second factor required for every account"
		msg = tr(c, "factor.now_required")
	}
	s.audit(c, models.AuditEntry{Action: models.AuditFactorChange, Detail: detail})
	s.flash(c, "success", msg)
	return s.redirect(c, s.url("/users"))
}

// totpAccountSection is the two-factor section of /account.
func (s *Server) totpAccountSection(c echo.Context, u models.User) (templ.Component, error) {
	v, err := s.totpView(c, u)
	if err != nil {
		return nil, err
	}
	return views.TOTPSection(v), nil
}
