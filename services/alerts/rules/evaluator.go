package rules

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"bangui/events"
	"bangui/models"
	"bangui/repo"
	"bangui/services/alerts"
)

// auditPollEvery is how often the evaluator reads new audit entries.
const auditPollEvery = 10 * time.Second

// finishWithin bounds an evaluation that goes on after the evaluator was
// told to stop.
const finishWithin = 30 * time.Second

// watchScanLimit bounds the addresses one watch check reads.
const watchScanLimit = 10_000

// Evaluator turns what the panel notices into alerts of the enabled rules.
// Run it in one panel process at a time (under a lease): its memory of
// what it already said is its own.
type Evaluator struct {
	Store  *repo.AlertRuleStore
	Events *events.Broker
	Sink   alerts.Sink
	Log    *slog.Logger
	// Now is the clock (time.Now when nil); Location the panel's time
	// zone for digests (UTC when nil).
	Now      func() time.Time
	Location func(ctx context.Context) *time.Location
	// AuditEvery is how often new audit entries are read (auditPollEvery
	// when 0); TickEvery how often digests are due-checked (a minute when 0).
	AuditEvery, TickEvery time.Duration
	// State, when set, keeps across restarts and lease hand-overs what
	// must be neither lost nor said twice: the last audit entry read and
	// each digest's last period, when each spike was told, when the
	// archive was last checked (repo.Settings has it).
	State State
	// Failures, when set, tells the watch rules of failures fail2ban
	// found (HostLogs reads them from the hosts' logs), read every
	// FailEvery (30 s when 0); unset, they see bans only.
	Failures  FailureSource
	FailEvery time.Duration

	mu        sync.Mutex
	spikes    map[string]time.Time // group key → last alert
	seen      map[string]time.Time // "country/…", "watch/…" keys → last alert
	since     time.Time            // archive watermark of country and watch checks
	floor     time.Time            // the watermark this process started from
	down      map[string]time.Time // host → when it went down
	online    map[string]bool      // host → last known state
	imports   map[time.Time]bool   // finished import runs already judged, by start
	lastAudit int64
	digests   map[int64]string           // rule → the last digest period sent
	failLines map[string]map[string]bool // host → the failure lines of its last reading (nil: none yet)
}

func (e *Evaluator) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Evaluator) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

// State is a small key-value store.
type State interface {
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, value string) error
}

// The State keys.
const (
	stateAuditSeen      = "alerts.audit_seen"
	stateDigestPrefix   = "alerts.digest."
	stateSpikePrefix    = "alerts.spike."
	stateArchiveChecked = "alerts.archive_checked"
)

// loadState reads key, "" when it is not there or State is unset.
func (e *Evaluator) loadState(ctx context.Context, key string) string {
	if e.State == nil {
		return ""
	}
	v, _ := e.State.Get(ctx, key) // not there: ""
	return v
}

// saveState stores key (when State is set).
func (e *Evaluator) saveState(ctx context.Context, key, value string) {
	if e.State == nil {
		return
	}
	if err := e.State.Set(ctx, key, value); err != nil {
		e.log().Warn("alert rules: state not saved", "key", key, "err", err)
	}
}

// Start subscribes to the panel's events at once and evaluates the rules
// in the background until ctx ends; done closes when it stopped.
func (e *Evaluator) Start(ctx context.Context) (done <-chan struct{}) {
	sub := e.Events.Subscribe(ctx, events.TopicArchive, events.TopicStatus, events.TopicImport)
	e.spikes, e.seen, e.down, e.online = map[string]time.Time{}, map[string]time.Time{}, map[string]time.Time{}, map[string]bool{}
	e.imports, e.digests, e.since = map[time.Time]bool{}, map[int64]string{}, e.now()
	e.failLines = nil
	// Bans a panel before this one checked are not news again; those of
	// the hour since its last check are (a restart loses nothing).
	if sec, err := strconv.ParseInt(e.loadState(ctx, stateArchiveChecked), 10, 64); err == nil {
		if after := time.Unix(sec+1, 0); e.since.Sub(after) < time.Hour {
			e.since = after
		}
	}
	e.floor = e.since
	if id, err := strconv.ParseInt(e.loadState(ctx, stateAuditSeen), 10, 64); err == nil {
		e.lastAudit = id // where this or another panel's evaluator stopped
	} else if id, err := e.Store.LastAuditID(ctx); err == nil {
		e.lastAudit = id // the first run: what was audited before is not news
		e.saveState(ctx, stateAuditSeen, strconv.FormatInt(id, 10))
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		e.run(ctx, sub)
	}()
	return ch
}

func (e *Evaluator) run(ctx context.Context, sub <-chan events.Event) {
	audit := time.NewTicker(orDefault(e.AuditEvery, auditPollEvery))
	defer audit.Stop()
	tick := time.NewTicker(orDefault(e.TickEvery, time.Minute))
	defer tick.Stop()
	failing := time.NewTicker(orDefault(e.FailEvery, failEvery))
	defer failing.Stop()
	// An evaluation under way when ctx ends finishes (within
	// finishWithin): its alerts are queued and its watermarks saved
	// together, so that the next process neither repeats nor loses them.
	step := func(check func(context.Context)) {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishWithin)
		defer cancel()
		check(c)
	}
	step(e.CheckFailures) // what the logs hold now is no news
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-sub:
			if !ok {
				return
			}
			step(func(c context.Context) { e.Handle(c, ev) })
		case <-audit.C:
			step(e.CheckAudit)
		case <-tick.C:
			step(e.CheckDigests)
		case <-failing.C:
			step(e.CheckFailures)
		}
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// enabled returns the enabled rules of the given kinds.
func (e *Evaluator) enabled(ctx context.Context, kinds ...Kind) []Rule {
	rows, err := e.Store.List(ctx)
	if err != nil {
		e.log().Warn("alert rules", "err", err)
		return nil
	}
	var out []Rule
	for _, row := range rows {
		r, err := ruleOfRow(row)
		if err != nil || !r.Enabled || r.Validate() != nil {
			continue
		}
		for _, k := range kinds {
			if r.Kind == k {
				out = append(out, r)
			}
		}
	}
	return out
}

// send hands one alert of r to the sink.
func (e *Evaluator) send(ctx context.Context, r Rule, key, subject, body string) {
	a := alerts.Alert{RuleID: r.ID, RuleName: r.Name, GroupKey: key, Subject: subject, Body: body, At: e.now()}
	if err := e.Sink.Enqueue(ctx, a, r.Channels, r.Wait); err != nil {
		e.log().Warn("alert not queued", "rule", r.Name, "err", err)
	}
}

// Handle evaluates the rules an event concerns.
func (e *Evaluator) Handle(ctx context.Context, ev events.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev.Topic {
	case events.TopicArchive:
		e.checkArchive(ctx)
	case events.TopicStatus:
		if st, ok := ev.Data.(models.ServerStatus); ok {
			e.checkStatus(ctx, ev.Host, st)
		}
	case events.TopicImport:
		if p, ok := ev.Data.(models.ImportProgress); ok {
			e.checkImport(ctx, p)
		}
	}
}

// checkArchive runs the spike, country and watch rules on the archive.
func (e *Evaluator) checkArchive(ctx context.Context) {
	now := e.now()
	for _, r := range e.enabled(ctx, KindSpike, KindCountry, KindWatch) {
		switch r.Kind {
		case KindSpike:
			e.checkSpike(ctx, r, now)
		case KindCountry:
			e.checkCountries(ctx, r, now)
		case KindWatch:
			e.checkWatched(ctx, r, now)
		}
	}
	// Rows reach the archive seconds after their ban: look back a minute
	// (what was already said is remembered while it may come again), not
	// before what this process started from (its memory is its own).
	e.since = now.Add(-time.Minute)
	if e.since.Before(e.floor) {
		e.since = e.floor
	}
	// The archive's times are whole seconds, rounded: this check saw
	// bans up to a second after its own.
	e.saveState(ctx, stateArchiveChecked, strconv.FormatInt(now.Unix()+1, 10))
	e.forget(now)
}

// forget drops the memories that can no longer stop an alert: spikes
// older than the longest window, countries and addresses older than the
// archive checks' look-back (the watermark passed them), import runs of
// more than a day ago.
func (e *Evaluator) forget(now time.Time) {
	for k, at := range e.spikes {
		if now.Sub(at) > MaxMinutes*time.Minute {
			delete(e.spikes, k)
		}
	}
	for k, at := range e.seen {
		if now.Sub(at) > time.Hour {
			delete(e.seen, k)
		}
	}
	for started := range e.imports {
		if now.Sub(started) > 24*time.Hour {
			delete(e.imports, started)
		}
	}
}

// spikeTold returns when the spike mem was last told: from memory, or
// from State when this process did not tell it (a restart or a lease
// hand-over within the window does not tell it again).
func (e *Evaluator) spikeTold(ctx context.Context, mem string) (time.Time, bool) {
	if last, ok := e.spikes[mem]; ok {
		return last, true
	}
	sec, err := strconv.ParseInt(e.loadState(ctx, stateSpikePrefix+mem), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	e.spikes[mem] = time.Unix(sec, 0)
	return e.spikes[mem], true
}

func (e *Evaluator) checkSpike(ctx context.Context, r Rule, now time.Time) {
	window := time.Duration(r.Params.Minutes) * time.Minute
	groups, err := e.Store.BanCountsSince(ctx, now.Add(-window).Unix(), r.Params.Bans, r.Params.Per)
	if err != nil {
		e.log().Warn("alert rule", "rule", r.Name, "err", err)
		return
	}
	for _, g := range groups {
		key, where := "spike/all", "in all"
		switch r.Params.Per {
		case "jail":
			key, where = "spike/"+g.Host+"/"+g.Jail, "in jail "+g.Jail+" on "+g.Host
		case "host":
			key, where = "spike/"+g.Host, "on "+g.Host
		}
		mem := fmt.Sprintf("%d/%s", r.ID, key)
		if last, ok := e.spikeTold(ctx, mem); ok && now.Sub(last) < window {
			continue // this spike was told; a new one after the window
		}
		e.spikes[mem] = now
		e.saveState(ctx, stateSpikePrefix+mem, strconv.FormatInt(now.Unix(), 10))
		e.send(ctx, r, key, fmt.Sprintf("Ban spike: %d bans in %d minutes %s", g.N, r.Params.Minutes, where),
			fmt.Sprintf("%d bans %s in the last %d minutes (the rule allows %d).", g.N, where, r.Params.Minutes, r.Params.Bans))
	}
}

func (e *Evaluator) checkCountries(ctx context.Context, r Rule, now time.Time) {
	seenFor := time.Duration(r.Params.Days) * 24 * time.Hour
	cs, err := e.Store.NewCountriesSince(ctx, e.since.Unix(), e.since.Add(-seenFor).Unix())
	if err != nil {
		e.log().Warn("alert rule", "rule", r.Name, "err", err)
		return
	}
	for _, c := range cs {
		mem := fmt.Sprintf("%d/country/%s", r.ID, c.Country)
		if _, ok := e.seen[mem]; ok {
			continue
		}
		e.seen[mem] = now
		e.send(ctx, r, "country/"+c.Country, "First ban from "+c.Country+" in "+fmt.Sprint(r.Params.Days)+" days",
			fmt.Sprintf("%d bans from %s (e.g. %s); none in the %d days before.", c.Bans, c.Country, c.IP, r.Params.Days))
	}
}

func (e *Evaluator) checkWatched(ctx context.Context, r Rule, now time.Time) {
	banned, err := e.Store.BannedSince(ctx, e.since.Unix(), watchScanLimit)
	if err != nil {
		e.log().Warn("alert rule", "rule", r.Name, "err", err)
		return
	}
	for _, w := range r.Params.Addresses {
		pfx, err := parseWatched(w)
		if err != nil {
			continue
		}
		for _, b := range banned {
			if !within(pfx, b.IP) {
				continue
			}
			mem := fmt.Sprintf("%d/watch/%s/%s/%s", r.ID, b.Host, b.Jail, b.IP)
			if _, ok := e.seen[mem]; ok {
				continue
			}
			e.seen[mem] = now
			e.send(ctx, r, "watch/"+strings.TrimSpace(w), "Watched address "+b.IP+" banned",
				fmt.Sprintf("%s (watched: %s) was banned in jail %s on %s.", b.IP, w, b.Jail, b.Host))
		}
	}
}

// checkStatus tells the down rules when a host's fail2ban stops answering
// and when it answers again, with how long it was down.
func (e *Evaluator) checkStatus(ctx context.Context, host string, st models.ServerStatus) {
	was, known := e.online[host]
	e.online[host] = st.Online
	if known && was == st.Online {
		return
	}
	at := st.CheckedAt
	if at.IsZero() {
		at = e.now()
	}
	for _, r := range e.enabled(ctx, KindDown) {
		if r.Params.Host != "" && r.Params.Host != host {
			continue
		}
		key := "down/" + host
		switch {
		case !st.Online:
			e.send(ctx, r, key, "fail2ban down on "+host, fmt.Sprintf("fail2ban on %s stopped answering at %s: %s",
				host, at.UTC().Format(time.RFC3339), st.Error))
		case known:
			outage := "an unknown time"
			if since, ok := e.down[host]; ok {
				outage = outageText(at.Sub(since))
			}
			e.send(ctx, r, key, "fail2ban back up on "+host+" after "+outage,
				fmt.Sprintf("fail2ban on %s answers again (version %s); it was down for %s.", host, st.Version, outage))
		}
	}
	if st.Online {
		delete(e.down, host)
	} else {
		e.down[host] = at
	}
}

// checkImport tells the import rules of a finished run that failed, or
// imported nothing when the rule asks.
func (e *Evaluator) checkImport(ctx context.Context, p models.ImportProgress) {
	if p.Running || p.FinishedAt.IsZero() || e.imports[p.StartedAt] {
		return
	}
	e.imports[p.StartedAt] = true
	var imported, listed int64
	unchanged := false
	var errs []string
	if !p.Error.IsZero() {
		errs = append(errs, p.Error.Error())
	}
	for _, s := range p.Results {
		imported += s.Imported
		listed += s.Imported + s.AlreadyBanned
		unchanged = unchanged || s.Unchanged
		if !s.Error.IsZero() {
			errs = append(errs, s.Name+": "+s.Error.Error())
		}
	}
	for _, r := range e.enabled(ctx, KindImport) {
		switch {
		case len(errs) > 0:
			e.send(ctx, r, "import/failed", "Blocklist import failed", strings.Join(errs, "\n"))
		case r.Params.Zero && listed == 0 && !unchanged:
			e.send(ctx, r, "import/zero", "Blocklist import imported nothing",
				fmt.Sprintf("The import of %d sources started %s banned no address.", p.Sources, p.StartedAt.UTC().Format(time.RFC3339)))
		}
	}
}

// CheckAudit tells the config rules of configuration saves and rollbacks
// audited since the last check.
func (e *Evaluator) CheckAudit(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	entries, err := e.Store.AuditAfter(ctx, e.lastAudit, []models.AuditAction{models.AuditConfigSave, models.AuditConfigUndo}, 500)
	if err != nil {
		e.log().Warn("alert rules: audit log", "err", err)
		return
	}
	if len(entries) == 0 {
		return
	}
	e.lastAudit = entries[len(entries)-1].ID
	defer e.saveState(ctx, stateAuditSeen, strconv.FormatInt(e.lastAudit, 10))
	rules := e.enabled(ctx, KindConfig)
	for _, en := range entries {
		what := "Configuration saved"
		if en.Action == models.AuditConfigUndo {
			what = "Configuration rolled back"
		}
		for _, r := range rules {
			e.send(ctx, r, "config/"+en.Host, fmt.Sprintf("%s on %s: %s", what, en.Host, en.File),
				fmt.Sprintf("%s by %s on %s, file %s %s; result: %s.", what, en.Actor, en.Host, en.File, en.Detail, en.Result))
		}
	}
}

// outageText is how long an outage lasted, to the second, or to the
// millisecond when it was shorter than ten seconds.
func outageText(d time.Duration) string {
	if d < 10*time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// LeaseName is the lease under which one panel process evaluates the rules.
const LeaseName = "alert-rules"

// LeaseHolder is the part of *services.Leases the evaluator needs.
type LeaseHolder interface {
	Hold(ctx context.Context, name string) (context.Context, func(keep time.Duration), bool, error)
}

// RunLeased evaluates the rules while this process holds LeaseName, so
// that panels sharing a database do not alert twice; it tries to take the
// lease every retry while another process holds it, and returns when ctx
// ends.
func (e *Evaluator) RunLeased(ctx context.Context, l LeaseHolder, retry time.Duration) {
	for ctx.Err() == nil {
		work, release, held, err := l.Hold(ctx, LeaseName)
		if err != nil && ctx.Err() == nil {
			e.log().Warn("alert rules: lease not taken", "err", err)
		}
		if err == nil && held {
			<-e.Start(work)
			release(0)
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}
