package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"bangui/lang"
	"bangui/views"
)

// wantsFragment decides, once for the whole app, whether a request gets a
// fragment (htmx swap) or the full page (first load, boost, history restore).
func wantsFragment(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" &&
		r.Header.Get("HX-Boosted") != "true" &&
		r.Header.Get("HX-History-Restore-Request") != "true"
}

// render writes page, or fragment when the request is an htmx swap and a
// fragment is given. The component is rendered into a buffer first, so a
// template error becomes a clean error page instead of half a page.
func (s *Server) render(c echo.Context, status int, page, fragment templ.Component) error {
	comp := page
	if fragment != nil && wantsFragment(c.Request()) {
		comp = fragment
	}
	return s.renderComponent(c, status, comp)
}

func (s *Server) renderComponent(c echo.Context, status int, comp templ.Component) error {
	h := c.Response().Header()
	h.Add("Vary", "HX-Request")
	h.Set("Cache-Control", "no-store")
	// The page's language, for the script to set <html lang> when htmx
	// swaps in a boosted page (it keeps the old document's element).
	h.Set("Content-Language", lang.From(c.Request().Context()).Code())
	ctx := views.WithRequest(c.Request().Context(), s.viewRequest(c))
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := comp.Render(ctx, buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, validUTF8(buf.Bytes()))
}

// validUTF8 returns b with every byte sequence that is not UTF-8 replaced
// by U+FFFD. Jail names, addresses and log lines come from fail2ban's
// database and log files, which may hold any bytes; the page says it is
// UTF-8, so it must be.
func validUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	return bytes.ToValidUTF8(b, []byte("\uFFFD"))
}

// viewRequest gathers the per-request values the components read.
func (s *Server) viewRequest(c echo.Context) views.Request {
	ctx := c.Request().Context()
	r := views.Request{
		BasePath: s.cfg.BasePath,
		Path:     s.stripBase(c.Request().URL.Path),
		Asset:    func(name string) string { return s.url("/assets/" + s.assets.Path(name)) },
		Version:  s.version,
		Location: s.panelSettings().Location,
		Now:      s.now(),
	}
	if _, err := s.hosts.Get(s.hostScope(c)); err == nil {
		r.Host = s.hostScope(c) // an unknown one (its 404 page) is not kept in links
	}
	if s.manyHosts() {
		r.Hosts = s.hostOptions()
		if c.Request().Method == http.MethodGet {
			r.SwitchPath, r.SwitchQuery = r.Path, c.QueryParams()
		}
	}
	if from, ok := c.Get(ctxLiveFrom).(uint64); ok {
		r.LiveFrom = from
	}
	if hasSession(ctx) {
		r.CSRFToken = s.csrfToken(ctx)
		r.Identity = identityOf(ctx)
		if r.Identity.LoggedIn() && s.status != nil {
			st := s.fleetStatus(c, false)
			r.Status = &st
		}
		if r.Identity.LoggedIn() {
			r.NavAlerts = s.navAlerts(ctx)
		}
		// Only a whole page shows the flash (FlashArea is in the layout): a
		// fragment fetched meanwhile, such as a live page's refresh in
		// another tab, must not take the message of the page a form
		// redirects to.
		if !wantsFragment(c.Request()) {
			if raw := s.sm.PopString(ctx, sessFlash); raw != "" {
				_ = json.Unmarshal([]byte(raw), &r.Flashes)
			}
		}
	}
	return r
}

// flash queues a message for the next rendered page.
func (s *Server) flash(c echo.Context, kind, msg string) {
	s.flashItems(c, kind, msg, nil)
}

// flashItems queues a message with a list below it for the next rendered
// page.
func (s *Server) flashItems(c echo.Context, kind, msg string, items []string) {
	s.queueFlash(c, views.Flash{Kind: kind, Message: msg, Items: items})
}

// queueFlash queues f for the next rendered page.
func (s *Server) queueFlash(c echo.Context, f views.Flash) {
	ctx := c.Request().Context()
	var list []views.Flash
	if raw := s.sm.GetString(ctx, sessFlash); raw != "" {
		_ = json.Unmarshal([]byte(raw), &list)
	}
	list = append(list, f)
	b, _ := json.Marshal(list)
	s.sm.Put(ctx, sessFlash, string(b))
}
