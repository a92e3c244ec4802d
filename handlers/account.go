package handlers

import (
	"cmp"
	"errors"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/views"
)

// accountRoutes registers /account, every user's own page.
func (s *Server) accountRoutes(t routeTable) {
	t.GET("/account", models.RoleViewer, s.accountPage)
	t.POST("/account/password", models.RoleViewer, s.accountPassword)
	t.POST("/account/sessions/end", models.RoleViewer, s.accountEndSession)
	t.POST("/account/sessions/end-all", models.RoleViewer, s.accountEndAll)
	t.POST("/account/language", models.RoleViewer, s.accountLanguage)
}

// accountSection renders one section of /account that another feature
// adds for the logged-in account u (API tokens, second factors). Such a
// feature appends its section to Server.accountSections where it
// registers its routes; the page shows them in that order, after the
// password and the sessions.
type accountSection func(c echo.Context, u models.User) (templ.Component, error)

func (s *Server) accountPage(c echo.Context) error {
	return s.renderAccount(c, http.StatusOK, views.UserForm{})
}

// renderAccount renders /account with the change-password form as given.
func (s *Server) renderAccount(c echo.Context, status int, pw views.UserForm) error {
	ctx := c.Request().Context()
	u, err := s.currentAccount(ctx)
	if err != nil {
		return err
	}
	rows, err := s.accounts.Sessions(ctx, u.ID)
	if err != nil {
		return err
	}
	p := views.AccountPage{User: u, Password: pw}
	current := repo.SessionID(s.sm.Token(ctx))
	for _, r := range rows {
		p.Sessions = append(p.Sessions, s.accountSession(r, current))
	}
	for _, section := range s.accountSections {
		comp, err := section(c, u)
		if err != nil {
			return err
		}
		p.Sections = append(p.Sections, comp)
	}
	return s.render(c, status, views.AccountPageView(p), nil)
}

// accountSession describes one stored session from the values its login
// put into it.
func (s *Server) accountSession(r models.Session, current string) views.AccountSession {
	v := views.AccountSession{ID: r.Token, Current: r.Token == current, Expires: time.Unix(r.Expiry, 0)}
	_, values, err := s.sm.Codec.Decode(r.Data)
	if err != nil {
		return v
	}
	if at, ok := values[sessLoginAt].(int64); ok {
		v.LoginAt = time.Unix(at, 0)
	}
	v.Client, _ = values[sessLoginIP].(string)
	v.Agent, _ = values[sessLoginAgent].(string)
	return v
}

// passwordInput is the change-password form.
type passwordInput struct {
	Current string `form:"current_password"`
	New     string `form:"password"`
	Confirm string `form:"password_confirm"`
}

func (s *Server) accountPassword(c echo.Context) error {
	ctx := c.Request().Context()
	var in passwordInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	id := identityOf(ctx)
	err := s.accounts.ChangeOwnPassword(ctx, id.UserID, in.Current, in.New, in.Confirm, repo.SessionID(s.sm.Token(ctx)))
	var verr *services.ValidationError
	if errors.As(err, &verr) {
		return s.renderAccount(c, http.StatusUnprocessableEntity, views.UserForm{Errors: verr.In(langOf(c))})
	}
	if err != nil {
		return err
	}
	// A new credential, a new session token.
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.audit(c, models.AuditEntry{Action: models.AuditUserChange, Target: id.Name, Detail: "own password"})
	s.flash(c, "success", tr(c, "account.password_changed"))
	return s.redirect(c, s.url("/account"))
}

// accountLanguage stores the account's language: one of lang.Codes, or ""
// to follow the browser. The answer is already in the new language.
func (s *Server) accountLanguage(c echo.Context) error {
	ctx := c.Request().Context()
	code := c.FormValue("language")
	if !lang.Valid(code) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, tr(c, "account.language_unknown"))
	}
	id := identityOf(ctx)
	if err := s.users.SetLanguage(ctx, id.UserID, code); err != nil {
		return err
	}
	s.audit(c, models.AuditEntry{Action: models.AuditUserChange, Target: id.Name, Detail: "own language: " + cmp.Or(code, "browser")})
	c.SetRequest(c.Request().WithContext(lang.With(ctx, lang.Choose(code, c.Request().Header.Get("Accept-Language")))))
	s.flash(c, "success", tr(c, "account.language_saved"))
	return s.redirect(c, s.url("/account"))
}

func (s *Server) accountEndSession(c echo.Context) error {
	ctx := c.Request().Context()
	id := identityOf(ctx)
	ended, err := s.accounts.EndSession(ctx, id.UserID, c.FormValue("session"))
	if err != nil {
		return err
	}
	if ended {
		s.audit(c, models.AuditEntry{Action: models.AuditLogout, Target: id.Name, Detail: "ended one of their other sessions"})
		s.flash(c, "success", tr(c, "account.session_ended"))
	} else {
		s.flash(c, "info", tr(c, "account.session_gone"))
	}
	return s.redirect(c, s.url("/account"))
}

// accountEndAll ends every session of the account, this one included.
func (s *Server) accountEndAll(c echo.Context) error {
	ctx := c.Request().Context()
	id := identityOf(ctx)
	if _, err := s.accounts.EndAllSessions(ctx, id.UserID, ""); err != nil {
		return err
	}
	s.audit(c, models.AuditEntry{Action: models.AuditLogout, Target: id.Name, Detail: "signed out everywhere"})
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.logOut(ctx)
	s.rotateCSRF(ctx)
	s.sm.SetDeadline(ctx, s.now().Add(anonymousLifetime))
	s.flash(c, "info", tr(c, "account.signed_out_all"))
	return s.redirect(c, s.url("/login"))
}
