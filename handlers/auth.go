package handlers

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/views"
)

func (s *Server) loginForm(c echo.Context) error {
	if identityOf(c.Request().Context()).LoggedIn() {
		return c.Redirect(http.StatusSeeOther, s.safeNext(c.QueryParam("next")))
	}
	return s.renderLogin(c, http.StatusOK, views.LoginForm{Next: c.QueryParam("next")})
}

// renderLogin renders the login page; while the master password has just
// become the account admin's, it says so and fills in that name.
func (s *Server) renderLogin(c echo.Context, status int, f views.LoginForm) error {
	if s.accounts.AdminNotice(c.Request().Context()) {
		f.AdminNotice = true
		if f.Username == "" {
			f.Username = repo.MasterAdminName
		}
	}
	return s.render(c, status, views.LoginPage(f), nil)
}

// loginInput is the login form.
type loginInput struct {
	Username string `form:"username"`
	Password string `form:"password"`
	Next     string `form:"next"` // where to go after login
}

func (s *Server) loginSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	ip := c.RealIP()
	var in loginInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	client, account := throttleKey(ip), strings.ToLower(strings.TrimSpace(in.Username))
	form := views.LoginForm{Next: in.Next, Username: in.Username}
	if wait := max(s.throttle.Wait(client, s.now()), s.accountThrottle.Wait(account, s.now())); wait > 0 {
		form.Error = tr(c, "login.throttled", "Wait", seconds(c, wait))
		return s.renderLogin(c, http.StatusTooManyRequests, form)
	}
	user, ok, err := s.accounts.Authenticate(ctx, in.Username, in.Password)
	if err != nil {
		return err
	}
	if !ok {
		delay := max(s.throttle.Fail(client, s.now()), s.accountThrottle.Fail(account, s.now()))
		s.log.Info("failed login", "ip", ip, "user", in.Username, "request_id", requestID(c))
		s.audit(c, models.AuditEntry{Action: models.AuditLoginFailed, Detail: "user name: " + in.Username, Result: "wrong user name or password"})
		// Answer only after the delay, so one client cannot guess quickly.
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		form.Error = tr(c, "login.wrong_next", "Wait", seconds(c, services.LoginDelay(2)))
		if delay > 500*time.Millisecond {
			form.Error = tr(c, "login.wrong_this", "Wait", seconds(c, delay))
		}
		return s.renderLogin(c, http.StatusUnauthorized, form)
	}
	s.throttle.Reset(client)
	s.accountThrottle.Reset(account)
	return s.afterPassword(c, user.Identity(), in.Next)
}

// afterPassword runs once the password of id is right: it finishes the
// login, or, for an account with a second factor, asks for that first
// (the session waits, not logged in, for pendingLoginLifetime). When the
// admin requires a second factor and the account has none, the account
// sets one up first.
func (s *Server) afterPassword(c echo.Context, id models.Identity, next string) error {
	ctx := c.Request().Context()
	s.endPendingLogin(ctx) // a login half done before, perhaps as someone else
	f, err := s.secondFactorsOf(ctx, id.UserID)
	if err != nil {
		return err
	}
	required, err := s.factors.Required(ctx)
	if err != nil {
		return err
	}
	if !f.any() && !required {
		return s.completeLogin(c, id, next)
	}
	return s.startPendingLogin(c, id, next, !f.any())
}

// Session keys of a login, shown in the account's list of sessions.
const (
	sessLoginAt    = "login_at"    // unix seconds
	sessLoginIP    = "login_ip"    // the client address
	sessLoginAgent = "login_agent" // the browser's User-Agent, shortened
)

// completeLogin logs the session in as id and redirects to next.
func (s *Server) completeLogin(c echo.Context, id models.Identity, next string) error {
	if err := s.startSession(c, id); err != nil {
		return err
	}
	return s.redirect(c, s.safeNext(next))
}

// startSession logs the session in as id, with a new session token and
// CSRF token, and stores it.
func (s *Server) startSession(c echo.Context, id models.Identity) error {
	ctx := c.Request().Context()
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.logIn(ctx, id)
	s.sm.Put(ctx, sessLoginAt, s.now().Unix())
	s.sm.Put(ctx, sessLoginIP, c.RealIP())
	s.sm.Put(ctx, sessLoginAgent, truncate(c.Request().UserAgent(), 200))
	s.sm.SetDeadline(ctx, s.now().Add(s.panelSettings().SessionDuration))
	s.rotateCSRF(ctx)
	// Store the session now, so a failure (a full disk) is the answer
	// instead of a redirect to a page that would ask for the password again.
	if _, _, err := s.sm.Commit(ctx); err != nil {
		return fmt.Errorf("store the session: %w", err)
	}
	c.SetRequest(c.Request().WithContext(withIdentity(ctx, id)))
	s.audit(c, models.AuditEntry{Action: models.AuditLogin})
	return nil
}

func (s *Server) logout(c echo.Context) error {
	ctx := c.Request().Context()
	s.audit(c, models.AuditEntry{Action: models.AuditLogout})
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.logOut(ctx)
	for _, k := range []string{sessLoginAt, sessLoginIP, sessLoginAgent} {
		s.sm.Remove(ctx, k)
	}
	s.sm.SetDeadline(ctx, s.now().Add(anonymousLifetime))
	s.rotateCSRF(ctx)
	s.flash(c, "info", tr(c, "login.logged_out"))
	return s.redirect(c, s.url("/login"))
}

// truncate shortens s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// throttleKey is the client the login throttle counts failures for: the
// IPv4 address, or the /64 network of an IPv6 address, since one host
// usually owns a whole /64 and could otherwise start afresh from each of its
// addresses.
func throttleKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// safeNext returns next when it is a relative path inside the panel, else
// the dashboard: the login form must not redirect anywhere else.
func (s *Server) safeNext(next string) string {
	home := s.url("/")
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return home
	}
	base := s.cfg.BasePath
	if base != "" && u.Path != base && !strings.HasPrefix(u.Path, base+"/") {
		return home
	}
	switch s.stripBase(u.Path) {
	case "/login", "/logout", "/setup", "/setup/probe":
		return home
	}
	return next
}

func seconds(c echo.Context, d time.Duration) string {
	return lang.From(c.Request().Context()).Seconds(d)
}
