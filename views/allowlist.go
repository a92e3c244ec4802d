package views

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"bangui/lang"
	"bangui/models"
)

// AllowListPage is /allowlist: the allow-list of the hosts in scope and the
// form adding entries.
type AllowListPage struct {
	Hosts  []AllowHostList
	Form   AllowForm
	Search string // the address or note filter; "" for every entry
}

// AllowHostList is the allow-list of one host.
type AllowHostList struct {
	Host    string
	Items   []models.AllowItem // the entries shown
	Total   int                // how many match the search, shown or not
	Offline string             // the running jails did not answer
	Problem string             // the configuration or the database could not be read
}

// AllowForm is the form adding entries, as submitted. On /allowlist/new it
// is the confirmation of one address ("Never ban this address").
type AllowForm struct {
	On        string   `form:"on"` // the host
	Addresses string   `form:"addresses"`
	Scope     string   `form:"scope"` // "all" or "jails"
	Jails     []string `form:"jail"`
	Note      string   `form:"note"`
	Expiry    string   `form:"expiry"` // a preset (see AllowExpiryPresets), "custom" or "" for never
	Until     string   `form:"until"`  // the custom end, datetime-local, the panel's time zone
	Back      string   `form:"back"`   // where the confirmation came from

	Hosts   []Option            // the hosts to choose from (several only)
	JailSet []string            // the jails of the host, for the scope
	Errors  map[string][]string // field name → messages
	Confirm bool                // one address from another page: confirm it
	Zone    string              // the panel's time zone, for the custom end
}

// Form field names of AllowForm.
const (
	AllowFieldAddresses = "addresses"
	AllowFieldJails     = "jail"
	AllowFieldNote      = "note"
	AllowFieldExpiry    = "until"
)

// AllowExpiryPresets are the ends the form offers besides never and a
// chosen time.
var AllowExpiryPresets = []Option{
	{Value: "1h", Label: "in 1 hour"}, {Value: "24h", Label: "in 24 hours"},
	{Value: "168h", Label: "in 7 days"}, {Value: "720h", Label: "in 30 days"},
}

// allowExpiryOptions are the form's ends in the request's language: never,
// the presets, a chosen time.
func allowExpiryOptions(ctx context.Context) []Option {
	label := map[string]string{"1h": lang.T(ctx, "allow.expiry_1h"), "24h": lang.T(ctx, "allow.expiry_24h"),
		"168h": lang.T(ctx, "allow.expiry_168h"), "720h": lang.T(ctx, "allow.expiry_720h")}
	out := []Option{{Value: "", Label: lang.T(ctx, "allow.never")}}
	for _, p := range AllowExpiryPresets {
		if l, ok := label[p.Value]; ok {
			p.Label = l
		}
		out = append(out, p)
	}
	return append(out, Option{Value: "custom", Label: lang.T(ctx, "allow.expiry_custom")})
}

func (f AllowForm) errs(field string) []string { return f.Errors[field] }

func (f AllowForm) scopeAll() bool { return f.Scope != "jails" }

func (f AllowForm) jailChecked(j string) bool {
	for _, x := range f.Jails {
		if x == j {
			return true
		}
	}
	return false
}

func (f AllowForm) submitLabel(ctx context.Context) string {
	if f.Confirm {
		return lang.T(ctx, "allow.never_ban_title", "Address", strings.TrimSpace(f.Addresses))
	}
	return lang.T(ctx, "allow.add_title")
}

// allowSource says where an item comes from.
func allowSource(ctx context.Context, it models.AllowItem) string {
	switch {
	case it.Live:
		return lang.T(ctx, "allow.source_live")
	case it.ID == 0:
		return lang.T(ctx, "allow.source_file", "File", it.File, "Line", strconv.Itoa(it.Line))
	}
	return "BanGUI"
}

// allowTimeLeft is how long an item has left, in words.
func allowTimeLeft(ctx context.Context, it models.AllowItem) string {
	left := it.TimeLeft(RequestFrom(ctx).Now)
	if left <= 0 {
		return lang.T(ctx, "allow.ended")
	}
	return lang.T(ctx, "allow.left", "Duration", fmtDuration(ctx, left))
}

// allowScope names the jails an entry holds in, "every jail" for none.
func allowScope(ctx context.Context, jails []string) string {
	if len(jails) == 0 {
		return lang.T(ctx, "allow.scope_all")
	}
	return models.AllowScope(jails)
}

func itemKey(it models.AllowItem) string { return strconv.FormatInt(it.ID, 10) }

func confirmAllowRemove(ctx context.Context, it models.AllowItem) string {
	return lang.T(ctx, "allow.remove_confirm", "Address", it.Address, "Scope", allowScope(ctx, it.Jails))
}

// NeverBanURL is the confirmation page that allow-lists ip, in jail when
// not "" (the scope offered first), coming back to back.
func NeverBanURL(ip, jail, back string) string {
	q := url.Values{"ip": {ip}}
	if jail != "" {
		q.Set("jail", jail)
	}
	if back != "" {
		q.Set("back", back)
	}
	return "/allowlist/new?" + q.Encode()
}

// AllowRowsShown is the most entries the page lists per host; a search
// narrows a longer list.
const AllowRowsShown = 500
