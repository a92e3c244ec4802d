package services

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/repo/sqlkit"
	"bangui/textfmt"
)

// Source names where ban history is read from.
type Source string

// The two places ban events live.
const (
	SourceAuto     Source = ""
	SourceFail2ban Source = "fail2ban"
	SourceArchive  Source = "archive"
)

// BanSources picks between fail2ban's own database and BanGUI's archive.
// fail2ban's database is fresher but forgets after dbpurgeage and on manual
// unban; the archive keeps everything the sync has copied. Only hosts that
// implement hosts.Database (the local one) offer their fail2ban database.
type BanSources struct {
	hosts   *hosts.Registry
	archive repo.HistoryArchive
	now     func() time.Time
}

// NewBanSources returns the source picker on the hosts of reg.
func NewBanSources(reg *hosts.Registry, archive repo.HistoryArchive) *BanSources {
	return &BanSources{hosts: reg, archive: archive, now: time.Now}
}

// Archive returns BanGUI's own archive.
func (b *BanSources) Archive() repo.HistoryArchive { return b.archive }

// Fail2banDB opens a host's fail2ban database read-only (see
// hosts.Database); hosts.ErrNoDirectDatabase for hosts whose database the
// panel does not read directly.
func (b *BanSources) Fail2banDB(ctx context.Context, host string) (*repo.Fail2BanDBReader, error) {
	db, err := b.database(host)
	if err != nil {
		return nil, err
	}
	return db.Fail2banDB(ctx)
}

func (b *BanSources) database(host string) (hosts.Database, error) {
	h, err := b.hosts.Get(host)
	if err != nil {
		return nil, err
	}
	return hosts.DatabaseOf(h)
}

// PurgeAge is how long a host's fail2ban keeps bans in its database.
func (b *BanSources) PurgeAge(ctx context.Context, host string) time.Duration {
	db, err := b.database(host)
	if err != nil {
		return 24 * time.Hour // fail2ban's default
	}
	return db.PurgeAge(ctx)
}

// Chosen is the source a page reads and why.
type Chosen struct {
	Source Source
	Note   string // why this source, for the page (English; the API's note)
	// Reason, Age and Problem are Note's parts, for a page to say it in its
	// language.
	Reason  NoteReason
	Age     time.Duration // how far back fail2ban's database reaches
	Problem lang.Message  // why fail2ban's database cannot be read
	src     repo.BanSource
	host    string // the host of a fail2ban database, whose rows name none
}

// named fills in the host of events read from one host's fail2ban
// database, which leaves it empty (the archive names each event's host).
func (c Chosen) named(bans []models.BanRecord) []models.BanRecord {
	if c.host != "" {
		for i := range bans {
			if bans[i].Host == "" {
				bans[i].Host = c.host
			}
		}
	}
	return bans
}

// NoteReason is why Pick chose a source.
type NoteReason string

// The reasons of Pick's choice.
const (
	NoteArchiveChosen    NoteReason = "archive-chosen"     // the archive, as asked
	NoteArchiveEveryHost NoteReason = "archive-every-host" // every host: only the archive has them
	NoteArchiveManual    NoteReason = "archive-manual"     // the panel's own bans: only the archive has them
	NoteArchiveShortDB   NoteReason = "archive-short-db"   // fail2ban's database does not reach back far enough (Age)
	NoteArchiveNoDB      NoteReason = "archive-no-db"      // fail2ban's database cannot be read (Problem)
	NoteFail2ban         NoteReason = "fail2ban"           // fail2ban's database, holding the last Age
	NoteFail2banChosen   NoteReason = "fail2ban-chosen"    // fail2ban's database as asked, holding the last Age
)

// Pick chooses the source for a query by f: the archive, or the fail2ban
// database of the one host f asks for (with one host, "every host" is that
// host), when the panel reads it directly and it reaches back far enough.
// An explicit want is honoured when possible.
func (b *BanSources) Pick(ctx context.Context, want Source, f models.HistoryFilter) Chosen {
	archive := Chosen{Source: SourceArchive, src: b.archive}
	if want == SourceArchive {
		archive.Note, archive.Reason = "BanGUI's archive, as you chose.", NoteArchiveChosen
		return archive
	}
	host := f.Host
	if all := b.hosts.All(); host == "" && len(all) == 1 {
		host = all[0].ID()
	}
	if host == "" {
		archive.Note, archive.Reason = "BanGUI's archive: it holds the events of every host.", NoteArchiveEveryHost
		return archive
	}
	if f.Origin == models.OriginManual {
		archive.Note, archive.Reason = "BanGUI's archive: only it records the panel's own bans and unbans.", NoteArchiveManual
		return archive
	}
	age := b.PurgeAge(ctx, host)
	archive.Age = age
	if want == SourceAuto && (f.Since.IsZero() || b.now().Sub(f.Since) > age+time.Minute) {
		archive.Note, archive.Reason = fmt.Sprintf("BanGUI's archive: fail2ban keeps bans for only %s.", textfmt.DurationInWords(age)), NoteArchiveShortDB
		return archive
	}
	r, err := b.Fail2banDB(ctx, host)
	if err != nil {
		archive.Problem = describeDBError(err)
		archive.Note, archive.Reason = "BanGUI's archive: fail2ban's database cannot be read ("+archive.Problem.Error()+").", NoteArchiveNoDB
		return archive
	}
	note, reason := "fail2ban's database, which holds the last "+textfmt.DurationInWords(age)+".", NoteFail2ban
	if want == SourceFail2ban {
		note, reason = "fail2ban's database, as you chose; it holds only the last "+textfmt.DurationInWords(age)+".", NoteFail2banChosen
	}
	return Chosen{Source: SourceFail2ban, Note: note, Reason: reason, Age: age, src: r, host: host}
}

func describeDBError(err error) lang.Message {
	switch {
	case errors.Is(err, fail2ban.ErrNoDatabase):
		return lang.M("bans.db_none")
	case errors.Is(err, hosts.ErrNoDirectDatabase):
		return lang.M("bans.db_archive_only")
	case fail2ban.IsUnreachable(err):
		return lang.M("bans.db_no_answer")
	}
	return lang.Of(err)
}

// TrendShape is how a window is cut into buckets for the trend chart.
func TrendShape(r models.TimeRange) (bucket time.Duration, n int) {
	switch r {
	case models.Range7d:
		return 6 * time.Hour, 28
	case models.Range30d:
		return 24 * time.Hour, 30
	case models.Range365d:
		return 7 * 24 * time.Hour, 53
	default:
		return time.Hour, 24
	}
}

// DashboardQuery is what the dashboard shows.
type DashboardQuery struct {
	Host   string // a host id; "" for every host
	Range  models.TimeRange
	Origin models.Origin
	Source Source
	Page   models.Page
}

// Dashboard is the data of the dashboard page.
type Dashboard struct {
	Chosen
	Since     time.Time
	Bans      []models.BanRecord
	Total     int64
	Trend     []int64 // oldest first
	Bucket    time.Duration
	TrendEnd  time.Time
	PerJail   []models.JailCount
	JailTotal int64
	Countries []models.CountryCount // from the archive, biggest first; "" is unknown
}

// History is the use case behind the dashboard, history and per-IP pages.
type History struct {
	sources *BanSources
	jails   *Jails
	now     func() time.Time
}

// NewHistory wires the history use case.
func NewHistory(sources *BanSources, jails *Jails) *History {
	return &History{sources: sources, jails: jails, now: time.Now}
}

func (h *History) filter(q DashboardQuery) models.HistoryFilter {
	return models.HistoryFilter{Host: q.Host, Since: h.now().Add(-q.Range.Duration()), Origin: q.Origin, Action: "ban"}
}

// BansTable returns one page of the dashboard's ban table.
func (h *History) BansTable(ctx context.Context, q DashboardQuery) (Dashboard, error) {
	f := h.filter(q)
	d := Dashboard{Chosen: h.sources.Pick(ctx, q.Source, f), Since: f.Since}
	var err error
	d.Bans, d.Total, err = d.src.Bans(ctx, f, q.Page)
	d.Bans = d.named(d.Bans)
	return d, err
}

// Dashboard returns everything the dashboard shows. Its four reads (the
// table's page, the trend, the per-jail and per-country counts) do not
// depend on each other and run at once: over a year of fail2ban's
// database the page waits for the slowest of them, not for their sum.
func (h *History) Dashboard(ctx context.Context, q DashboardQuery) (Dashboard, error) {
	f := h.filter(q)
	d := Dashboard{Chosen: h.sources.Pick(ctx, q.Source, f), Since: f.Since}
	bucket, n := TrendShape(q.Range)
	d.Bucket, d.TrendEnd = bucket, h.now()
	var errs [4]error
	var wg sync.WaitGroup
	wg.Go(func() {
		d.Bans, d.Total, errs[0] = d.src.Bans(ctx, f, q.Page)
		d.Bans = d.named(d.Bans)
	})
	wg.Go(func() { d.Trend, errs[1] = d.src.CountsByBucket(ctx, f, bucket, n) })
	wg.Go(func() { d.JailTotal, d.PerJail, errs[2] = d.src.CountsByJail(ctx, f) })
	// Only the archive stores countries.
	wg.Go(func() { d.Countries, errs[3] = h.sources.archive.CountsByCountry(ctx, f) })
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return d, err
		}
	}
	return d, nil
}

// warmRanges are the dashboard windows Warm computes at start: the long
// ones, whose counts take longest.
var warmRanges = []models.TimeRange{models.Range7d, models.Range30d, models.Range365d}

// Warm computes the dashboard's counts over the long windows, of every
// origin, from the archive and from fail2ban's database, once at start, so that the first
// dashboard of a year finds them ready; from then on the result caches
// keep the counts pages ask for current as the data changes (see the
// warmer in repo/resultcache_warm.go). Errors are left for the pages to
// report.
func (h *History) Warm(ctx context.Context) {
	for _, src := range []Source{SourceArchive, SourceFail2ban} {
		for _, r := range warmRanges {
			for _, o := range []models.Origin{models.OriginAll, models.OriginBlocklist, models.OriginSelfblock} {
				if ctx.Err() != nil {
					return
				}
				_, _ = h.Dashboard(ctx, DashboardQuery{Range: r, Origin: o, Source: src, Page: models.Page{Number: 1, Size: 1}})
			}
		}
	}
}

// HistoryQuery is the history page's filter.
type HistoryQuery struct {
	Host     string           // a host id; "" for every host
	Range    models.TimeRange // "" for all time
	Jail     string
	IPPrefix string
	Origin   models.Origin
	Source   Source
	Page     models.Page
}

// HistoryPage is one page of history.
type HistoryPage struct {
	Chosen
	Bans  []models.BanRecord
	Total int64
}

func (h *History) historyFilter(q HistoryQuery) models.HistoryFilter {
	f := models.HistoryFilter{Host: q.Host, Jail: q.Jail, IPPrefix: q.IPPrefix, Origin: q.Origin}
	if q.Range != "" {
		f.Since = h.now().Add(-q.Range.Duration())
	}
	return f
}

// History returns one page of ban events matching q.
func (h *History) History(ctx context.Context, q HistoryQuery) (HistoryPage, error) {
	f := h.historyFilter(q)
	p := HistoryPage{Chosen: h.sources.Pick(ctx, q.Source, f)}
	var err error
	p.Bans, p.Total, err = p.src.Bans(ctx, f, q.Page)
	p.Bans = p.named(p.Bans)
	return p, err
}

// ArchivedJails names, sorted, the jails with ban events in q's window on
// q's host (every host when ""), from the archive alone: the jail choices
// of the history page when several hosts are registered, found without
// asking any host.
func (h *History) ArchivedJails(ctx context.Context, q HistoryQuery) ([]string, error) {
	f := models.HistoryFilter{Host: q.Host, Action: repo.ActionBan}
	if q.Range != "" {
		f.Since = h.now().Add(-q.Range.Duration())
	}
	_, counts, err := h.sources.archive.CountsByJail(ctx, f)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(counts))
	for i, c := range counts {
		names[i] = c.Jail
	}
	sort.Strings(names)
	return names, nil
}

// EachHistory calls fn for every event matching q, newest first, reading
// page by page so that memory stays flat however long the history is.
func (h *History) EachHistory(ctx context.Context, q HistoryQuery, fn func(models.BanRecord) error) (Chosen, error) {
	return h.each(ctx, q.Source, h.historyFilter(q), fn)
}

// EachDashboardBan calls fn for every ban of the dashboard's table for q
// (all its pages), newest first: what "all matching" selects there.
func (h *History) EachDashboardBan(ctx context.Context, q DashboardQuery, fn func(models.BanRecord) error) (Chosen, error) {
	return h.each(ctx, q.Source, h.filter(q), fn)
}

// each calls fn for every event matching f in the source chosen for want,
// page by page or streamed.
func (h *History) each(ctx context.Context, want Source, f models.HistoryFilter, fn func(models.BanRecord) error) (Chosen, error) {
	chosen := h.sources.Pick(ctx, want, f)
	if chosen.host != "" {
		next := fn
		fn = func(b models.BanRecord) error {
			if b.Host == "" {
				b.Host = chosen.host
			}
			return next(b)
		}
	}
	if st, ok := chosen.src.(banStreamer); ok {
		return chosen, st.EachBan(ctx, f, fn)
	}
	for page := 1; ; page++ {
		// Pages as large as the sources give: they cap a page at
		// sqlkit.MaxPageSize, and a shorter page is the last.
		bans, _, err := chosen.src.Bans(ctx, f, models.Page{Number: page, Size: sqlkit.MaxPageSize})
		if err != nil {
			return chosen, err
		}
		for _, b := range bans {
			if err := fn(b); err != nil {
				return chosen, err
			}
		}
		if len(bans) < sqlkit.MaxPageSize {
			return chosen, nil
		}
	}
}

// banStreamer is a source that can stream all matching events in one query.
type banStreamer interface {
	EachBan(ctx context.Context, f models.HistoryFilter, fn func(models.BanRecord) error) error
}

// IPTimelineLimit is how many of an address's newest events the per-IP
// page lists; the totals always count them all.
const IPTimelineLimit = 50

// IPReport is everything the per-IP page shows.
type IPReport struct {
	IP       string
	Events   []models.BanRecord // newest first, at most IPTimelineLimit
	Bans     int64              // ban events in all
	Failures int64
	First    time.Time
	Last     time.Time
	Hosts    []IPOnHost // the address on each host asked, in the registry's order
}

// IPOnHost is an address's state on one host right now.
type IPOnHost struct {
	Host    string
	Current []models.ActiveBan // where it is banned
	Jails   []string           // running jails, for the action forms
	Offline lang.Message       // set when the host could not be asked
}

// ErrUnknownIP means neither fail2ban nor the archive knows the address.
var ErrUnknownIP = errors.New("no record of this address")

// IP returns the history and current state of one address on a host, or on
// every host when host is "". The history is the archive's, plus the rows
// of each host's fail2ban database that the panel reads directly and that
// are newer than the archive's last one for this address on that host (not
// synced yet); totals are counted in SQL. The current state is asked of
// every host at once (EachHost: each within HostDeadline); a host that
// does not answer is named in its IPOnHost, the others still show.
func (h *History) IP(ctx context.Context, host, raw string) (IPReport, error) {
	list := h.sources.hosts.All()
	if host != "" {
		one, err := h.sources.hosts.Get(host)
		if err != nil {
			return IPReport{}, err
		}
		list = []hosts.Host{one}
	}
	norm, err := fail2ban.NormalizeTargets([]string{raw})
	if err != nil {
		return IPReport{}, err
	}
	rep := IPReport{IP: norm[0]}
	archive := h.sources.archive
	totals, err := archive.IPTotals(ctx, host, rep.IP, time.Time{})
	if err != nil {
		return rep, err
	}
	events, err := archive.RecentOfIP(ctx, host, rep.IP, IPTimelineLimit)
	if err != nil {
		return rep, err
	}
	// Each host at once, within its deadline: what its fail2ban database
	// holds that the archive has not synced yet (when the panel reads it
	// directly), and where the address is banned now.
	type part struct {
		newer   repo.IPTotals
		live    []models.BanRecord
		current []models.ActiveBan
		jails   []string
		state   error // why the current state is unknown
	}
	parts := EachHost(ctx, list, func(ctx context.Context, hh hosts.Host) (part, error) {
		var p part
		if r, err := h.sources.Fail2banDB(ctx, hh.ID()); err == nil {
			synced := totals
			if len(list) > 1 { // the archive's last event of this host
				if synced, err = archive.IPTotals(ctx, hh.ID(), rep.IP, time.Time{}); err != nil {
					return p, err
				}
			}
			if p.newer, err = r.IPTotals(ctx, rep.IP, synced.Last); err != nil {
				return p, err
			}
			// Only what the archive has not synced yet: its copies of
			// older rows are listed from the archive.
			if p.newer.Bans > 0 {
				if p.live, err = r.RecentOfIPAfter(ctx, rep.IP, synced.Last, IPTimelineLimit); err != nil {
					return p, err
				}
			}
			for i := range p.live {
				p.live[i].Host = hh.ID()
			}
		}
		p.current, p.jails, p.state = h.jails.CurrentBansOf(ctx, hh.ID(), rep.IP)
		return p, nil
	})
	banned := false
	for _, r := range parts {
		if r.Err != nil { // its fail2ban database could not be read in time
			rep.Hosts = append(rep.Hosts, IPOnHost{Host: r.Host, Offline: describeIPStateError(r.Err)})
			continue
		}
		totals = totals.Add(r.Value.newer)
		events = mergeEvents(events, r.Value.live)
		on := IPOnHost{Host: r.Host, Current: r.Value.current, Jails: r.Value.jails}
		if r.Value.state != nil {
			on.Offline = describeIPStateError(r.Value.state)
		}
		banned = banned || len(on.Current) > 0
		rep.Hosts = append(rep.Hosts, on)
	}
	if len(events) > IPTimelineLimit {
		events = events[:IPTimelineLimit]
	}
	rep.Events = events
	rep.Bans, rep.Failures, rep.First, rep.Last = totals.Bans, totals.Failures, totals.First, totals.Last
	if len(rep.Events) == 0 && !banned {
		return rep, ErrUnknownIP
	}
	return rep, nil
}

// describeIPStateError says why a host's current state of an address is
// unknown.
func describeIPStateError(err error) lang.Message {
	if fail2ban.IsUnreachable(err) {
		return lang.M("bans.ip_state_no_answer")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return lang.M("bans.ip_state_timeout", "Deadline", HostDeadline)
	}
	return lang.M("bans.ip_state_failed", "Reason", Fail2banProblem(err))
}

// mergeEvents joins two newest-first event lists, dropping the copies the
// archive made of fail2ban's rows.
func mergeEvents(a, b []models.BanRecord) []models.BanRecord {
	type key struct {
		host, jail, action string
		t                  int64
	}
	seen := map[key]bool{}
	out := make([]models.BanRecord, 0, len(a)+len(b))
	for _, list := range [][]models.BanRecord{a, b} {
		for _, e := range list {
			action := e.Action
			if action == "" {
				action = "ban"
			}
			k := key{e.Host, e.Jail, action, e.TimeOfBan.Unix()}
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TimeOfBan.After(out[j].TimeOfBan) })
	return out
}
