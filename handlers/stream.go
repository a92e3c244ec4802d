package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// wantsStream reports whether a request asks for a long-lived event stream
// (an EventSource sends Accept: text/event-stream). Such responses skip
// gzip, whose buffering would hold events back.
func wantsStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get(echo.HeaderAccept), "text/event-stream")
}

// startStream prepares a long-lived response: it lifts the server's write
// timeout for this response only, sets the headers of a server-sent event
// stream (nginx must not buffer it), and sends them. It returns the function
// that pushes what was written so far to the client.
func startStream(c echo.Context) (flush func() error, err error) {
	rc := http.NewResponseController(c.Response())
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		return nil, err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.Response().WriteHeader(http.StatusOK)
	return rc.Flush, rc.Flush()
}
