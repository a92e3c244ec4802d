package handlers

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/views"
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

// lastEventHeader is the header a reconnecting EventSource sends; the
// query parameter of the same meaning is for a tab that opens a new
// EventSource after the old one gave up (app.js adds it).
const (
	lastEventHeader = "Last-Event-ID"
	lastEventParam  = "last-event-id"
)

// streamWriteTimeout bounds each write of an event stream.
const streamWriteTimeout = 30 * time.Second

// eventStream is GET /events: the live pages' one stream per tab. It
// sends the events of the tab's host scope as they come, first what the
// tab missed since Last-Event-ID, a heartbeat while nothing happens, and
// ends when the tab goes, the stream falls too far behind (the tab comes
// back and replays) or the server shuts down. Over the cap the tab is
// told to poll, and to try again later.
func (s *Server) eventStream(c echo.Context) error {
	scope := s.hostScope(c)
	if !s.manyHosts() {
		scope = ""
	}
	last := c.Request().Header.Get(lastEventHeader)
	if last == "" {
		last = c.QueryParam(lastEventParam)
	}
	lastID, _ := strconv.ParseUint(strings.TrimSpace(last), 10, 64) // anything else: from now on

	h := s.live
	st, replay, complete, ok := h.join(scope, langOf(c).Code(), lastID)
	if !ok {
		flush, err := startStream(c)
		if err != nil {
			return err
		}
		w := c.Response()
		fmt.Fprintf(w, "retry: %d\n\n", fallbackRetry.Milliseconds())
		w.Write(encodeEvent(0, sseFallback, []byte(tr(c, "live.stream_fallback"))))
		return flush()
	}
	defer h.leave(st)
	flush, err := startStream(c)
	if err != nil {
		return err
	}
	w := c.Response()
	w.Write(encodeEvent(0, sseLive, []byte(tr(c, "live.stream_live"))))
	if !complete {
		// A new tab, or one that missed more than the ring holds: the
		// current state, rendered for it alone (once per connection).
		ctx := c.Request().Context()
		if html, err := s.renderFragment(ctx, scope, views.StatusBar(s.fleetStatusOf(ctx, s.scopeHostsOf(scope), false))); err == nil {
			w.Write(encodeEvent(h.lastID(), sseStatus, html))
		}
		if lastID > 0 {
			// A tab that had a stream (of this panel process or of one
			// before a restart) missed rows the ring cannot replay: it
			// fetches its table's first page and its per-IP state again.
			w.Write(encodeEvent(0, sseResync, []byte("missed")))
		}
	}
	for _, f := range replay {
		w.Write(f)
	}
	if err := flush(); err != nil {
		return nil
	}
	beat := time.NewTicker(h.heartbeat)
	defer beat.Stop()
	ctx := c.Request().Context()
	rc := http.NewResponseController(w)
	for {
		// A tab that stopped reading (a dead connection) must not hold
		// its stream, and a place under the cap, forever.
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		select {
		case f := <-st.frames:
			w.Write(f)
			for n := len(st.frames); n > 0; n-- { // what else is waiting, in one flush
				w.Write(<-st.frames)
			}
		case <-beat.C:
			if !s.stillAllowed(ctx) {
				return nil // the account was disabled, removed or demoted meanwhile
			}
			io.WriteString(w, ": heartbeat\n\n")
		case <-st.behind:
			return nil
		case <-h.done:
			// Said before the stream ends: the tab shows why while it
			// reconnects.
			w.Write(encodeEvent(0, sseBye, []byte(tr(c, "live.stream_bye"))))
			_ = flush()
			return nil
		case <-ctx.Done():
			return nil
		}
		if err := flush(); err != nil {
			return nil // the tab is gone
		}
	}
}
