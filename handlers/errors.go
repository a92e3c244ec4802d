package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/lang"
	"bangui/repo"
	"bangui/services"
	"bangui/services/configuration"
	"bangui/views"
)

// ResponseError is an error as the panel answers it: an HTTP status, a
// short title and a message for the user. classify turns every error into
// one, and handleError renders it as a page, an htmx flash or JSON. A
// handler may return one itself; Err, the cause, is logged and never shown.
type ResponseError struct {
	Status  int    `json:"status"`
	Title   string `json:"title"`
	Message string `json:"message"`
	Err     error  `json:"-"`
}

// Error says the status, the title and the cause (or the message), for logs.
func (e *ResponseError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Title, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Title, e.Message)
}

// Unwrap returns the cause.
func (e *ResponseError) Unwrap() error { return e.Err }

// errorJSON is the JSON body of an error: {"error": {"status", "title", "message"}}.
type errorJSON struct {
	Error *ResponseError `json:"error"`
}

// handleError is the one place where errors become answers. Users never see
// a stack trace; unexpected errors are logged with the request id, which the
// answer shows. The answer is JSON when the request asks for it, the flash
// area's content for an htmx request, and an error page otherwise.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if s.isAPIPath(c.Request()) {
		s.answerAPIError(c, err)
		return
	}
	re := s.classifyIn(err, lang.From(c.Request().Context()))
	re.Message = s.noteFailure(c, err, re.Status, re.Message)
	c.Response().Header().Add("Vary", "Accept")
	switch req := c.Request(); {
	case req.Method == http.MethodHead:
		_ = c.NoContent(re.Status)
	case s.wantsJSON(req):
		c.Response().Header().Set("Cache-Control", "no-store")
		_ = c.JSON(re.Status, errorJSON{Error: re})
	case isHTMX(req):
		h := c.Response().Header()
		h.Set("HX-Retarget", "#flash")
		h.Set("HX-Reswap", "innerHTML")
		_ = s.renderComponent(c, re.Status, views.FlashMessage(views.Flash{Kind: "error", Message: re.Message}))
	default:
		if rerr := s.renderComponent(c, re.Status, views.ErrorPage(re.Status, re.Title, re.Message)); rerr != nil {
			s.log.Error("rendering error page failed", "err", rerr)
			_ = c.String(re.Status, re.Message)
		}
	}
}

// noteFailure logs err with the request id when status says the panel
// failed (5xx), and returns msg with that id as the reference for a 500.
func (s *Server) noteFailure(c echo.Context, err error, status int, msg string) string {
	if status < 500 {
		return msg
	}
	s.log.Error("request failed", "err", err, "method", c.Request().Method,
		"path", c.Request().URL.Path, "request_id", requestID(c))
	if status == http.StatusInternalServerError {
		msg += " " + lang.T(c.Request().Context(), "error.reference", "ID", requestID(c))
	}
	return msg
}

// classify is classifyIn in English: the words of the audit log and the API.
func (s *Server) classify(err error) *ResponseError { return s.classifyIn(err, lang.Get("en")) }

// classifyIn maps an error to the answer the user gets, in language l: the
// one place where the typed errors of the layers below get their status and
// words. It returns a new value the caller may change.
func (s *Server) classifyIn(err error, l *lang.Lang) *ResponseError {
	var (
		re  *ResponseError
		he  *echo.HTTPError
		f2v *fail2ban.ValidationError
		sv  *services.ValidationError
		ue  *hosts.UnreachableError
	)
	answer := func(status int, title, msg string) *ResponseError {
		return &ResponseError{Status: status, Title: title, Message: msg, Err: err}
	}
	switch {
	case errors.As(err, &re):
		cp := *re
		return &cp
	case errors.As(err, &he):
		return classifyHTTPError(he, err, l)
	case errors.Is(err, fail2ban.ErrUnknownJail):
		return answer(http.StatusNotFound, l.T("error.unknown_jail.title"), l.T("error.unknown_jail.message"))
	case errors.Is(err, hosts.ErrUnknownHost):
		return answer(http.StatusNotFound, l.T("error.unknown_host.title"), l.T("error.unknown_host.message"))
	case errors.Is(err, hosts.ErrFingerprintChanged):
		return answer(http.StatusBadGateway, l.T("error.fingerprint.title"), l.T("error.fingerprint.message", "Cause", lang.Of(err).In(l)))
	case errors.Is(err, hosts.ErrAgentRefused):
		return answer(http.StatusBadGateway, l.T("error.agent_refused.title"), l.T("error.agent_refused.message"))
	case errors.As(err, &ue):
		return answer(http.StatusBadGateway, l.T("error.host_down.title"), l.T("error.host_down.message", "URL", ue.URL))
	case fail2ban.IsUnreachable(err):
		return answer(http.StatusBadGateway, l.T("error.f2b_down.title"), l.T("error.f2b_down.message"))
	case errors.Is(err, configuration.ErrNotFound):
		return answer(http.StatusNotFound, l.T("error.not_found.title"), l.T("error.config_not_found.message"))
	case errors.Is(err, configuration.ErrNameUnsupported):
		return answer(http.StatusUnprocessableEntity, l.T("error.invalid.title"), lang.Of(err).In(l))
	case errors.Is(err, configuration.ErrUnreadable):
		return answer(http.StatusServiceUnavailable, l.T("error.unavailable.title"), l.T("error.config_unreadable.message", "Cause", lang.Of(err).In(l)))
	case errors.As(err, &f2v):
		return answer(http.StatusUnprocessableEntity, l.T("error.invalid.title"), f2v.Message.In(l))
	case errors.As(err, &sv):
		return answer(http.StatusUnprocessableEntity, l.T("error.invalid.title"), firstMessage(l, sv.In(l)))
	case errors.Is(err, repo.ErrBusy):
		return answer(http.StatusServiceUnavailable, l.T("error.f2b_busy.title"),
			l.T("error.f2b_busy.message"))
	case errors.Is(err, repo.ErrContention):
		return answer(http.StatusServiceUnavailable, l.T("error.db_busy.title"),
			l.T("error.db_busy.message"))
	case errors.Is(err, repo.ErrUnavailable):
		return answer(http.StatusServiceUnavailable, l.T("error.db_down.title"),
			l.T("error.db_down.message"))
	case isDiskFull(err):
		return answer(http.StatusInsufficientStorage, l.T("error.disk_full.title"),
			l.T("error.disk_full.message"))
	}
	return answer(http.StatusInternalServerError, l.T("error.internal.title"), l.T("error.internal.message"))
}

// classifyHTTPError words Echo's errors (unknown routes, wrong methods, the
// body limit, the handlers' own status and message).
func classifyHTTPError(he *echo.HTTPError, err error, l *lang.Lang) *ResponseError {
	msg, _ := he.Message.(string)
	if m, ok := he.Message.(lang.Message); ok {
		msg = m.In(l)
	}
	re := &ResponseError{Status: he.Code, Title: statusTitle(he.Code, l), Message: msg, Err: err}
	switch he.Code {
	case http.StatusNotFound:
		re.Title = l.T("error.not_found.title")
		if msg == "" || msg == http.StatusText(http.StatusNotFound) {
			re.Message = l.T("error.no_page.message")
		}
		return re
	case http.StatusMethodNotAllowed:
		re.Title, re.Message = l.T("error.method.title"), l.T("error.method.message")
		return re
	case http.StatusRequestEntityTooLarge:
		re.Title, re.Message = l.T("error.too_large.title"), l.T("error.too_large.message")
		return re
	}
	if msg == "" || he.Internal != nil && he.Code >= 500 {
		re.Message = http.StatusText(he.Code)
	}
	return re
}

// statusTitle is the title of an answer with status code, in language l.
func statusTitle(code int, l *lang.Lang) string {
	switch code {
	case http.StatusBadRequest:
		return l.T("error.bad_request.title")
	case http.StatusForbidden:
		return l.T("error.forbidden.title")
	case http.StatusConflict:
		return l.T("error.conflict.title")
	case http.StatusUnprocessableEntity:
		return l.T("error.invalid.title")
	case http.StatusTooManyRequests:
		return l.T("error.too_many.title")
	}
	return http.StatusText(code)
}

// wantsJSON reports whether an error should be answered as JSON: the path
// is under /api/, or the Accept header prefers application/json to
// text/html (browsers and htmx ask for HTML or anything).
func (s *Server) wantsJSON(r *http.Request) bool {
	if p := s.stripBase(r.URL.Path); p == "/api" || strings.HasPrefix(p, "/api/") {
		return true
	}
	jsonQ, htmlQ := -1.0, -1.0
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		typ, params, _ := strings.Cut(part, ";")
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(p, "="); ok && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(typ)) {
		case echo.MIMEApplicationJSON:
			jsonQ = max(jsonQ, q)
		case echo.MIMETextHTML:
			htmlQ = max(htmlQ, q)
		}
	}
	return jsonQ > 0 && jsonQ > htmlQ
}

// isDiskFull reports whether err says the disk under a database is full:
// the storage layer's repo.ErrDiskFull or the OS's ENOSPC/EDQUOT.
func isDiskFull(err error) bool {
	return errors.Is(err, repo.ErrDiskFull) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
