package rules_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"bangui/events"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/alerts"
	"bangui/services/alerts/rules"
	"bangui/services/blocklists"
	"bangui/services/internal/servicetest"
)

// recordingSink keeps every alert it is given, with its channels and wait.
type recordingSink struct {
	mu  sync.Mutex
	got []queued
}

type queued struct {
	alerts.Alert
	channels []int64
	wait     time.Duration
}

func (s *recordingSink) Enqueue(_ context.Context, a alerts.Alert, channels []int64, wait time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, queued{a, channels, wait})
	return nil
}

func (s *recordingSink) all() []queued {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// waitFor polls until the sink holds at least n alerts, for up to 20 s.
func (s *recordingSink) waitFor(t *testing.T, n int) []queued {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := s.all()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d alerts within 20 s, want %d: %+v", len(got), n, got)
		}
		time.Sleep(50 * time.Millisecond) // polling, not waiting for an outcome
	}
}

// rig is a real SQLite database with the rules, a broker and an evaluator
// sending to a recording sink.
type rig struct {
	db    *bun.DB
	store *repo.AlertRuleStore
	rules *rules.Service
	bus   *events.Broker
	sink  *recordingSink
	eval  *rules.Evaluator
}

func newRig(t *testing.T) *rig {
	t.Helper()
	db, err := repo.Open(context.Background(), repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := repo.NewAlertRuleStore(db)
	r := &rig{db: db, store: store, rules: rules.NewService(store), bus: events.New(), sink: &recordingSink{}}
	r.eval = r.evaluator()
	return r
}

// evaluator is a panel process's evaluator on the rig's database (the
// rig's broker and sink).
func (r *rig) evaluator() *rules.Evaluator {
	return &rules.Evaluator{Store: r.store, Events: r.bus, Sink: r.sink, AuditEvery: 50 * time.Millisecond, State: repo.NewSettingsStore(r.db)}
}

func (r *rig) add(t *testing.T, rule rules.Rule) int64 {
	t.Helper()
	rule.Enabled = true
	id, err := r.rules.Save(context.Background(), rule)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (r *rig) start(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := r.eval.Start(ctx)
	t.Cleanup(func() { cancel(); <-done })
}

// TestBanBurstSendsOneSpikeAlertPerGroup bans 500 addresses in two jails of
// a real fail2ban while the archive tail runs: the spike rules send one
// alert per group key (per jail, and in all), however many archive syncs
// follow.
func TestBanBurstSendsOneSpikeAlertPerGroup(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd"}, sandbox.Jail{Name: "web", Filter: "sshd"})
	r := newRig(t)
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	t.Cleanup(func() { reg.Close() })
	tail := services.NewArchiveSync(services.NewBanSources(reg, repo.NewHistoryArchive(r.db)), repo.NewSettingsStore(r.db))
	tail.Events = r.bus
	perJail := r.add(t, rules.Rule{Name: "storm per jail", Kind: rules.KindSpike, Channels: []int64{1, 2}, Wait: time.Minute,
		Params: rules.Params{Bans: 150, Minutes: 10, Per: "jail"}})
	r.add(t, rules.Rule{Name: "storm", Kind: rules.KindSpike, Channels: []int64{1}, Params: rules.Params{Bans: 450, Minutes: 10, Per: "all"}})
	r.add(t, rules.Rule{Name: "quiet", Kind: rules.KindSpike, Params: rules.Params{Bans: 1000, Minutes: 10, Per: "host"}})
	r.start(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { tail.Tail(ctx, services.DefaultTailEvery) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	for jail, n := range map[string]int{"sshd": 300, "web": 200} {
		ips := make([]string, n)
		for i := range ips {
			ips[i] = fmt.Sprintf("198.51.%d.%d", 100+boolInt(jail == "web"), i%250+1)
			if i >= 250 {
				ips[i] = fmt.Sprintf("203.0.%d.%d", 113-boolInt(jail == "web")*10, i%250+1)
			}
		}
		for batch := range slices.Chunk(ips, 25) { // one command each: a loaded machine answers within the client's timeout
			if _, err := sb.Client().Ban(context.Background(), jail, batch...); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := r.sink.waitFor(t, 3)
	// More syncs of the same storm add nothing.
	r.eval.Handle(context.Background(), events.Event{Topic: events.TopicArchive})
	r.eval.Handle(context.Background(), events.Event{Topic: events.TopicArchive})
	got = r.sink.all()
	keys := map[string]int{}
	for _, a := range got {
		keys[a.GroupKey]++
		if a.GroupKey == "spike/local/sshd" && (a.RuleID != perJail || !slices.Equal(a.channels, []int64{1, 2}) || a.wait != time.Minute) {
			t.Errorf("per-jail alert %+v, want rule %d to channels 1, 2 after a minute", a, perJail)
		}
	}
	want := map[string]int{"spike/local/sshd": 1, "spike/local/web": 1, "spike/all": 1}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Fatalf("alerts per group key %v, want %v: %+v", keys, want, got)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestFail2banDownAndUpAlertsWithOutage stops a real fail2ban and starts
// it again under the status probe: a down alert, then an up alert that
// says how long it was down.
func TestFail2banDownAndUpAlertsWithOutage(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd"})
	r := newRig(t)
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	t.Cleanup(func() { reg.Close() })
	probe := services.NewStatusProbe(reg)
	probe.Events = r.bus
	r.add(t, rules.Rule{Name: "down", Kind: rules.KindDown, Channels: []int64{3}})
	r.add(t, rules.Rule{Name: "other host", Kind: rules.KindDown, Params: rules.Params{Host: "edge"}})
	r.start(t)
	ctx := context.Background()
	if st := probe.RefreshHost(ctx, "local"); !st.Online {
		t.Fatalf("status %+v, want online", st)
	}
	if err := sb.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if st := probe.RefreshHost(ctx, "local"); st.Online {
		t.Fatalf("status %+v after stop, want offline", st)
	}
	down := r.sink.waitFor(t, 1)
	if len(down) != 1 || down[0].Subject != "fail2ban down on local" || down[0].GroupKey != "down/local" {
		t.Fatalf("alerts after stop %+v, want one down alert of local", down)
	}
	if err := sb.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Stop(context.Background()) })
	if st := probe.RefreshHost(ctx, "local"); !st.Online {
		t.Fatalf("status %+v after restart, want online", st)
	}
	got := r.sink.waitFor(t, 2)
	up := got[1]
	if len(got) != 2 || !strings.HasPrefix(up.Subject, "fail2ban back up on local after ") || !strings.Contains(up.Body, "it was down for ") {
		t.Fatalf("alerts %+v, want a down and an up alert with the outage", got)
	}
	outage, err := time.ParseDuration(strings.TrimPrefix(up.Subject, "fail2ban back up on local after "))
	if err != nil || outage <= 0 || outage > time.Minute {
		t.Fatalf("outage %q (%v), want the seconds the restart took", up.Subject, err)
	}
}

// TestImportFailedOrEmptyAlerts: a finished import with a failed source
// alerts; one that banned nothing alerts only the rules asking for it;
// the same run heard twice alerts once; runs in progress are no news.
func TestImportFailedOrEmptyAlerts(t *testing.T) {
	r := newRig(t)
	r.add(t, rules.Rule{Name: "imports", Kind: rules.KindImport, Params: rules.Params{Zero: true}})
	r.add(t, rules.Rule{Name: "failures only", Kind: rules.KindImport})
	r.start(t)
	start := time.Now()
	failed := models.ImportProgress{StartedAt: start, FinishedAt: start.Add(time.Second), Sources: 1,
		Results: []models.ImportSourceResult{{Name: "spamhaus", Error: lang.Raw("HTTP 503")}}}
	r.bus.Publish(events.Event{Topic: events.TopicImport, Data: models.ImportProgress{Running: true, StartedAt: start}})
	r.bus.Publish(events.Event{Topic: events.TopicImport, Data: failed})
	r.bus.Publish(events.Event{Topic: events.TopicImport, Data: failed})
	empty := models.ImportProgress{StartedAt: start.Add(time.Hour), FinishedAt: start.Add(time.Hour + time.Second), Sources: 1,
		Results: []models.ImportSourceResult{{Name: "empty list"}}}
	r.bus.Publish(events.Event{Topic: events.TopicImport, Data: empty})
	got := r.sink.waitFor(t, 3)
	var subjects []string
	for _, a := range got {
		subjects = append(subjects, a.RuleName+": "+a.Subject)
	}
	want := []string{"imports: Blocklist import failed", "failures only: Blocklist import failed", "imports: Blocklist import imported nothing"}
	if !slices.Equal(subjects, want) || !strings.Contains(got[0].Body, "spamhaus: HTTP 503") {
		t.Fatalf("alerts %q (%+v), want %q", subjects, got, want)
	}
}

// TestAuditedConfigChangeAlerts records a configuration save and a
// rollback in the real audit log: one alert each; entries from before the
// evaluator started and other actions are no news.
func TestAuditedConfigChangeAlerts(t *testing.T) {
	r := newRig(t)
	audit := repo.NewAuditStore(r.db)
	ctx := context.Background()
	if err := audit.Record(ctx, models.AuditEntry{At: 1, Actor: "old", Action: models.AuditConfigSave, Host: "local", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	r.add(t, rules.Rule{Name: "config", Kind: rules.KindConfig, Channels: []int64{7}})
	r.start(t)
	for _, e := range []models.AuditEntry{
		{At: 2, Actor: "alice", Action: models.AuditConfigSave, Host: "local", File: "jail.d/sshd.local", Result: "ok"},
		{At: 3, Actor: "alice", Action: models.AuditBan, Host: "local", Target: "192.0.2.1", Result: "ok"},
		{At: 4, Actor: "bob", Action: models.AuditConfigUndo, Host: "local", File: "jail.d/sshd.local", Result: "ok"},
	} {
		if err := audit.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got := r.sink.waitFor(t, 2)
	if len(got) != 2 || got[0].Subject != "Configuration saved on local: jail.d/sshd.local" ||
		got[1].Subject != "Configuration rolled back on local: jail.d/sshd.local" || !strings.Contains(got[1].Body, "by bob") {
		t.Fatalf("alerts %+v, want a save by alice and a rollback by bob", got)
	}
}

// TestDigestAtItsTimeInThePanelZone runs the digest check at a controlled
// clock: nothing before 08:00 Berlin time, one digest with the day's
// counts at 08:00, none again that day, the next one the next day.
func TestDigestAtItsTimeInThePanelZone(t *testing.T) {
	r := newRig(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	due := time.Date(2026, 12, 7, 8, 0, 0, 0, berlin)
	ctx := context.Background()
	for i, b := range []struct {
		ip, jail, country string
		at                time.Time
	}{
		{"192.0.2.1", "sshd", "DE", due.Add(-30 * time.Hour)}, // before the day: an old offender
		{"192.0.2.1", "sshd", "DE", due.Add(-2 * time.Hour)},
		{"192.0.2.2", "sshd", "FR", due.Add(-3 * time.Hour)},
		{"192.0.2.3", "web", "FR", due.Add(-4 * time.Hour)},
		{"192.0.2.4", "sshd", "FR", due.Add(time.Hour)}, // after the digest's time
	} {
		_, err := r.db.ExecContext(ctx, "INSERT INTO history_archive (jail, ip, timeofban, action, origin, country_code, host) VALUES (?, ?, ?, 'ban', 'selfblock', ?, 'local')",
			b.jail, b.ip, b.at.Unix(), b.country)
		if err != nil {
			t.Fatal(i, err)
		}
	}
	r.add(t, rules.Rule{Name: "daily", Kind: rules.KindDigest, Params: rules.Params{Every: "daily", At: "08:00"}})
	r.add(t, rules.Rule{Name: "weekly", Kind: rules.KindDigest, Params: rules.Params{Every: "weekly", At: "08:00", Weekday: int(time.Sunday)}})
	now := due.Add(-time.Minute)
	r.eval.Now = func() time.Time { return now }
	r.eval.Location = func(context.Context) *time.Location { return berlin }
	r.eval.TickEvery = time.Hour // the test calls the check itself
	r.start(t)
	r.eval.CheckDigests(ctx)
	if got := r.sink.all(); len(got) != 0 {
		t.Fatalf("alerts before 08:00: %+v", got)
	}
	now = due.Add(30 * time.Second).UTC()
	r.eval.CheckDigests(ctx)
	now = due.Add(10 * time.Minute)
	r.eval.CheckDigests(ctx)
	got := r.sink.all()
	if len(got) != 1 || got[0].Subject != "BanGUI daily digest: 3 bans" || !strings.Contains(got[0].Body, "3 bans, 2 new offenders") ||
		!strings.Contains(got[0].Body, "Top countries: FR 2, DE 1\nTop jails: sshd 2, web 1") {
		t.Fatalf("digests at 08:00 (a Monday) %+v, want one daily digest of the day's 3 bans", got)
	}
	now = due.Add(24 * time.Hour)
	r.eval.CheckDigests(ctx)
	if got := r.sink.all(); len(got) != 2 {
		t.Fatalf("digests the next day %+v, want a second one", got)
	}
}

// TestAbsurdRulesAreRefused: thresholds of zero, below zero or absurdly
// high, and other nonsense, are refused with a message and not stored.
func TestAbsurdRulesAreRefused(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	spike := func(bans, minutes int64, per string) rules.Rule {
		return rules.Rule{Name: "s", Kind: rules.KindSpike, Params: rules.Params{Bans: bans, Minutes: minutes, Per: per}}
	}
	for _, c := range []struct {
		rule rules.Rule
		msg  string
	}{
		{spike(0, 10, "all"), "number of bans must be between 1"},
		{spike(-5, 10, "all"), "number of bans must be between 1"},
		{spike(1e12, 10, "all"), "number of bans must be between 1"},
		{spike(10, 0, "all"), "window must be between 1"},
		{spike(10, 1e9, "all"), "window must be between 1"},
		{spike(10, 10, "planet"), "per jail, per host or in all"},
		{rules.Rule{Kind: rules.KindDown}, "needs a name"},
		{rules.Rule{Name: "c", Kind: rules.KindCountry, Params: rules.Params{Days: 0}}, "days"},
		{rules.Rule{Name: "w", Kind: rules.KindWatch, Params: rules.Params{Addresses: []string{"not-an-ip"}}}, "is not an IP address"},
		{rules.Rule{Name: "d", Kind: rules.KindDigest, Params: rules.Params{Every: "daily", At: "25:00"}}, "HH:MM"},
		{rules.Rule{Name: "x", Kind: "telepathy"}, "Unknown kind"},
		{rules.Rule{Name: "wait", Kind: rules.KindDown, Wait: 48 * time.Hour}, "grouping wait"},
	} {
		_, err := r.rules.Save(ctx, c.rule)
		v, ok := rules.IsValidation(err)
		if !ok || !strings.Contains(v.Msg.Error(), c.msg) {
			t.Errorf("Save(%+v) = %v, want a refusal saying %q", c.rule, err, c.msg)
		}
	}
	if list, err := r.rules.List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("stored rules %+v (%v), want none", list, err)
	}
	if err := r.rules.Delete(ctx, 99); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("Delete of a missing rule = %v, want not found", err)
	}
}

// TestTwoPanelsAlertOnce runs the evaluators of two panel processes on one
// database, each with its own leases: only the lease holder alerts.
func TestTwoPanelsAlertOnce(t *testing.T) {
	r := newRig(t)
	r.add(t, rules.Rule{Name: "imports", Kind: rules.KindImport})
	other := &rules.Evaluator{Store: r.store, Events: events.New(), Sink: r.sink}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for _, e := range []*rules.Evaluator{r.eval, other} {
		leases := services.NewLeases(repo.NewLeases(r.db), 0, nil)
		wg.Go(func() { e.RunLeased(ctx, leases, 50*time.Millisecond) })
	}
	start := time.Now()
	failed := models.ImportProgress{StartedAt: start, FinishedAt: start, Error: lang.Raw("the jail is missing")}
	deadline := time.Now().Add(10 * time.Second)
	for len(r.sink.all()) == 0 && time.Now().Before(deadline) {
		// Until the holder subscribed: the same run, told to both panels.
		r.bus.Publish(events.Event{Topic: events.TopicImport, Data: failed})
		other.Events.Publish(events.Event{Topic: events.TopicImport, Data: failed})
		time.Sleep(20 * time.Millisecond) // polling
	}
	// The same run again, then a second run: once the second run's alert
	// is in, the holder has heard everything before it.
	second := failed
	second.StartedAt = start.Add(time.Minute)
	for _, p := range []models.ImportProgress{failed, failed, second} {
		r.bus.Publish(events.Event{Topic: events.TopicImport, Data: p})
		other.Events.Publish(events.Event{Topic: events.TopicImport, Data: p})
	}
	if got := r.sink.waitFor(t, 2); len(got) != 2 {
		t.Fatalf("alerts %+v, want one per run from the lease holder", got)
	}
	if subs := r.bus.Subscribers() + other.Events.Subscribers(); subs != 1 {
		t.Fatalf("%d evaluators subscribed, want only the lease holder", subs)
	}
}

// TestNewCountryAndWatchedAddressAlerts stores bans in the real archive:
// a country last seen 10 days ago is no news to a 30-day rule, a country
// never seen is; a ban inside a watched range alerts once, however many
// syncs follow, and bans outside it do not.
func TestNewCountryAndWatchedAddressAlerts(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	ban := func(ip, country string, at time.Time) {
		t.Helper()
		_, err := r.db.ExecContext(ctx, "INSERT INTO history_archive (jail, ip, timeofban, action, origin, country_code, host) VALUES ('sshd', ?, ?, 'ban', 'selfblock', ?, 'local')",
			ip, at.Unix(), country)
		if err != nil {
			t.Fatal(err)
		}
	}
	ban("192.0.2.1", "DE", time.Now().Add(-10*24*time.Hour))
	r.add(t, rules.Rule{Name: "new country", Kind: rules.KindCountry, Params: rules.Params{Days: 30}})
	r.add(t, rules.Rule{Name: "watch", Kind: rules.KindWatch, Params: rules.Params{Addresses: []string{"203.0.113.0/24", "2001:db8::1"}}})
	r.start(t)
	ban("192.0.2.2", "DE", time.Now())
	ban("198.51.100.7", "FR", time.Now())
	ban("203.0.113.9", "FR", time.Now())
	for range 3 {
		r.eval.Handle(ctx, events.Event{Topic: events.TopicArchive})
	}
	var subjects []string
	for _, a := range r.sink.all() {
		subjects = append(subjects, a.RuleName+": "+a.Subject)
	}
	want := []string{"new country: First ban from FR in 30 days", "watch: Watched address 203.0.113.9 banned"}
	if !slices.Equal(subjects, want) {
		t.Fatalf("alerts %q, want %q", subjects, want)
	}
}

// TestRestartedEvaluatorLosesAndRepeatsNothing stops an evaluator, audits
// a configuration save while none runs, and starts another at the same
// digest time: the save is told, the day's digest not again.
func TestRestartedEvaluatorLosesAndRepeatsNothing(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	audit := repo.NewAuditStore(r.db)
	r.add(t, rules.Rule{Name: "config", Kind: rules.KindConfig})
	r.add(t, rules.Rule{Name: "daily", Kind: rules.KindDigest, Params: rules.Params{Every: "daily", At: "06:00"}})
	now := time.Date(2026, 12, 7, 6, 5, 0, 0, time.UTC)
	first := r.evaluator()
	first.Now = func() time.Time { return now }
	runCtx, stop := context.WithCancel(ctx)
	done := first.Start(runCtx)
	first.CheckDigests(ctx)
	stop()
	<-done
	if err := audit.Record(ctx, models.AuditEntry{At: 5, Actor: "carol", Action: models.AuditConfigSave, Host: "local", File: "jail.local", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	second := r.evaluator()
	second.Now = func() time.Time { return now.Add(time.Minute) }
	r.eval = second
	r.start(t)
	second.CheckDigests(ctx)
	second.CheckAudit(ctx)
	var subjects []string
	for _, a := range r.sink.all() {
		subjects = append(subjects, a.Subject)
	}
	slices.Sort(subjects) // the audit poll may come first
	want := []string{"BanGUI daily digest: 0 bans", "Configuration saved on local: jail.local"}
	if !slices.Equal(subjects, want) {
		t.Fatalf("alerts %q, want %q", subjects, want)
	}
}

// TestRealBlocklistImportFailureAlerts runs a real blocklist import whose
// list cannot be downloaded, against a real fail2ban: its finished event
// makes the import rule alert with the source's error.
func TestRealBlocklistImportFailureAlerts(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd"})
	r := newRig(t)
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	t.Cleanup(func() { reg.Close() })
	ctx := context.Background()
	b := blocklists.New(blocklists.Stores{Sources: repo.NewBlocklistStore(r.db), Logs: repo.NewImportLogStore(r.db),
		Runs: repo.NewImportRunStore(r.db), Settings: repo.NewSettingsStore(r.db)}, reg, services.NewStatusProbe(reg),
		blocklists.Options{Events: r.bus, Logger: slog.New(slog.DiscardHandler)})
	if _, err := b.CreateSource(ctx, blocklists.SourceInput{Name: "unreachable", URL: "http://127.0.0.1:1/list.txt", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	r.add(t, rules.Rule{Name: "imports", Kind: rules.KindImport, Channels: []int64{5}})
	r.start(t)
	if _, err := b.Import(ctx, 0, models.TriggerManual); err != nil {
		t.Fatal(err)
	}
	got := r.sink.waitFor(t, 1)
	if len(got) != 1 || got[0].Subject != "Blocklist import failed" || !strings.HasPrefix(got[0].Body, "unreachable: ") || !slices.Equal(got[0].channels, []int64{5}) {
		t.Fatalf("alerts %+v, want one saying the source failed", got)
	}
}
