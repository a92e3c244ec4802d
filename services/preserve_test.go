package services_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/internal/pgtest"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/internal/servicetest"

	"github.com/uptrace/bun"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// lossless is a panel on real fail2ban sandboxes (one per host id) with
// its archive, sync, jails and history wired as app.Build does: every
// unban goes through ArchiveSync.Preserve.
type lossless struct {
	reg      *hosts.Registry
	sbs      map[string]*sandbox.Sandbox
	db       *bun.DB
	archive  repo.HistoryArchive
	settings repo.Settings
	sync     *services.ArchiveSync
	jails    *services.Jails
	history  *services.History
}

// newLossless starts one sandbox per id (the first is the local host) with
// an sshd jail banning at the second failure, on an archive in SQLite
// (url "") or PostgreSQL.
func newLossless(t testing.TB, url string, ids ...string) *lossless {
	t.Helper()
	return newLosslessJail(t, url, sandbox.Jail{Name: "sshd", MaxRetry: 2}, ids...)
}

// newLosslessJail is newLossless with another sshd jail.
func newLosslessJail(t testing.TB, url string, jail sandbox.Jail, ids ...string) *lossless {
	t.Helper()
	l := &lossless{sbs: map[string]*sandbox.Sandbox{}}
	for i, id := range ids {
		sb := sandboxtest.Start(t, jail)
		l.sbs[id] = sb
		opts := hosts.LocalOptions{ID: id, Socket: sb.SocketPath, ConfigDir: sb.ConfigDir, LogDirs: []string{sb.Dir}, ClientPath: "fail2ban-client"}
		if i == 0 {
			l.reg = servicetest.LocalHosts(opts)
			continue
		}
		if err := l.reg.Add(hosts.NewLocal(opts)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { l.reg.Close() })
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: t.TempDir(), URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l.db = db
	l.archive = repo.NewHistoryArchive(db)
	l.settings = repo.NewSettingsStore(db)
	sources := services.NewBanSources(l.reg, l.archive)
	l.sync = services.NewArchiveSync(sources, l.settings)
	l.jails = services.NewJails(l.reg, services.NewStatusProbe(l.reg), l.archive)
	l.jails.Preserver = l.sync
	l.history = services.NewHistory(sources, l.jails)
	return l
}

// banFromLog writes three failed logins of ip to host's sshd log and waits
// until fail2ban has banned ip and written the ban's row, with its matched
// lines, to its database.
func (l *lossless) banFromLog(t *testing.T, host, ip string) {
	t.Helper()
	sb := l.sbs[host]
	f, err := os.OpenFile(sb.LogPath("sshd"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Format(time.Stamp)
	for i := range 3 {
		fmt.Fprintf(f, "%s testhost sshd[%d]: Failed password for root from %s port %d ssh2\n", now, 1000+i, ip, 40000+i)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if rows := l.fail2banRows(t, host, ip); len(rows) > 0 && len(rows[0].Matches) > 0 {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(sb.LogFile)
			t.Fatalf("%s: %s not banned with its matches within 20 s; fail2ban's log:\n%s", host, ip, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fail2banRows reads ip's rows from host's fail2ban database.
func (l *lossless) fail2banRows(t testing.TB, host, ip string) []models.BanRecord {
	t.Helper()
	h, err := l.reg.Get(host)
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.(interface {
		Fail2banDB(context.Context) (*repo.Fail2BanDBReader, error)
	}).Fail2banDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := r.RecentOfIP(context.Background(), ip, 10)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// archivedBans returns the archive's ban events of ip on host that came
// from fail2ban's rows (not the panel's own records).
func (l *lossless) archivedBans(t *testing.T, host, ip string) []models.BanRecord {
	t.Helper()
	events, err := l.archive.RecentOfIP(context.Background(), host, ip, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []models.BanRecord
	for _, e := range events {
		if e.Action == repo.ActionBan && e.Origin != models.OriginManual {
			out = append(out, e)
		}
	}
	return out
}

// matched says whether events hold a ban of ip on host whose matched lines
// are fail2ban's failed logins of ip.
func matched(events []models.BanRecord, host, ip string) bool {
	return slices.ContainsFunc(events, func(e models.BanRecord) bool {
		return e.Host == host && e.IP == ip && e.Action != repo.ActionUnban && len(e.Matches) == 2 &&
			strings.Contains(e.Matches[0], "Failed password for root from "+ip)
	})
}

// checkKept checks that the per-IP report of ip shows host's ban with its
// matched lines once fail2ban no longer has them, that the archive holds
// exactly one copy, and that a later sync adds none.
func (l *lossless) checkKept(t *testing.T, host, ip string) {
	t.Helper()
	ctx := context.Background()
	if rows := l.fail2banRows(t, host, ip); len(rows) != 0 {
		t.Fatalf("%s: fail2ban still has %d rows of %s; the test proves nothing", host, len(rows), ip)
	}
	rep, err := l.history.IP(ctx, host, ip)
	if err != nil {
		t.Fatalf("per-IP report of %s on %s: %v", ip, host, err)
	}
	if !matched(rep.Events, host, ip) {
		t.Fatalf("per-IP report of %s on %s lost the matched lines: %+v", ip, host, rep.Events)
	}
	if rep.Bans != 1 {
		t.Errorf("per-IP report of %s on %s counts %d bans, want 1", ip, host, rep.Bans)
	}
	if _, err := l.sync.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := l.archivedBans(t, host, ip); len(got) != 1 {
		t.Fatalf("after a later sync the archive holds %d bans of %s on %s, want 1: %+v", len(got), ip, host, got)
	}
}

// TestUnbanKeepsMatchedLines bans addresses from failed logins in a real
// fail2ban and lifts each ban from the panel as soon as fail2ban wrote it
// (before any archive sync), in each way the panel unbans: one address in
// its jail, one address in every jail, every ban, and stopping the jail.
// fail2ban deletes the rows of the first three; the per-IP report still
// shows each ban with its matched lines, counted once, and a later sync
// doubles nothing. Both archive dialects.
func TestUnbanKeepsMatchedLines(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			url := ""
			if dialect == "postgres" {
				url = pgtest.URL(t)
			}
			testUnbanKeepsMatchedLines(t, url)
		})
	}
}

func testUnbanKeepsMatchedLines(t *testing.T, url string) {
	l := newLossless(t, url, models.LocalHost)
	ctx := context.Background()
	const host = models.LocalHost

	l.banFromLog(t, host, "192.0.2.11")
	if _, err := l.jails.Unban(ctx, host, "sshd", []string{"192.0.2.11"}); err != nil {
		t.Fatal(err)
	}
	l.checkKept(t, host, "192.0.2.11")

	l.banFromLog(t, host, "192.0.2.12")
	if _, err := l.jails.Unban(ctx, host, "", []string{"192.0.2.12"}); err != nil {
		t.Fatal(err)
	}
	l.checkKept(t, host, "192.0.2.12")

	l.banFromLog(t, host, "192.0.2.13")
	l.banFromLog(t, host, "192.0.2.14")
	if _, err := l.jails.UnbanAll(ctx, host); err != nil {
		t.Fatal(err)
	}
	l.checkKept(t, host, "192.0.2.13")
	l.checkKept(t, host, "192.0.2.14")

	// Stopping a jail: fail2ban lifts its bans but keeps the rows (until
	// dbpurgeage); the preserve before it archived them already.
	l.banFromLog(t, host, "192.0.2.15")
	if err := l.jails.Stop(ctx, host, "sshd"); err != nil {
		t.Fatal(err)
	}
	if got := l.archivedBans(t, host, "192.0.2.15"); !matched(got, host, "192.0.2.15") {
		t.Fatalf("stopping the jail: archive holds %+v, want the ban with its matches", got)
	}
	if rows := l.fail2banRows(t, host, "192.0.2.15"); len(rows) != 1 {
		t.Errorf("fail2ban kept %d rows of the stopped jail's ban, want 1 (it deletes none on stop)", len(rows))
	}
	if _, err := l.sync.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := l.archivedBans(t, host, "192.0.2.15"); len(got) != 1 {
		t.Fatalf("after a later sync the archive holds %d bans of the stopped jail's address, want 1", len(got))
	}
}

// TestUnbanOnEveryHostKeepsEachHostsLines bans one address from failed
// logins on two real fail2bans and unbans it fleet-wide at once: the
// per-IP report of every host shows both bans with their matched lines.
func TestUnbanOnEveryHostKeepsEachHostsLines(t *testing.T) {
	l := newLossless(t, "", models.LocalHost, "web2")
	ctx := context.Background()
	const ip = "192.0.2.21"
	l.banFromLog(t, models.LocalHost, ip)
	l.banFromLog(t, "web2", ip)
	res, err := l.jails.UnbanOnEveryHost(ctx, "", []string{ip})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil || r.Value != 1 {
			t.Fatalf("unban on %s: %d, %v", r.Host, r.Value, r.Err)
		}
	}
	rep, err := l.history.IP(ctx, "", ip)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{models.LocalHost, "web2"} {
		if !matched(rep.Events, host, ip) {
			t.Errorf("per-IP report lost %s's matched lines: %+v", host, rep.Events)
		}
	}
	if rep.Bans != 2 {
		t.Errorf("per-IP report counts %d bans, want 2", rep.Bans)
	}
	if _, err := l.sync.Run(ctx); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{models.LocalHost, "web2"} {
		if got := l.archivedBans(t, host, ip); len(got) != 1 {
			t.Errorf("after a later sync %s has %d archived bans, want 1", host, len(got))
		}
	}
}

// TestUnbanWhileAnotherPanelSyncs unbans while another panel process holds
// the host's sync lease: the rows are archived all the same, the host's
// cursor stays that process's, and its next sync doubles nothing.
func TestUnbanWhileAnotherPanelSyncs(t *testing.T) {
	l := newLossless(t, "", models.LocalHost)
	ctx := context.Background()
	store := repo.NewLeases(l.db)
	l.sync.Leases = services.NewLeases(store, time.Minute, nil)
	if ok, err := store.TryAcquire(ctx, "archive-sync/"+models.LocalHost, "other-panel", time.Hour); err != nil || !ok {
		t.Fatalf("the other panel's lease: %v, %v", ok, err)
	}
	const ip = "192.0.2.31"
	l.banFromLog(t, models.LocalHost, ip)
	if _, err := l.jails.Unban(ctx, models.LocalHost, "sshd", []string{ip}); err != nil {
		t.Fatal(err)
	}
	if got := l.archivedBans(t, models.LocalHost, ip); !matched(got, models.LocalHost, ip) {
		t.Fatalf("archive holds %+v, want the ban with its matches", got)
	}
	if v, err := l.settings.Get(ctx, repo.SettingArchiveLastRowID); err == nil {
		t.Errorf("the cursor moved to %s while another panel holds the sync", v)
	}
	// The other panel syncs (its own process: no lease of ours involved).
	if _, err := repo.SyncArchive(ctx, models.LocalHost, l.fail2banDB(t), l.archive, l.settings); err != nil {
		t.Fatal(err)
	}
	if got := l.archivedBans(t, models.LocalHost, ip); len(got) != 1 {
		t.Fatalf("after the other panel's sync the archive holds %d bans, want 1", len(got))
	}
}

func (l *lossless) fail2banDB(t testing.TB) *repo.Fail2BanDBReader {
	t.Helper()
	h, _ := l.reg.Get(models.LocalHost)
	r, err := h.(*hosts.Local).Fail2banDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestExpiredBanStaysForTheSync lets fail2ban lift a ban by itself (a ban
// time of five seconds): fail2ban keeps the row until its purge, so the
// regular sync archives it with its matched lines, no unban hook needed.
// (With one second, a loaded machine had fail2ban drop the ticket as
// expired before it banned: the ban time runs from the log line's time.)
func TestExpiredBanStaysForTheSync(t *testing.T) {
	l := newLosslessJail(t, "", sandbox.Jail{Name: "sshd", MaxRetry: 2, BanTime: "5s"}, models.LocalHost)
	l.jails.Preserver = nil // only fail2ban unbans here
	ctx := context.Background()
	const ip = "192.0.2.41"
	l.banFromLog(t, models.LocalHost, ip)
	for deadline := time.Now().Add(20 * time.Second); ; {
		cur, _, err := l.jails.CurrentBansOf(ctx, models.LocalHost, ip)
		if err != nil {
			t.Fatal(err)
		}
		if len(cur) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("fail2ban did not lift the five-second ban within 20 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if rows := l.fail2banRows(t, models.LocalHost, ip); len(rows) != 1 || len(rows[0].Matches) != 2 {
		t.Fatalf("fail2ban's rows of the expired ban: %+v, want one with 2 matches", rows)
	}
	if _, err := l.sync.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := l.archivedBans(t, models.LocalHost, ip); len(got) != 1 || !matched(got, models.LocalHost, ip) {
		t.Fatalf("archive after the sync: %+v, want the expired ban with its matches", got)
	}
}

// gatedHost is a real local host whose first BanRows waits until open is
// closed, as a long scheduled sync of the host would.
type gatedHost struct {
	*hosts.Local
	first   atomic.Bool
	waiting chan struct{} // closed when the first BanRows waits
	open    chan struct{}
}

func (h *gatedHost) BanRows(ctx context.Context) (repo.BanRowSource, error) {
	if h.first.CompareAndSwap(false, true) {
		close(h.waiting)
		<-h.open
	}
	return h.Local.BanRows(ctx)
}

// TestUnbanDuringTheHostsSync unbans while this process's scheduled sync
// of the host is running (held up in the host's BanRows): the unban does
// not wait for it, and the ban's matched lines are archived all the same.
func TestUnbanDuringTheHostsSync(t *testing.T) {
	l := newLossless(t, "", models.LocalHost)
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 2})
	edge := &gatedHost{Local: hosts.NewLocal(hosts.LocalOptions{ID: "edge", Socket: sb.SocketPath, ConfigDir: sb.ConfigDir}),
		waiting: make(chan struct{}), open: make(chan struct{})}
	if err := l.reg.Add(edge); err != nil {
		t.Fatal(err)
	}
	l.sbs["edge"] = sb
	ctx := context.Background()
	const ip = "192.0.2.51"
	l.banFromLog(t, "edge", ip)

	synced := make(chan error, 1)
	go func() { _, err := l.sync.Run(ctx); synced <- err }()
	<-edge.waiting
	start := time.Now()
	if _, err := l.jails.Unban(ctx, "edge", "sshd", []string{ip}); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if got := l.archivedBans(t, "edge", ip); !matched(got, "edge", ip) {
		t.Fatalf("archive holds %+v while the sync runs, want the ban with its matches", got)
	}
	close(edge.open)
	if err := <-synced; err != nil {
		t.Fatal(err)
	}
	if got := l.archivedBans(t, "edge", ip); len(got) != 1 {
		t.Fatalf("after the sync the archive holds %d bans, want 1", len(got))
	}
	t.Logf("unban beside a running sync took %s", took)
}
