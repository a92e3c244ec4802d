package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/repo"
	"bangui/services"
	"bangui/services/blocklists"
	"bangui/services/configuration"
)

// APIError is an error as the API answers it: an HTTP status and a stable
// code that scripts may test, with a message for people.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error returns the code and the message.
func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// apiErr returns an *APIError.
func apiErr(status int, code, msg string) *APIError {
	return &APIError{Status: status, Code: code, Message: msg}
}

// apiErrorBody is the JSON body of every API error.
type apiErrorBody struct {
	Error *APIError `json:"error"`
}

// answerAPIError writes err as the API's JSON error (see apiErrorOf). It is
// called by handleError for every request under /api/v1, so that every
// error there, from a handler, a middleware or the router, has this shape.
func (s *Server) answerAPIError(c echo.Context, err error) {
	ae := *s.apiErrorOf(err)
	ae.Message = s.noteFailure(c, err, ae.Status, ae.Message)
	c.Response().Header().Set("Cache-Control", "no-store")
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(ae.Status)
		return
	}
	_ = c.JSON(ae.Status, apiErrorBody{Error: &ae})
}

// apiErrorOf is the API's answer to err: an *APIError as it is, the
// errors of apiKnownError, and any other with the status and message
// classify gives it (the pages' mapping of the typed errors) and a stable
// code from apiErrorCode.
func (s *Server) apiErrorOf(err error) *APIError {
	if ae := apiKnownError(err); ae != nil {
		return ae
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	re := s.classify(err)
	return &APIError{Status: re.Status, Code: apiErrorCode(err, re.Status), Message: re.Message}
}

// apiKnownError answers the errors that the pages word in their handlers
// rather than in classify; nil for any other.
func apiKnownError(err error) *APIError {
	var ce *fail2ban.CommandError
	switch {
	case errors.Is(err, services.ErrUnknownIP):
		return apiErr(http.StatusNotFound, "unknown_ip", "Neither fail2ban nor BanGUI's archive has any record of this address.")
	case errors.Is(err, blocklists.ErrImportRunning):
		return apiErr(http.StatusConflict, "import_running", "An import is running already; follow it with GET "+apiPrefix+"/blocklists/import and try again when it is done.")
	case errors.Is(err, fail2ban.ErrUnknownJail):
		return nil // classify words it
	case errors.As(err, &ce):
		return apiErr(http.StatusUnprocessableEntity, "fail2ban_refused", "fail2ban refused: "+clipText(ce.Message, 200))
	}
	return nil
}

// apiErrorCode names the stable code of an error that classify answered
// with status: the typed errors first, then by status.
func apiErrorCode(err error, status int) string {
	var (
		f2v *fail2ban.ValidationError
		sv  *services.ValidationError
		ue  *hosts.UnreachableError
	)
	switch {
	case errors.Is(err, fail2ban.ErrUnknownJail):
		return "unknown_jail"
	case errors.Is(err, hosts.ErrUnknownHost):
		return "unknown_host"
	case errors.Is(err, configuration.ErrNotFound):
		return "not_found"
	case errors.Is(err, hosts.ErrFingerprintChanged):
		return "host_fingerprint_changed"
	case errors.Is(err, hosts.ErrAgentRefused):
		return "host_refused"
	case errors.As(err, &ue):
		return "host_unreachable"
	case fail2ban.IsUnreachable(err):
		return "fail2ban_unreachable"
	case errors.As(err, &f2v), errors.As(err, &sv):
		return "invalid_input"
	case errors.Is(err, repo.ErrBusy), errors.Is(err, repo.ErrContention):
		return "busy"
	case errors.Is(err, repo.ErrUnavailable):
		return "database_unavailable"
	case isDiskFull(err):
		return "disk_full"
	}
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusUnprocessableEntity:
		return "invalid_input"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusBadGateway:
		return "bad_gateway"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal_error"
}

// readJSON decodes the request's JSON body into v, strictly: the content
// type must be application/json (415), the body within the API's limit
// (413), one JSON object with known fields only (400 bad_json). A request
// without a body leaves v as it is when optional.
func readJSON(c echo.Context, v any, optional bool) error {
	req := c.Request()
	if optional && req.ContentLength == 0 && req.Header.Get(echo.HeaderContentType) == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return apiErr(http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the body as JSON, with Content-Type: application/json.")
	}
	body, err := io.ReadAll(req.Body)
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
		return apiErr(http.StatusRequestEntityTooLarge, "body_too_large", "The body is larger than the API accepts ("+apiBodyLimit+"B).")
	}
	if err != nil {
		return apiErr(http.StatusBadRequest, "bad_json", "The body could not be read.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apiErr(http.StatusBadRequest, "bad_json", "The body is not the JSON object this request takes: "+clipText(err.Error(), 200)+".")
	}
	if dec.More() {
		return apiErr(http.StatusBadRequest, "bad_json", "The body holds more than one JSON value.")
	}
	return nil
}

// invalid is a 422 invalid_input error.
func invalid(msg string) *APIError {
	return apiErr(http.StatusUnprocessableEntity, "invalid_input", msg)
}
