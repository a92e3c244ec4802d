package blocklists

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/internal/servicetest"
)

// importEnvT is a panel database, a real fail2ban and a list server.
type importEnvT struct {
	t     *testing.T
	db    *bun.DB
	sb    *sandbox.Sandbox
	lists *listServer
	hosts *hosts.Registry
}

func newImportEnv(t *testing.T) *importEnvT {
	t.Helper()
	sb := sandboxtest.Start(t)
	db, err := repo.Open(context.Background(), repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &importEnvT{t: t, db: db, sb: sb, lists: newListServer(t),
		hosts: servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})}
}

// storesOn returns the blocklist stores on a panel database.
func storesOn(db *bun.DB) Stores {
	return Stores{Sources: repo.NewBlocklistStore(db), Logs: repo.NewImportLogStore(db),
		Runs: repo.NewImportRunStore(db), Settings: repo.NewSettingsStore(db)}
}

// service returns a Service on the environment, as a fresh process
// would create it; batch is the number of addresses per banip call.
func (e *importEnvT) service(batch int, onBatch func(runID, done, total int64)) *Service {
	return New(storesOn(e.db), e.hosts, services.NewStatusProbe(e.hosts), Options{
		Downloader: testDownloader(), BatchSize: batch, OnBatch: onBatch,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

func (e *importEnvT) addSource(b *Service, name, url string) models.BlocklistSource {
	e.t.Helper()
	src, err := b.CreateSource(context.Background(), SourceInput{Name: name, URL: url, Enabled: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return src
}

// banned returns what fail2ban bans in the blocklist jail.
func (e *importEnvT) banned() []string {
	e.t.Helper()
	st, err := e.sb.Client().JailStatus(context.Background(), models.BlocklistJail)
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Sort(st.Banned)
	return st.Banned
}

// testAddresses returns n documentation-range addresses from 198.18.third.1
// on, 250 to a /24.
func testAddresses(third, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("198.18.%d.%d", third+i/250, i%250+1)
	}
	return out
}

// actionBans counts how often the jail's (dummy) ban action ran per address.
func (e *importEnvT) actionBans() map[string]int {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.sb.Dir, "run", models.BlocklistJail+".dummy"))
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, l := range strings.Split(string(b), "\n") {
		if ip, ok := strings.CutPrefix(l, "+"); ok {
			out[ip]++
		}
	}
	return out
}

// assertBannedOnce fails unless every address was banned exactly once by
// the ban action and fail2ban bans exactly want now.
func (e *importEnvT) assertBannedOnce(want []string) {
	e.t.Helper()
	want = slices.Sorted(slices.Values(want))
	if got := e.banned(); !slices.Equal(got, want) {
		e.t.Fatalf("fail2ban bans %d addresses %q,\nwant %d %q", len(got), got, len(want), want)
	}
	acts := e.actionBans()
	for ip, n := range acts {
		if n != 1 {
			e.t.Errorf("the ban action ran %d times for %s", n, ip)
		}
	}
	if len(acts) != len(want) {
		e.t.Errorf("the ban action ran for %d addresses, want %d", len(acts), len(want))
	}
}

func (e *importEnvT) runStates(sourceID int64) []models.ImportRunState {
	e.t.Helper()
	var states []models.ImportRunState
	if err := e.db.NewSelect().Model((*models.ImportRun)(nil)).Column("state").Where("source_id = ?", sourceID).OrderExpr("id").Scan(context.Background(), &states); err != nil {
		e.t.Fatal(err)
	}
	return states
}

func resultOf(t *testing.T, p models.ImportProgress, name string) models.ImportSourceResult {
	t.Helper()
	for _, r := range p.Results {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no result for %s in %+v", name, p.Results)
	return models.ImportSourceResult{}
}

func TestImportBansOnceAndOnlyWhatIsNew(t *testing.T) {
	e := newImportEnv(t)
	ctx := context.Background()
	b := e.service(2, nil)
	good := e.addSource(b, "Good", e.lists.set("good2", goodList))
	mix := e.addSource(b, "Mix", e.lists.URL+"/list/mix")

	// First run: the jail is created, every listed address is banned.
	p, err := b.Import(ctx, 0, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if p.Running || !p.Error.IsZero() || len(p.Results) != 2 {
		t.Fatalf("progress after the first run: %+v", p)
	}
	if r := resultOf(t, p, "Good"); r.Imported != 3 || r.AlreadyBanned != 0 || r.Skipped != 0 || !r.Error.IsZero() || r.Unchanged {
		t.Errorf("good, first run: %+v", r)
	}
	if r := resultOf(t, p, "Mix"); r.Imported != 4 || r.Skipped != 1 || r.Counts.IPv6 != 2 || r.Counts.CIDR != 2 || !r.Error.IsZero() {
		t.Errorf("mix, first run: %+v", r)
	}
	all := []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1", "2001:db8::/48", "198.51.100.0/24", "192.0.2.10"}
	e.assertBannedOnce(all)
	if conf, err := os.ReadFile(filepath.Join(e.sb.ConfigDir, JailFile)); err != nil || !strings.Contains(string(conf), "bantime = 24h") {
		t.Fatalf("jail file: %v\n%s", err, conf)
	}
	if bt, err := e.sb.Client().BanTime(ctx, models.BlocklistJail); err != nil || bt != 24*time.Hour {
		t.Errorf("ban time of the jail = %v, %v; want 24h", bt, err)
	}

	// Second run, same content: nothing is banned again.
	p, err = b.Import(ctx, 0, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Good", "Mix"} {
		if r := resultOf(t, p, name); !r.Unchanged || r.Imported != 0 || !r.Error.IsZero() {
			t.Errorf("%s, second run: %+v", name, r)
		}
	}
	if r := resultOf(t, p, "Good"); r.AlreadyBanned != 3 {
		t.Errorf("good, second run: %d already banned, want 3", r.AlreadyBanned)
	}
	e.assertBannedOnce(all)

	// Changed content: only the new addresses are banned.
	e.lists.set("good2", goodList+"192.0.2.4\n192.0.2.5\n")
	p, err = b.Import(ctx, good.ID, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(t, p, "Good"); r.Imported != 2 || r.AlreadyBanned != 3 || r.Unchanged || !r.Error.IsZero() {
		t.Errorf("good, changed: %+v", r)
	}
	e.assertBannedOnce(append(all, "192.0.2.4", "192.0.2.5"))
	if got := e.runStates(good.ID); !slices.Equal(got, []models.ImportRunState{models.ImportCompleted, models.ImportCompleted}) {
		t.Errorf("runs of good: %v", got)
	}
	if got := e.runStates(mix.ID); !slices.Equal(got, []models.ImportRunState{models.ImportCompleted}) {
		t.Errorf("runs of mix: %v", got)
	}

	// The log has one row per source and run, newest first.
	rows, total, err := b.ImportLog(ctx, 0, models.Page{Number: 1, Size: 10})
	if err != nil || total != 5 || len(rows) != 5 {
		t.Fatalf("log: %d rows of %d, %v", len(rows), total, err)
	}
	if rows[0].SourceName != "Good" || rows[0].IPsImported != 2 || rows[0].IPsAlreadyBanned != 3 || rows[0].Errors != nil {
		t.Errorf("newest log row: %+v", rows[0])
	}

	// Deleting a source keeps its log readable.
	if _, err := b.DeleteSource(ctx, mix.ID); err != nil {
		t.Fatal(err)
	}
	rows, _, _ = b.ImportLog(ctx, 0, models.Page{Number: 1, Size: 10})
	var orphans int
	for _, r := range rows {
		if r.SourceID == nil {
			orphans++
			if r.SourceName != "Mix" || r.SourceURL != mix.URL {
				t.Errorf("orphaned log row: %+v", r)
			}
		}
	}
	if orphans != 2 {
		t.Errorf("%d log rows of the deleted source, want 2", orphans)
	}
	if got := e.runStates(mix.ID); len(got) != 0 {
		t.Errorf("runs of the deleted source remain: %v", got)
	}

	// Once the jail's ban time has passed, the same content is banned again
	// (fail2ban would have lifted the bans by then).
	later := time.Now().Add(25 * time.Hour)
	b.now = func() time.Time { return later }
	p, _ = b.Import(ctx, good.ID, models.TriggerManual)
	if r := resultOf(t, p, "Good"); r.Unchanged || r.AlreadyBanned != 5 || r.Imported != 0 || !r.Error.IsZero() {
		t.Errorf("good, after the ban time: %+v", r)
	}
}

func TestImportFailuresMarkNothingCompleted(t *testing.T) {
	e := newImportEnv(t)
	ctx := context.Background()
	b := e.service(50, nil)
	want := map[string]string{ // source → error message
		"Empty":     "The list holds no IP addresses or CIDR ranges (0 IPv4, 0 IPv6, 0 CIDR, 0 comments, 0 invalid, 0 duplicates, 0 ignored, 0 reserved).",
		"Malformed": "The list holds no IP addresses or CIDR ranges (0 IPv4, 0 IPv6, 0 CIDR, 0 comments, 2 invalid, 0 duplicates, 0 ignored, 0 reserved).",
		"Huge":      "The list is larger than 16 KB, the size limit.",
		"Slow":      "The server did not send the list within 300ms. (tried 3 times)",
		"Down":      "The server answered 502 Bad Gateway. (tried 3 times)",
		"Broken":    "The gzip-compressed list is damaged.",
	}
	paths := map[string]string{"Empty": "/list/empty", "Malformed": "/list/malformed", "Huge": "/huge",
		"Slow": "/slow-body", "Down": "/down", "Broken": "/gzip-broken"}
	var ids []int64
	for name, path := range paths {
		ids = append(ids, e.addSource(b, name, e.lists.URL+path).ID)
	}
	flaky := e.addSource(b, "Flaky", e.lists.URL+"/flaky")
	gz := e.addSource(b, "Gzip", e.lists.URL+"/gzip-encoded")
	p, err := b.Import(ctx, 0, models.TriggerSchedule)
	if err != nil {
		t.Fatal(err)
	}
	for name, msg := range want {
		if r := resultOf(t, p, name); r.Error.Error() != msg || r.Imported != 0 {
			t.Errorf("%s: %+v\nwant error %q", name, r, msg)
		}
	}
	if r := resultOf(t, p, "Flaky"); !r.Error.IsZero() || r.Imported != 3 {
		t.Errorf("flaky (500, then 200): %+v", r)
	}
	if r := resultOf(t, p, "Gzip"); !r.Error.IsZero() || r.Imported != 4 || r.Counts.Duplicates != 1 {
		t.Errorf("gzip: %+v", r)
	}
	// Nothing of the failed lists was banned or recorded as a run, not even
	// the part of the huge list read before the cap, or of the slow one.
	got := e.banned()
	for _, ip := range []string{"192.0.2.77"} {
		if slices.Contains(got, ip) {
			t.Errorf("%s of the huge list is banned", ip)
		}
	}
	for _, id := range ids {
		if states := e.runStates(id); len(states) != 0 {
			t.Errorf("source %d has runs %v", id, states)
		}
	}
	for _, id := range []int64{flaky.ID, gz.ID} {
		if states := e.runStates(id); !slices.Equal(states, []models.ImportRunState{models.ImportCompleted}) {
			t.Errorf("source %d has runs %v", id, states)
		}
	}
	if !p.HasErrors() {
		t.Error("progress has no errors")
	}
	// The run was scheduled, so the badge shows.
	if !b.LastScheduledFailed(ctx) {
		t.Error("LastScheduledFailed = false after a scheduled run with errors")
	}
	info, err := b.ScheduleInfo(ctx)
	if err != nil || info.Last == nil || info.Last.Sources != 8 || len(info.Last.Errors) != 6 || info.Last.Imported != 7 {
		t.Fatalf("schedule info: %+v, %v", info.Last, err)
	}
}

func TestImportInterruptedResumesWithoutDuplicatesOrLoss(t *testing.T) {
	e := newImportEnv(t)
	all := testAddresses(7, 40)
	list := strings.Join(all, "\n") + "\n"
	url := e.lists.set("forty", list)

	// Kill 1: the context ends after three batches of four.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := e.service(4, func(_, done, _ int64) {
		if done == 12 {
			cancel()
		}
	})
	src := e.addSource(b, "Forty", url)
	p, err := b.Import(ctx, 0, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Results) != 0 || p.Running {
		t.Fatalf("an interrupted run reported results: %+v", p)
	}
	run, err := repo.NewImportRunStore(e.db).Get(context.Background(), 1)
	if err != nil || run.State != models.ImportPending || run.Done != 12 || run.Total != 40 || run.ImportedCount != 12 {
		t.Fatalf("run after the kill: %+v, %v", run, err)
	}
	if got := e.banned(); len(got) != 12 {
		t.Fatalf("%d banned after the kill, want 12", len(got))
	}
	// A real kill can come after fail2ban banned a batch but before the
	// panel recorded it: ban the next batch behind its back.
	if _, err := e.sb.Client().Ban(context.Background(), models.BlocklistJail, all[12:16]...); err != nil {
		t.Fatal(err)
	}

	// Restart: a new process finishes the pending run at start, without
	// downloading the list again.
	e.lists.set("forty", "192.0.2.99\n") // the list changed meanwhile; the old run still completes
	b2 := e.service(4, nil)
	b2.Start(context.Background(), true) // what main does at start
	b2.Wait()
	p = b2.Progress()
	res := p.Results
	if p.StartedBy != models.TriggerResume || p.Running || !p.Error.IsZero() || len(res) != 1 {
		t.Fatalf("resume at start: %+v", p)
	}
	if r := res[0]; !r.Resumed || r.Imported != 36 || r.AlreadyBanned != 4 || !r.Error.IsZero() {
		t.Errorf("resumed result: %+v", r)
	}
	e.assertBannedOnce(all)
	run, _ = repo.NewImportRunStore(e.db).Get(context.Background(), 1)
	if run.State != models.ImportCompleted || run.Done != 40 {
		t.Errorf("run after resuming: %+v", run)
	}
	rows, _, _ := b2.ImportLog(context.Background(), src.ID, models.Page{Number: 1, Size: 5})
	if len(rows) != 1 || rows[0].StartedBy != models.TriggerResume || rows[0].IPsImported+rows[0].IPsAlreadyBanned != 40 {
		t.Errorf("log after resuming: %+v", rows)
	}
	if pending, _ := repo.NewImportRunStore(e.db).Pending(context.Background()); len(pending) != 0 {
		t.Errorf("runs still pending: %+v", pending)
	}
}

func TestImportAgainFinishesAnInterruptedRun(t *testing.T) {
	e := newImportEnv(t)
	all := testAddresses(8, 30)
	list := strings.Join(all, "\n") + "\n"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := e.service(5, func(_, done, _ int64) {
		if done == 10 {
			cancel()
		}
	})
	e.addSource(b, "Thirty", e.lists.set("thirty", list))
	if _, err := b.Import(ctx, 0, models.TriggerManual); err != nil {
		t.Fatal(err)
	}
	// Run again with the same content: it goes on from batch three.
	p, err := b.Import(context.Background(), 0, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(t, p, "Thirty"); !r.Resumed || r.Imported != 30 || r.AlreadyBanned != 0 || !r.Error.IsZero() {
		t.Errorf("second run: %+v", r)
	}
	e.assertBannedOnce(all)
	run, _ := repo.NewImportRunStore(e.db).Get(context.Background(), 1)
	if run.State != models.ImportCompleted || run.ImportedCount != 30 {
		t.Errorf("run: %+v", run)
	}
}

func TestEnsureJailNeverOverwritesAndExplainsRefusal(t *testing.T) {
	e := newImportEnv(t)
	ctx := context.Background()
	b := e.service(10, nil)
	path := filepath.Join(e.sb.ConfigDir, JailFile)

	// An admin's file that fail2ban refuses.
	broken := "[blocklist-import]\nenabled = true\nfilter = no-such-filter\n"
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	err := b.EnsureJail(ctx, models.LocalHost)
	var jp *JailProblem
	if !errors.As(err, &jp) || !strings.Contains(jp.Message.Error(), "fail2ban refused the jail blocklist-import") ||
		!strings.Contains(jp.Output, "no-such-filter") {
		t.Fatalf("EnsureJail = %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != broken {
		t.Fatalf("the admin's file was changed:\n%s", got)
	}
	st, err := b.JailState(ctx, models.LocalHost)
	if err != nil || st.Running || !strings.Contains(st.Problem.Error(), "no-such-filter") {
		t.Fatalf("jail state: %+v, %v", st, err)
	}
	e.addSource(b, "Good", e.lists.URL+"/list/good")
	p, _ := b.Import(ctx, 0, models.TriggerManual)
	if !strings.Contains(p.Error.Error(), "refused the jail") || len(p.Results) != 1 || !strings.Contains(p.Results[0].Error.Error(), "refused the jail") {
		t.Fatalf("import without the jail: %+v", p)
	}

	// An admin's file that disables the jail.
	disabled := "[blocklist-import]\nenabled = false\nfilter =\n"
	if err := os.WriteFile(path, []byte(disabled), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureJail(ctx, models.LocalHost); !errors.As(err, &jp) || !strings.Contains(jp.Message.Error(), "check that it enables the jail") {
		t.Fatalf("EnsureJail with a disabled jail = %v", err)
	}

	// Without a file, BanGUI writes its own and the jail runs.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureJail(ctx, models.LocalHost); err != nil {
		t.Fatal(err)
	}
	st, err = b.JailState(ctx, models.LocalHost)
	if err != nil || !st.Running || !st.Problem.IsZero() {
		t.Fatalf("jail state after writing the file: %+v, %v", st, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("jail.d holds %d entries (temporary files left?)", len(entries))
	}
	// Present now: nothing is written or reloaded again.
	before, _ := os.Stat(path)
	if err := b.EnsureJail(ctx, models.LocalHost); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(path); !after.ModTime().Equal(before.ModTime()) {
		t.Error("the file was rewritten")
	}
}

func TestSourceValidation(t *testing.T) {
	db, err := repo.Open(context.Background(), repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := New(storesOn(db), servicetest.LocalHosts(hosts.LocalOptions{Socket: filepath.Join(t.TempDir(), "none.sock"), ConfigDir: t.TempDir()}), nil, Options{})
	ctx := context.Background()
	if _, err := b.CreateSource(ctx, SourceInput{Name: "Spamhaus DROP", URL: " https://www.spamhaus.org/drop/drop.txt ", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   SourceInput
		want map[string][]string
	}{
		{SourceInput{}, map[string][]string{"name": {"Enter a name for the list."}, "url": {"Enter the address of the list."}}},
		{SourceInput{Name: "x", URL: "ftp://example.org/l.txt"}, map[string][]string{"url": {"Only http:// and https:// addresses can be imported."}}},
		{SourceInput{Name: "x", URL: "javascript:alert(1)"}, map[string][]string{"url": {"Only http:// and https:// addresses can be imported."}}},
		{SourceInput{Name: strings.Repeat("n", 101), URL: "https://example.org/"}, map[string][]string{"name": {"Use at most 100 characters."}}},
		{SourceInput{Name: "spamhaus drop", URL: "https://www.spamhaus.org/drop/drop.txt"}, map[string][]string{
			"name": {"Another list is already called “Spamhaus DROP”."},
			"url":  {"The list “Spamhaus DROP” already has this address."}}},
	}
	for _, c := range cases {
		_, err := b.CreateSource(ctx, c.in)
		var verr *services.ValidationError
		if !errors.As(err, &verr) || fmt.Sprint(verr.Fields) != fmt.Sprint(c.want) {
			t.Errorf("%+v: %v, want %v", c.in, err, c.want)
		}
	}
	list, _ := b.Sources(ctx)
	if len(list) != 1 {
		t.Fatalf("%d sources", len(list))
	}
	// Editing keeps its own name and URL valid.
	if _, err := b.UpdateSource(ctx, list[0].ID, SourceInput{Name: "Spamhaus DROP", URL: list[0].URL, Enabled: false}); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.Source(ctx, list[0].ID); s.Enabled {
		t.Error("still enabled after the edit")
	}
}

func TestScheduleValidation(t *testing.T) {
	cases := []struct {
		in   ScheduleInput
		want models.BlocklistSchedule
		errs string
	}{
		{ScheduleInput{Frequency: "daily", Time: "03:30"}, models.BlocklistSchedule{Frequency: "daily", Hour: 3, Minute: 30, Weekday: time.Monday}, ""},
		{ScheduleInput{Frequency: "weekly", Time: "23:05", Weekday: "0"}, models.BlocklistSchedule{Frequency: "weekly", Hour: 23, Minute: 5, Weekday: time.Sunday}, ""},
		{ScheduleInput{Frequency: "hourly", Time: "00:15"}, models.BlocklistSchedule{Frequency: "hourly", Minute: 15, Weekday: time.Monday}, ""},
		{ScheduleInput{Frequency: "off"}, models.BlocklistSchedule{Frequency: "off", Hour: 3, Weekday: time.Monday}, ""},
		{ScheduleInput{Frequency: "monthly", Time: "3:5"}, models.BlocklistSchedule{}, "map[frequency:[Choose off, hourly, daily or weekly.] time:[Enter a time of day as hh:mm, for example 03:30.]]"},
		{ScheduleInput{Frequency: "weekly", Time: "24:00", Weekday: "7"}, models.BlocklistSchedule{}, "map[time:[Enter a time of day as hh:mm, for example 03:30.] weekday:[Choose a day of the week.]]"},
	}
	for _, c := range cases {
		got, verr := ValidateSchedule(c.in)
		if c.errs != "" {
			if fmt.Sprint(verr.Fields) != c.errs {
				t.Errorf("%+v: errors %v, want %s", c.in, verr.Fields, c.errs)
			}
			continue
		}
		if !verr.Empty() || got != c.want {
			t.Errorf("%+v: %+v %v, want %+v", c.in, got, verr.Fields, c.want)
		}
	}
}
