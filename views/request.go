// Package views holds the templ components that render every page and
// fragment, and the small view models they take.
package views

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"bangui/lang"
	"bangui/models"

	"github.com/a-h/templ"
)

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // "success", "error" or "info"
	Message string
	Items   []string // a list below the message, e.g. one result per host
	Quote   string   // a program's own words inside Message (fail2ban's output), shown as such
}

// quoted splits Message around Quote, when it holds it.
func (f Flash) quoted() (before, after string, ok bool) {
	if f.Quote == "" {
		return "", "", false
	}
	return strings.Cut(f.Message, f.Quote)
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
	Location  *time.Location    // panel time zone chosen at setup
	Now       time.Time         // the request's clock, for "time left"
	Status    *FleetStatus      // fail2ban status for the status bar; nil before login
	NavAlerts map[string]string // in-app path → warning shown as a badge on its nav entry
	// Host is the host selected with ?host= ("" for every host); URL keeps
	// it in every in-app link.
	Host string
	// Hosts are the registered hosts, for the selector in the app shell; it
	// shows only when there is more than one.
	Hosts []HostOption
	// SwitchPath and SwitchQuery are where the host selector goes: the
	// current page with its filters (without host and page), or the
	// dashboard after a form was posted.
	SwitchPath  string
	SwitchQuery url.Values
	// LiveFrom is the id of the newest live event when the request began:
	// the page's event stream starts after it, so that nothing between
	// the page's queries and the stream's start is missed.
	LiveFrom uint64
}

// HostOption is one host in the host selector.
type HostOption struct {
	ID   string
	Name string
}

// HostParam is the query parameter that selects a host.
const HostParam = "host"

// Fleet reports whether more than one host is registered: only then do
// pages show the host selector and a host column.
func Fleet(ctx context.Context) bool { return len(RequestFrom(ctx).Hosts) > 1 }

// HostColumn reports whether tables show each row's host: with several
// hosts and none selected (the combined view).
func HostColumn(ctx context.Context) bool {
	return Fleet(ctx) && RequestFrom(ctx).Host == ""
}

// HostName is the display name of the host with id (the id when unknown).
func HostName(ctx context.Context, id string) string {
	for _, h := range RequestFrom(ctx).Hosts {
		if h.ID == id {
			return h.Name
		}
	}
	return id
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

// URL returns the absolute path of an in-app path such as "/jails". When a
// host is selected, the path keeps it (?host=), unless p names a host
// itself: every link, form action and htmx URL of a page stays on the host.
func URL(ctx context.Context, p string) string {
	r := RequestFrom(ctx)
	return r.BasePath + KeepHost(p, r.Host)
}

// KeepHost returns the in-app path p with host set as its ?host= parameter,
// unless host is "" or p sets the parameter already. A #fragment stays last.
func KeepHost(p, host string) string {
	if host == "" {
		return p
	}
	path, frag, hasFrag := strings.Cut(p, "#")
	base, query, hasQuery := strings.Cut(path, "?")
	if hasQuery {
		if q, err := url.ParseQuery(query); err == nil && q.Has(HostParam) {
			return p
		}
	}
	out := base + "?"
	if hasQuery && query != "" {
		out += query + "&"
	}
	out += HostParam + "=" + url.QueryEscape(host)
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// LiveURL is the URL of the page's event stream.
func LiveURL(ctx context.Context) string {
	r := RequestFrom(ctx)
	if r.LiveFrom == 0 {
		return URL(ctx, "/events")
	}
	return URL(ctx, "/events?last-event-id="+strconv.FormatUint(r.LiveFrom, 10))
}

// SafeURL is URL as a templ.SafeURL for href and action attributes.
func SafeURL(ctx context.Context, p string) templ.SafeURL {
	return templ.SafeURL(URL(ctx, p))
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

// navEntry is one item of the main navigation, shown to Role and above.
type navEntry struct {
	Path string
	Role models.Role
}

var navEntries = []navEntry{
	{"/", models.RoleViewer},
	{"/map", models.RoleViewer},
	{"/jails", models.RoleViewer},
	{"/history", models.RoleViewer},
	{"/blocklists", models.RoleViewer},
	{"/allowlist", models.RoleOperator},
	{"/config", models.RoleAdmin},
	{"/hosts", models.RoleAdmin},
}

// navLabel is the name of the navigation entry at path.
func navLabel(ctx context.Context, path string) string {
	switch path {
	case "/":
		return lang.T(ctx, "nav.dashboard")
	case "/map":
		return lang.T(ctx, "nav.map")
	case "/jails":
		return lang.T(ctx, "nav.jails")
	case "/history":
		return lang.T(ctx, "nav.history")
	case "/blocklists":
		return lang.T(ctx, "nav.blocklists")
	case "/allowlist":
		return lang.T(ctx, "nav.allowlist")
	case "/config":
		return lang.T(ctx, "nav.config")
	}
	return lang.T(ctx, "nav.hosts")
}

// RoleLabel is the name of role r in the request's language.
func RoleLabel(ctx context.Context, r models.Role) string { return roleLabel(ctx, r) }

// roleLabel is the name of role r in the request's language.
func roleLabel(ctx context.Context, r models.Role) string {
	switch r {
	case models.RoleAdmin:
		return lang.T(ctx, "role.admin")
	case models.RoleOperator:
		return lang.T(ctx, "role.operator")
	case models.RoleViewer:
		return lang.T(ctx, "role.viewer")
	}
	return lang.T(ctx, "role.none")
}

func isActive(ctx context.Context, p string) bool {
	cur := RequestFrom(ctx).Path
	if p == "/" {
		return cur == "/" || cur == ""
	}
	return cur == p || strings.HasPrefix(cur, p+"/")
}

// hiddenField is one hidden input of a form.
type hiddenField struct{ Name, Value string }

// switchFields are the hidden inputs that keep a page's filters when the
// host selector changes the host, in a stable order.
func switchFields(ctx context.Context) []hiddenField {
	q := RequestFrom(ctx).SwitchQuery
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != HostParam && k != "page" && k != "_csrf" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []hiddenField
	for _, k := range keys {
		for _, v := range q[k] {
			if v != "" {
				out = append(out, hiddenField{Name: k, Value: v})
			}
		}
	}
	return out
}

func switchAction(ctx context.Context) templ.SafeURL {
	r := RequestFrom(ctx)
	p := r.SwitchPath
	if p == "" {
		p = "/"
	}
	return templ.SafeURL(r.BasePath + p)
}

func ariaCurrent(ctx context.Context, p string) string {
	if isActive(ctx, p) {
		return "page"
	}
	return "false"
}
