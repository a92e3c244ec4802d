package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"bangui/lang"
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

// chooseLanguage puts the request's language into its context, for the
// views, flash messages and error pages: the browser's Accept-Language
// here; loadSession replaces it with the account's setting, if it has one.
// The API answers in English always: its messages are for programs and
// their logs.
func (s *Server) chooseLanguage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		accept := req.Header.Get("Accept-Language")
		if s.isAPIPath(req) {
			accept = ""
		} else {
			c.Response().Header().Add("Vary", "Accept-Language")
		}
		c.SetRequest(req.WithContext(lang.With(req.Context(), lang.Choose("", accept))))
		return next(c)
	}
}

// tr translates the message id into the request's language (see lang.T).
func tr(c echo.Context, id string, kv ...any) string { return lang.T(c.Request().Context(), id, kv...) }

// langOf is the request's language.
func langOf(c echo.Context) *lang.Lang { return lang.From(c.Request().Context()) }

// trErr is err in the request's language: the lang.Message it holds, else
// its own words (see lang.Text).
func trErr(c echo.Context, err error) string { return lang.Text(c.Request().Context(), err) }

// readForm reads a POST's form before any handler looks at it, so a body
// over the limit is answered 413 (and a garbled one 400) even when the
// client did not announce its length: FormValue would drop the error and
// the request would fail later with a misleading message (the CSRF check's
// "the form has expired").
func (s *Server) readForm(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method != http.MethodPost || req.Body == nil || req.Body == http.NoBody {
			return next(c)
		}
		var err error
		if strings.HasPrefix(req.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
			err = req.ParseMultipartForm(1 << 20)
		} else {
			err = req.ParseForm()
		}
		var he *echo.HTTPError
		switch {
		case errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge:
			return he
		case err != nil:
			return echo.NewHTTPError(http.StatusBadRequest, tr(c, "error.form_unreadable"))
		}
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
		id, setting, err := s.currentIdentity(ctx)
		if err != nil {
			return err
		}
		ctx = withIdentity(ctx, id)
		if setting != "" {
			ctx = lang.With(ctx, lang.Choose(setting, ""))
		}
		ctx = context.WithValue(ctx, visitorKey{}, &visitor{id: visitorID(token)})
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
	v, _ := ctx.Value(visitorKey{}).(*visitor)
	switch s.sm.Status(ctx) {
	case scs.Modified:
		if v != nil && v.id != "" && s.sm.GetString(ctx, sessCSRF) == "" && !s.sessionIdentity(ctx).LoggedIn() {
			// The session is stored from now on: keep the token of the
			// forms already shown to this visitor valid.
			s.sm.Put(ctx, sessCSRF, s.visitorCSRF(v.id))
		}
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
	default:
		if v != nil && v.issued {
			// A visitor's first form: the cookie carries the id its CSRF
			// token is derived from; nothing is stored.
			http.SetCookie(c.Response(), &http.Cookie{
				Name: cookieName, Value: v.id, Path: path, HttpOnly: true, Secure: secure,
				SameSite: http.SameSiteLaxMode, Expires: time.Now().Add(anonymousLifetime).Truncate(time.Second),
				MaxAge: int(anonymousLifetime.Seconds()),
			})
		}
	}
}

// visitorKey holds the *visitor of a request in its context.
type visitorKey struct{}

// visitor is the client of a request that has no stored session. Such a
// client gets no row in the sessions table (anyone can make as many as they
// like): its CSRF token is an HMAC of the random id in its session cookie,
// under a key that lives as long as the process, and a session is stored
// only once something is put into it (a login, a flash message).
type visitor struct {
	id     string // from the cookie, or issued in this request
	issued bool   // id is new and must be sent as the cookie
}

// visitorID returns the cookie value when it can be a token BanGUI issued,
// else "".
func visitorID(cookie string) string {
	if len(cookie) < 32 || len(cookie) > 64 {
		return ""
	}
	for _, r := range cookie {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return ""
		}
	}
	return cookie
}

// visitorCSRF is the CSRF token of a visitor without a stored session.
func (s *Server) visitorCSRF(id string) string {
	m := hmac.New(sha256.New, s.visitorKey)
	m.Write([]byte("bangui csrf\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
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
			return echo.NewHTTPError(http.StatusConflict, tr(c, "setup.done_already"))
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
		if v, ok := req.Context().Value(visitorKey{}).(*visitor); ok && want == "" && v.id != "" && !v.issued &&
			!identityOf(req.Context()).LoggedIn() {
			want = s.visitorCSRF(v.id)
		}
		if req.Header.Get("Sec-Fetch-Site") == "cross-site" {
			return echo.NewHTTPError(http.StatusForbidden, tr(c, "error.cross_site"))
		}
		got := req.Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.FormValue("_csrf")
		}
		if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return echo.NewHTTPError(http.StatusForbidden, tr(c, "error.csrf"))
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
	v, ok := ctx.Value(visitorKey{}).(*visitor)
	if !ok || s.sessionIdentity(ctx).LoggedIn() || s.sm.Status(ctx) != scs.Unmodified {
		return s.rotateCSRF(ctx)
	}
	if v.id == "" {
		v.id, v.issued = randomToken(), true
	}
	return s.visitorCSRF(v.id)
}

// randomToken returns 32 random bytes, base64url-encoded (43 characters).
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) rotateCSRF(ctx context.Context) string {
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	s.sm.Put(ctx, sessCSRF, tok)
	return tok
}
