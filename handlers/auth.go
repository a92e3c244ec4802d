package handlers

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/services"
	"bangui/views"
)

func (s *Server) loginForm(c echo.Context) error {
	if identityOf(c.Request().Context()).LoggedIn() {
		return c.Redirect(http.StatusSeeOther, s.safeNext(c.QueryParam("next")))
	}
	return s.render(c, http.StatusOK, views.LoginPage("", c.QueryParam("next")), nil)
}

// loginInput is the login form.
type loginInput struct {
	Password string `form:"password"`
	Next     string `form:"next"` // where to go after login
}

func (s *Server) loginSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	ip := c.RealIP()
	key := throttleKey(ip)
	var in loginInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	next := in.Next
	if wait := s.throttle.Wait(key, s.now()); wait > 0 {
		msg := fmt.Sprintf("Too many failed attempts. Wait %s before trying again.", seconds(wait))
		return s.render(c, http.StatusTooManyRequests, views.LoginPage(msg, next), nil)
	}
	ok, err := services.CheckPassword(ctx, s.settings, in.Password)
	if err != nil {
		return err
	}
	if !ok {
		delay := s.throttle.Fail(key, s.now())
		s.log.Info("failed login", "ip", ip, "request_id", requestID(c))
		// Answer only after the delay, so one client cannot guess quickly.
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		msg := fmt.Sprintf("Wrong password. Each further failure makes you wait longer (next wait: %s).", seconds(services.LoginDelay(2)))
		if delay > 500*time.Millisecond {
			msg = fmt.Sprintf("Wrong password. Each further failure makes you wait longer (this one: %s).", seconds(delay))
		}
		return s.render(c, http.StatusUnauthorized, views.LoginPage(msg, next), nil)
	}
	s.throttle.Reset(key)
	return s.afterPassword(c, models.MasterAdmin, next)
}

// afterPassword runs once the password of id is right: it finishes the
// login, or (for an account with a second factor) asks for that first.
func (s *Server) afterPassword(c echo.Context, id models.Identity, next string) error {
	return s.completeLogin(c, id, next)
}

// completeLogin logs the session in as id, with a new session token and
// CSRF token, and redirects to next.
func (s *Server) completeLogin(c echo.Context, id models.Identity, next string) error {
	ctx := c.Request().Context()
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.logIn(ctx, id)
	s.sm.SetDeadline(ctx, s.now().Add(s.panelSettings().SessionDuration))
	s.rotateCSRF(ctx)
	// Store the session now, so a failure (a full disk) is the answer
	// instead of a redirect to a page that would ask for the password again.
	if _, _, err := s.sm.Commit(ctx); err != nil {
		return fmt.Errorf("store the session: %w", err)
	}
	return s.redirect(c, s.safeNext(next))
}

func (s *Server) logout(c echo.Context) error {
	ctx := c.Request().Context()
	if err := s.sm.RenewToken(ctx); err != nil {
		return err
	}
	s.audit(c, models.AuditEntry{Action: models.AuditLogout})
	s.logOut(ctx)
	s.sm.SetDeadline(ctx, s.now().Add(anonymousLifetime))
	s.rotateCSRF(ctx)
	s.flash(c, "info", "You have been logged out.")
	return s.redirect(c, s.url("/login"))
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

func seconds(d time.Duration) string {
	v := d.Seconds()
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f s", v)
	}
	return fmt.Sprintf("%.1f s", v)
}
