package views

import (
	"context"
	"net/url"
	"strings"

	"bangui/lang"
	"bangui/models"
)

// JailsPage is the jails overview with the ban tools and the active bans:
// of one host, or of every host grouped by host (Groups set).
type JailsPage struct {
	Jails     []models.JailSummary
	Offline   string // set when fail2ban could not be asked
	Active    ActiveBansTable
	BanForm   TargetForm
	UnbanForm TargetForm
	Lookup    LookupView
	JailNames []string

	Host     string       // the host in the page's links and forms; "" on a panel with one host
	HostName string       // the display name of the host the forms act on ("this host")
	Hosts    []HostOption // every host, when the panel has several
	Groups   []JailsGroup // every host's jails, on the page of every host; nil otherwise
}

// JailsGroup is one host's jails on the page of every host.
type JailsGroup struct {
	Host  string // the host's id
	Name  string // its display name
	Jails []models.JailSummary
	Error string // why the host did not answer; "" when it did
}

// Where a ban or unban acts, on a panel with several hosts.
const (
	WhereHost = "host" // the host in the form's URL
	WhereAll  = "all"  // every host
)

// TargetForm is a ban or unban form: addresses, a jail and, on a panel
// with several hosts, where (WhereHost or WhereAll).
type TargetForm struct {
	Target string `form:"target"`
	Jail   string `form:"jail"`
	Where  string `form:"where"`
	// Duration and Custom are a ban form's time (see banDurationFields).
	Duration string `form:"duration"`
	Custom   string `form:"custom"`
	Errors   map[string][]string
}

// whereOf is the choice a ban or unban form shows: the one sent, else every
// host on the page of every host and this host on a host's page.
func whereOf(p JailsPage, f TargetForm) string {
	if f.Where == WhereHost || f.Where == WhereAll {
		return f.Where
	}
	if p.Groups != nil {
		return WhereAll
	}
	return WhereHost
}

// LookupView is the IP lookup form and its answer.
type LookupView struct {
	Query  string
	Error  string
	Result *models.IPLookup
}

// ActiveBansTable is one page of current bans, across jails or of one jail.
type ActiveBansTable struct {
	ID     string // element id, the htmx target
	Bans   []models.ActiveBan
	Pager  Pager
	Search string
	Jail   string                    // set on a jail's own page; hides the jail column
	Total  int64                     // all bans, unfiltered, for "unban all"
	Geo    map[string]models.GeoInfo // where the page's addresses are; missing ones show as unknown
	Bulk   *BulkSelect               // rows can be selected for bulk actions; nil: they cannot
}

// JailPage is one jail's detail page.
type JailPage struct {
	Jail       models.JailDetail
	Bans       ActiveBansTable
	IgnoreForm TargetForm
	BanForm    TargetForm
}

func timeLeft(ctx context.Context, b models.ActiveBan) string {
	if b.Permanent {
		return lang.T(ctx, "bans.permanent")
	}
	left := b.TimeLeft(RequestFrom(ctx).Now)
	if left <= 0 {
		return lang.T(ctx, "bans.ending")
	}
	return fmtDuration(ctx, left)
}

// jailURL is the page of a jail. Valid jail names need no escaping; names
// read from fail2ban's database may hold anything, even "/" or "?".
func jailURL(name string) string { return "/jails/" + url.PathEscape(name) }

func confirmUnban(ctx context.Context, b models.ActiveBan) string {
	return lang.T(ctx, "bans.unban_confirm", "IP", b.IP, "Jail", b.Jail)
}

func confirmUnbanAll(ctx context.Context, n int64) string {
	return lang.T(ctx, "jails.unban_all_confirm", "Count", fmtCount(ctx, n))
}

func confirmStop(ctx context.Context, name string) string {
	return lang.T(ctx, "jails.stop_confirm", "Name", name)
}

// counterHost is the host part of the live counters' ids on a page of the
// acting host: its id in a fleet, "" with one host (as the hub sends them).
func counterHost(ctx context.Context) string {
	if Fleet(ctx) {
		return actingHost(ctx).ID
	}
	return ""
}

// jailCounterID is the element id of one counter of a jail on host ("" on
// a one-host panel): letters, digits, "-" and "_" only, so that it is a
// plain CSS selector.
func jailCounterID(host, jail, counter string) string {
	clean := func(v string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
				return r
			}
			return '_'
		}, v)
	}
	return "jc-" + clean(host) + "-" + clean(jail) + "-" + counter
}
