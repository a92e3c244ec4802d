package handlers

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// ContentSecurityPolicy allows only our own scripts, styles and images:
// no inline code, no third-party hosts, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		return next(c)
	}
}

func (s *Server) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogRemoteIP: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			s.log.Debug("request", "method", v.Method, "uri", v.URI, "status", v.Status,
				"latency", v.Latency, "ip", v.RemoteIP, "request_id", v.RequestID)
			return nil
		},
	})
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

type sessionLoadedKey struct{}

// hasSession reports whether loadSession ran for this request.
func hasSession(ctx context.Context) bool {
	return ctx.Value(sessionLoadedKey{}) != nil
}

// loadSession loads the scs session named by the cookie and saves it once,
// just before the response is written, with a cookie that is Secure whenever
// the browser reached us over HTTPS (directly or through a trusted proxy).
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		c.Response().Header().Add("Vary", "Cookie")
		var token string
		if ck, err := req.Cookie(cookieName); err == nil {
			token = ck.Value
		}
		ctx, err := s.sm.Load(req.Context(), token)
		if err != nil {
			return fmt.Errorf("load session: %w", err)
		}
		ctx = context.WithValue(ctx, sessionLoadedKey{}, true)
		c.SetRequest(req.WithContext(ctx))
		saved := false
		save := func() {
			if saved {
				return
			}
			saved = true
			s.saveSession(c)
		}
		c.Response().Before(save)
		if err := next(c); err != nil {
			c.Error(err)
		}
		if !c.Response().Committed {
			save()
		}
		return nil
	}
}

func (s *Server) saveSession(c echo.Context) {
	ctx := c.Request().Context()
	secure := c.Scheme() == "https"
	path := s.cfg.BasePath + "/"
	switch s.sm.Status(ctx) {
	case scs.Modified:
		token, expiry, err := s.sm.Commit(ctx)
		if err != nil {
			s.log.Error("saving session failed", "err", err, "request_id", requestID(c))
			return
		}
		http.SetCookie(c.Response(), &http.Cookie{
			Name: cookieName, Value: token, Path: path, HttpOnly: true, Secure: secure,
			SameSite: http.SameSiteLaxMode, Expires: expiry.Add(time.Second).Truncate(time.Second),
			MaxAge: int(time.Until(expiry).Seconds()) + 1,
		})
	case scs.Destroyed:
		http.SetCookie(c.Response(), &http.Cookie{
			Name: cookieName, Value: "", Path: path, HttpOnly: true, Secure: secure,
			SameSite: http.SameSiteLaxMode, Expires: time.Unix(1, 0), MaxAge: -1,
		})
	}
}

// setupGuard sends every page to /setup until setup is complete, and keeps
// /setup closed afterwards.
func (s *Server) setupGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := s.stripBase(c.Path())
		onSetup := p == "/setup" || p == "/setup/probe"
		if s.isSetupDone(c.Request().Context()) {
			if !onSetup {
				return next(c)
			}
			if c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, s.url("/login"))
			}
			return echo.NewHTTPError(http.StatusConflict, "Setup has already been completed; it cannot be run again.")
		}
		if onSetup {
			return next(c)
		}
		return s.redirect(c, s.url("/setup"))
	}
}

func (s *Server) isSetupDone(ctx context.Context) bool {
	if s.setupDone.Load() {
		return true
	}
	done, err := s.setup.Done(ctx)
	if err != nil {
		s.log.Warn("reading setup state failed", "err", err)
		return false
	}
	if done {
		s.setupDone.Store(true)
	}
	return done
}

// requireAuth lets only logged-in sessions through.
func (s *Server) requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.sm.GetBool(c.Request().Context(), sessAuth) {
			return next(c)
		}
		target := c.Request().URL.RequestURI()
		if isHTMX(c.Request()) {
			if cur, err := url.Parse(c.Request().Header.Get("HX-Current-URL")); err == nil && cur.Path != "" {
				target = cur.RequestURI()
			}
		}
		return s.redirect(c, s.url("/login")+"?next="+url.QueryEscape(target))
	}
}

// redirect sends the browser to target. An htmx request that swaps a
// fragment gets HX-Redirect (a 303 would be followed by the XHR and the
// target page swapped into the fragment); boosted requests and plain
// browsers get a 303, which htmx follows and swaps as a whole page.
func (s *Server) redirect(c echo.Context, target string) error {
	if isHTMX(c.Request()) && c.Request().Header.Get("HX-Boosted") != "true" {
		c.Response().Header().Set("HX-Redirect", target)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// csrf refuses unsafe requests that lack the session's token, in the
// X-CSRF-Token header (htmx) or the _csrf form field (plain forms), and any
// unsafe request a browser marks as cross-site.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		switch req.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		want := s.sm.GetString(req.Context(), sessCSRF)
		if req.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return echo.NewHTTPError(http.StatusForbidden, "Cross-site request refused.")
		}
		got := req.Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.FormValue("_csrf")
		}
		if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return echo.NewHTTPError(http.StatusForbidden, "The form has expired or did not come from this panel. Reload the page and try again.")
		}
		return next(c)
	}
}

// csrfToken returns the session's CSRF token, creating one when missing.
func (s *Server) csrfToken(ctx context.Context) string {
	if !hasSession(ctx) {
		return ""
	}
	if tok := s.sm.GetString(ctx, sessCSRF); tok != "" {
		return tok
	}
	return s.rotateCSRF(ctx)
}

func (s *Server) rotateCSRF(ctx context.Context) string {
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	s.sm.Put(ctx, sessCSRF, tok)
	return tok
}
