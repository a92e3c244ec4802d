// Package views holds the templ components that render every page and
// fragment, and the small view models they take.
package views

import (
	"context"
	"net/url"
	"strings"
	"time"

	"bangui/models"

	"github.com/a-h/templ"
)

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // "success", "error" or "info"
	Message string
	Items   []string // a list below the message, e.g. one result per host
}

// Request carries the per-request values every component may need. Handlers
// put it into the context with WithRequest before rendering.
type Request struct {
	BasePath  string // "" or "/bangui"
	Path      string // current path below BasePath, for the active nav entry
	CSRFToken string
	Identity  models.Identity // who is logged in; the zero identity before login
	Flashes   []Flash
	Asset     func(name string) string // full URL of an embedded asset
	Version   string
	Location  *time.Location       // panel time zone chosen at setup
	Now       time.Time            // the request's clock, for "time left"
	Status    *models.ServerStatus // fail2ban status for the status bar; nil before login
	NavAlerts map[string]string    // in-app path → warning shown as a badge on its nav entry
	Host      string               // the fail2ban host selected with ?host=; "" for every host (or the only one)
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the Request in ctx, or a zero Request.
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// URL returns the absolute path of an in-app path such as "/jails".
func URL(ctx context.Context, p string) string {
	return RequestFrom(ctx).BasePath + p
}

// SafeURL is URL as a templ.SafeURL for href and action attributes.
func SafeURL(ctx context.Context, p string) templ.SafeURL {
	return templ.SafeURL(URL(ctx, p))
}

// OnHost returns the in-app path p on the fail2ban host with id host: p
// with host=… added to its query, or p itself when host is "" (every host,
// or a panel with one host). It is the one place links and redirects get
// their host.
func OnHost(p, host string) string {
	if host == "" {
		return p
	}
	sep := "?"
	if strings.Contains(p, "?") {
		sep = "&"
	}
	return p + sep + "host=" + url.QueryEscape(host)
}

// hereURL is SafeURL of p on the host the request selected, so a link or a
// form stays on the host the page shows.
func hereURL(ctx context.Context, p string) templ.SafeURL {
	return SafeURL(ctx, OnHost(p, RequestFrom(ctx).Host))
}

// hostURL is SafeURL of p on the host with id host.
func hostURL(ctx context.Context, p, host string) templ.SafeURL {
	return SafeURL(ctx, OnHost(p, host))
}

func assetURL(ctx context.Context, name string) string {
	r := RequestFrom(ctx)
	if r.Asset == nil {
		return r.BasePath + "/assets/missing/" + name
	}
	return r.Asset(name)
}

func csrfHeaders(ctx context.Context) string {
	// The token is base64url and holds no quote, but keep the JSON honest.
	tok := strings.NewReplacer(`"`, "", `\`, "").Replace(RequestFrom(ctx).CSRFToken)
	return `{"X-CSRF-Token":"` + tok + `"}`
}

// navEntry is one item of the main navigation.
type navEntry struct {
	Path  string
	Label string
}

var navEntries = []navEntry{
	{"/", "Dashboard"},
	{"/map", "World map"},
	{"/jails", "Jails"},
	{"/history", "History"},
	{"/blocklists", "Blocklists"},
	{"/config", "Configuration"},
}

func isActive(ctx context.Context, p string) bool {
	cur := RequestFrom(ctx).Path
	if p == "/" {
		return cur == "/" || cur == ""
	}
	return cur == p || strings.HasPrefix(cur, p+"/")
}

func ariaCurrent(ctx context.Context, p string) string {
	if isActive(ctx, p) {
		return "page"
	}
	return "false"
}
