package handlers

import (
	"errors"
	"net/http"
	"syscall"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/repo"
	"bangui/views"
)

// handleError is the one place where errors become status codes and
// messages. Users never see a stack trace; unexpected errors are logged with
// the request id, which the page shows.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, title, msg := s.classify(err)
	if status >= 500 {
		s.log.Error("request failed", "err", err, "method", c.Request().Method,
			"path", c.Request().URL.Path, "request_id", requestID(c))
		if status == http.StatusInternalServerError {
			msg += " Reference: " + requestID(c) + "."
		}
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if isHTMX(c.Request()) {
		h := c.Response().Header()
		h.Set("HX-Retarget", "#flash")
		h.Set("HX-Reswap", "innerHTML")
		_ = s.renderComponent(c, status, views.FlashMessage(views.Flash{Kind: "error", Message: msg}))
		return
	}
	if rerr := s.renderComponent(c, status, views.ErrorPage(status, title, msg)); rerr != nil {
		s.log.Error("rendering error page failed", "err", rerr)
		_ = c.String(status, msg)
	}
}

// classify maps an error to a status, a page title and a message for the user.
func (s *Server) classify(err error) (int, string, string) {
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		msg, _ := he.Message.(string)
		switch he.Code {
		case http.StatusNotFound:
			if msg == "" || msg == http.StatusText(http.StatusNotFound) {
				msg = "There is no page at this address."
			}
			return he.Code, "Not found", msg
		case http.StatusMethodNotAllowed:
			return he.Code, "Not allowed", "This address does not accept that kind of request."
		case http.StatusRequestEntityTooLarge:
			return he.Code, "Too large", "The request is larger than the panel accepts."
		}
		if msg == "" || he.Internal != nil && he.Code >= 500 {
			msg = http.StatusText(he.Code)
		}
		return he.Code, http.StatusText(he.Code), msg
	case errors.Is(err, fail2ban.ErrUnknownJail):
		return http.StatusNotFound, "Unknown jail", "fail2ban has no jail by that name."
	case fail2ban.IsUnreachable(err):
		return http.StatusBadGateway, "fail2ban is not answering",
			"fail2ban did not answer on its socket. Check that it is running and that BanGUI may use the socket."
	case errors.Is(err, repo.ErrBusy):
		return http.StatusServiceUnavailable, "fail2ban's database is busy",
			"fail2ban's database stayed locked while fail2ban was writing to it. Nothing was changed; try again in a moment."
	case isDiskFull(err):
		return http.StatusInsufficientStorage, "Could not save: the disk is full",
			"BanGUI could not save this because the disk that holds its database is full. Everything saved before is kept; free some space and try again."
	}
	return http.StatusInternalServerError, "Something went wrong", "The panel hit an unexpected error. It has been logged."
}

// isDiskFull reports whether err says the disk under a database is full:
// the storage layer's repo.ErrDiskFull or the OS's ENOSPC/EDQUOT.
func isDiskFull(err error) bool {
	return errors.Is(err, repo.ErrDiskFull) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
