package views

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"bangui/lang"
	"bangui/models"
	"bangui/textfmt"
)

// RangeOptions are the dashboard's time windows.
var RangeOptions = []Option{{"24h", "24 hours"}, {"7d", "7 days"}, {"30d", "30 days"}, {"365d", "365 days"}}

// HistoryRangeOptions add "all time" for the history page.
var HistoryRangeOptions = append([]Option{{"all", "All time"}}, RangeOptions...)

// OriginOptions are the origin filter's choices.
var OriginOptions = []Option{{"", "All"}, {"blocklist", "Blocklist"}, {"selfblock", "Detected"}, {"manual", "Manual"}}

// SourceOptions are the source choices.
var SourceOptions = []Option{{"", "Automatic"}, {"fail2ban", "fail2ban's database"}, {"archive", "BanGUI's archive"}}

// Filters are a page's current filter values, as query parameters.
type Filters struct {
	Path   string
	Values url.Values
}

// with returns the page URL with key set to value and the page reset.
func (f Filters) with(key, value string) string {
	q := url.Values{}
	for k, v := range f.Values {
		q[k] = v
	}
	q.Set(key, value)
	q.Del("page")
	return withQuery(f.Path, q)
}

func (f Filters) is(key, value string) bool { return f.Values.Get(key) == value }

// BanTable is one page of ban events for the dashboard or history.
type BanTable struct {
	ID        string
	Bans      []models.BanRecord
	Pager     Pager
	RepeatMin int64 // highlight rows whose ban count reaches this; 0: never
	Empty     string
	Geo       map[string]models.GeoInfo // where each address is; missing: unknown
	// Live: new bans arrive at the top over the tab's event stream (event
	// "bans"); only the first page of an unfiltered table.
	Live bool
	// Bulk: rows can be selected for bulk actions; nil: they cannot.
	Bulk *BulkSelect
}

// DashboardPage is the dashboard's data.
type DashboardPage struct {
	Filters    Filters
	SourceNote string
	Table      BanTable
	Trend      Chart
	PerJail    Chart
	Countries  TopCountries
	// Live: the page shows the 24 hours of every origin, whose counters
	// the live pages' "dash" event keeps current (see DashboardLive).
	Live bool
}

// TopCountries is the dashboard's country summary: the first few by name,
// the rest summed, and a bar chart of the top 20.
type TopCountries struct {
	Top     []models.CountryCount
	Other   int64
	Unknown int64
	Chart   Chart
}

// HistoryPage is the history page's data.
type HistoryPage struct {
	Filters    Filters
	SourceNote string
	Table      BanTable
	Jails      []string
	IPPrefix   string
	CSVURL     string
}

// IPPage is the per-IP page's data.
type IPPage struct {
	IP       string
	Events   []models.BanRecord
	Bans     int64
	Failures int64
	First    time.Time
	Last     time.Time
	Hosts    []IPHost // the address on each host shown
	Geo      models.GeoInfo
	Audit    *AuditTrail // who banned, unbanned or ignored it in the panel; nil: no audit log
}

// IPHost is an address's state on one host right now.
type IPHost struct {
	Host    string             // the host's id
	Current []models.ActiveBan // where it is banned
	Jails   []string           // running jails, for the action forms
	Offline string             // why the host could not be asked; "" when it answered
}

// onHost is the in-app path p acting on host: with several hosts it names
// the host (?host=), with one it stays as it is.
func onHost(ctx context.Context, p, host string) string {
	if !Fleet(ctx) {
		return p
	}
	return KeepHost(p, host)
}

// stayHere is the in-app path p with the current host choice stated, also
// "every host" (an empty ?host=), for a form's way back: the form's own
// URL may name another host.
func stayHere(ctx context.Context, p string) string {
	if !Fleet(ctx) {
		return p
	}
	if h := RequestFrom(ctx).Host; h != "" {
		return KeepHost(p, h)
	}
	return p + "?host="
}

// originLabel names an origin for people.
func originLabel(ctx context.Context, o models.Origin) string {
	switch o {
	case models.OriginBlocklist:
		return lang.T(ctx, "origin.blocklist")
	case models.OriginManual:
		return lang.T(ctx, "origin.manual")
	default:
		return lang.T(ctx, "origin.detected")
	}
}

// filterOptionLabel names a choice of the filter key (range, origin,
// source) in the request's language; an unknown one keeps its label.
func filterOptionLabel(ctx context.Context, key string, o Option) string {
	switch key + "=" + o.Value {
	case "range=all":
		return lang.T(ctx, "filter.range_all")
	case "range=24h":
		return lang.T(ctx, "filter.range_24h")
	case "range=7d":
		return lang.T(ctx, "filter.range_7d")
	case "range=30d":
		return lang.T(ctx, "filter.range_30d")
	case "range=365d":
		return lang.T(ctx, "filter.range_365d")
	case "origin=":
		return lang.T(ctx, "filter.origin_all")
	case "origin=blocklist":
		return lang.T(ctx, "filter.origin_blocklist")
	case "origin=selfblock":
		return lang.T(ctx, "filter.origin_detected")
	case "origin=manual":
		return lang.T(ctx, "filter.origin_manual")
	case "source=":
		return lang.T(ctx, "filter.source_auto")
	case "source=fail2ban":
		return lang.T(ctx, "filter.source_fail2ban")
	case "source=archive":
		return lang.T(ctx, "filter.source_archive")
	}
	return o.Label
}

// firstMatch is the first matched log line of a ban, shortened.
func firstMatch(b models.BanRecord) string {
	if len(b.Matches) == 0 {
		return ""
	}
	return textfmt.Shorten(strings.TrimSpace(b.Matches[0]), 120)
}

// banDuration describes a ban's length.
func banDuration(ctx context.Context, b models.BanRecord) string {
	if b.BanTime < 0 {
		return lang.T(ctx, "bans.permanent")
	}
	if b.BanTime == 0 {
		return "—"
	}
	return fmtDuration(ctx, time.Duration(b.BanTime)*time.Second)
}

func banEnd(b models.BanRecord) time.Time {
	if b.BanTime <= 0 {
		return time.Time{}
	}
	return b.TimeOfBan.Add(time.Duration(b.BanTime) * time.Second)
}

func ipURL(ip string) string { return "/history/" + url.PathEscape(ip) }

// colspan is the width of a table's empty row: n columns, one more with
// the host column.
func colspan(ctx context.Context, n int) string {
	if HostColumn(ctx) {
		n++
	}
	return strconv.Itoa(n)
}

// onHostLabel is " on <host>" in the combined view of several hosts, for
// sentences and labels that name a jail; "" otherwise.
func onHostLabel(ctx context.Context, host string) string {
	if !HostColumn(ctx) || host == "" {
		return ""
	}
	return lang.T(ctx, "common.on_host", "Host", HostName(ctx, host))
}

// nth is id for the first of several forms, id-i for the others.
func nth(id string, i int) string {
	if i == 0 {
		return id
	}
	return id + "-" + strconv.Itoa(i)
}
