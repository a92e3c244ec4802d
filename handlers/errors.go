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
	re := s.classify(err)
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
		msg += " Reference: " + requestID(c) + "."
	}
	return msg
}

// classify maps an error to the answer the user gets: the one place where
// the typed errors of the layers below get their status and words. It
// returns a new value the caller may change.
func (s *Server) classify(err error) *ResponseError {
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
		return classifyHTTPError(he, err)
	case errors.Is(err, fail2ban.ErrUnknownJail):
		return answer(http.StatusNotFound, "Unknown jail", "fail2ban has no jail by that name.")
	case errors.Is(err, hosts.ErrUnknownHost):
		return answer(http.StatusNotFound, "Unknown host", "The panel manages no fail2ban host by that name.")
	case errors.Is(err, hosts.ErrFingerprintChanged):
		return answer(http.StatusBadGateway, "The host's certificate changed",
			"The host's agent shows a certificate that does not match the fingerprint the panel pinned, so the panel stopped talking to it. "+
				"If the agent was reinstalled, compare the new fingerprint it prints with the one on the Hosts page and accept it there. "+err.Error()+".")
	case errors.Is(err, hosts.ErrAgentRefused):
		return answer(http.StatusBadGateway, "The host's agent refused the panel",
			"The host's agent no longer accepts the panel's credential (it was revoked or the agent was reset). Enrol the host again on the Hosts page.")
	case errors.As(err, &ue):
		return answer(http.StatusBadGateway, "The host is not answering",
			"The host's agent did not answer ("+ue.URL+"). Check that bangui agent runs there and that the panel may reach its port.")
	case fail2ban.IsUnreachable(err):
		return answer(http.StatusBadGateway, "fail2ban is not answering",
			"fail2ban did not answer on its socket. Check that it is running and that BanGUI may use the socket.")
	case errors.Is(err, configuration.ErrNotFound):
		return answer(http.StatusNotFound, "Not found", "The configuration does not define that.")
	case errors.Is(err, configuration.ErrNameUnsupported):
		return answer(http.StatusUnprocessableEntity, http.StatusText(http.StatusUnprocessableEntity), err.Error())
	case errors.Is(err, configuration.ErrUnreadable):
		return answer(http.StatusServiceUnavailable, http.StatusText(http.StatusServiceUnavailable),
			err.Error()+". Check the directory chosen at setup.")
	case errors.As(err, &f2v):
		return answer(http.StatusUnprocessableEntity, http.StatusText(http.StatusUnprocessableEntity), f2v.Message)
	case errors.As(err, &sv):
		return answer(http.StatusUnprocessableEntity, http.StatusText(http.StatusUnprocessableEntity), firstMessage(sv.Fields))
	case errors.Is(err, repo.ErrBusy):
		return answer(http.StatusServiceUnavailable, "fail2ban's database is busy",
			"fail2ban's database stayed locked while fail2ban was writing to it. Nothing was changed; try again in a moment.")
	case errors.Is(err, repo.ErrContention):
		return answer(http.StatusServiceUnavailable, "The database is busy",
			"BanGUI's database was busy with other work and gave up this request. Nothing was changed; try again in a moment.")
	case errors.Is(err, repo.ErrUnavailable):
		return answer(http.StatusServiceUnavailable, "The database is not answering",
			"BanGUI could not reach its database server. Nothing was changed; check that PostgreSQL is running and try again.")
	case isDiskFull(err):
		return answer(http.StatusInsufficientStorage, "Could not save: the disk is full",
			"BanGUI could not save this because the disk that holds its database is full. Everything saved before is kept; free some space and try again.")
	}
	return answer(http.StatusInternalServerError, "Something went wrong", "The panel hit an unexpected error. It has been logged.")
}

// classifyHTTPError words Echo's errors (unknown routes, wrong methods, the
// body limit, the handlers' own status and message).
func classifyHTTPError(he *echo.HTTPError, err error) *ResponseError {
	msg, _ := he.Message.(string)
	re := &ResponseError{Status: he.Code, Title: http.StatusText(he.Code), Message: msg, Err: err}
	switch he.Code {
	case http.StatusNotFound:
		re.Title = "Not found"
		if msg == "" || msg == http.StatusText(http.StatusNotFound) {
			re.Message = "There is no page at this address."
		}
		return re
	case http.StatusMethodNotAllowed:
		re.Title, re.Message = "Not allowed", "This address does not accept that kind of request."
		return re
	case http.StatusRequestEntityTooLarge:
		re.Title, re.Message = "Too large", "The request is larger than the panel accepts."
		return re
	}
	if msg == "" || he.Internal != nil && he.Code >= 500 {
		re.Message = http.StatusText(he.Code)
	}
	return re
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
