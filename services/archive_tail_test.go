package services_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"bangui/events"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/geo/geotest"
	"bangui/hosts"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/internal/servicetest"
)

// tailRig is an archive tail over real fail2ban sandboxes: the local host
// and the hosts added with add, one SQLite archive, the test country
// database, real leases and a broker.
type tailRig struct {
	reg     *hosts.Registry
	db      *bun.DB
	archive repo.HistoryArchive
	geo     *services.Geo
	sync    *services.ArchiveSync
	jails   *services.Jails
}

func newTailRig(t *testing.T, local *sandbox.Sandbox) *tailRig {
	t.Helper()
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: local.SocketPath, ConfigDir: local.ConfigDir})
	t.Cleanup(func() { reg.Close() })
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	archive := repo.NewHistoryArchive(db)
	settings := repo.NewSettingsStore(db)
	geo := services.OpenGeo(services.GeoConfig{CountryDB: geotest.CountryDB(t)}, repo.NewGeoCacheStore(db), settings, archive, nil)
	t.Cleanup(func() { geo.Close() })
	sync := services.NewArchiveSync(services.NewBanSources(reg, archive), settings)
	sync.Events, sync.Countries = events.New(), geo
	sync.Leases = services.NewLeases(repo.NewLeases(db), 0, nil)
	return &tailRig{reg: reg, db: db, archive: archive, geo: geo, sync: sync, jails: services.NewJails(reg, nil, nil)}
}

// replica is the archive sync of a second panel process on the same
// database and hosts: its own leases (another holder) and broker.
func (r *tailRig) replica() *services.ArchiveSync {
	s := services.NewArchiveSync(services.NewBanSources(r.reg, r.archive), repo.NewSettingsStore(r.db))
	s.Events, s.Countries = events.New(), r.geo
	s.Leases = services.NewLeases(repo.NewLeases(r.db), 0, nil)
	return s
}

// add registers a host reading sb under id.
func (r *tailRig) add(t *testing.T, id string, sb *sandbox.Sandbox) {
	t.Helper()
	h := newRecordingHost(id, sb)
	t.Cleanup(h.close)
	if err := r.reg.Add(h); err != nil {
		t.Fatal(err)
	}
}

// start runs the tail, and the full sync in a loop beside it, until the
// test ends.
func (r *tailRig) start(t *testing.T, withFullSync bool) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { r.sync.Tail(ctx, services.DefaultTailEvery) })
	if withFullSync {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := r.sync.Run(ctx); err != nil && ctx.Err() == nil {
					t.Errorf("full sync: %v", err)
				}
				select {
				case <-ctx.Done():
				case <-time.After(200 * time.Millisecond): // a 5-minute sync, much more often
				}
			}
		})
	}
}

// archived returns host's archived ban events of ip.
func (r *tailRig) archived(t *testing.T, host, ip string) []models.BanRecord {
	t.Helper()
	bans, _, err := r.archive.Bans(context.Background(), models.HistoryFilter{Host: host, IPPrefix: ip, Action: repo.ActionBan}, models.Page{Number: 1, Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(bans, func(b models.BanRecord) bool { return b.IP != ip })
}

// failedLogins appends n failed sshd logins from ip to sb's sshd log, as
// sshd writes them, so that fail2ban bans ip by itself.
func failedLogins(t *testing.T, sb *sandbox.Sandbox, ip string, n int) {
	t.Helper()
	f, err := os.OpenFile(sb.LogPath("sshd"), os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	now := time.Now().Format(time.Stamp)
	for i := range n {
		fmt.Fprintf(f, "%s testhost sshd[%d]: Failed password for root from %s port %d ssh2\n", now, 4000+i, ip, 50000+i)
	}
}

// TestArchiveTailArchivesBansWithinSeconds bans addresses on the local
// host and on a second host, through the socket and by failed logins in
// the jail's log, while the tail and the full sync both run: each ban is
// in the archive with its country within 5 s, once, and every insert is
// published on the broker with its host.
func TestArchiveTailArchivesBansWithinSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("two fail2ban sandboxes and 20 bans")
	}
	jail := sandbox.Jail{Name: "sshd", MaxRetry: 3}
	localSB := sandboxtest.Start(t, jail)
	edgeSB := sandboxtest.Start(t, jail)
	rig := newTailRig(t, localSB)
	rig.add(t, "edge", edgeSB)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	published := rig.sync.Events.Subscribe(ctx, events.TopicArchive)
	rig.start(t, true)

	type ban struct {
		host, ip, country string
		byLog             bool
	}
	var bans []ban
	for i := range 20 {
		b := ban{host: models.LocalHost, ip: fmt.Sprintf("81.2.69.%d", 10+i), country: "GB", byLog: i%2 == 1}
		if i%4 >= 2 {
			b.host, b.ip, b.country = "edge", fmt.Sprintf("89.160.20.%d", 10+i), "SE"
		}
		bans = append(bans, b)
	}
	sandboxes := map[string]*sandbox.Sandbox{models.LocalHost: localSB, "edge": edgeSB}
	took := map[bool][]time.Duration{} // by log or not
	for _, b := range bans {
		start := time.Now()
		if b.byLog {
			failedLogins(t, sandboxes[b.host], b.ip, 3)
		} else if _, err := rig.jails.Ban(ctx, b.host, "sshd", []string{b.ip}); err != nil {
			t.Fatal(err)
		}
		deadline := start.Add(5 * time.Second)
		for {
			got := rig.archived(t, b.host, b.ip)
			if len(got) == 1 && got[0].Country == b.country {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s on %s (by log: %v): archive holds %+v 5 s after the ban, want one event from %s", b.ip, b.host, b.byLog, got, b.country)
			}
			time.Sleep(20 * time.Millisecond) // polling interval, not a wait for an outcome
		}
		took[b.byLog] = append(took[b.byLog], time.Since(start))
	}
	all := append(slices.Clone(took[false]), took[true]...)
	for _, f := range []struct {
		what string
		d    []time.Duration
	}{{"all 20", all}, {"10 banned through the socket", took[false]}, {"10 banned by failed logins (from the log write)", took[true]}} {
		slices.Sort(f.d)
		t.Logf("ban to archived row with its country, %s: median %v, worst %v", f.what,
			f.d[len(f.d)/2].Round(time.Millisecond), f.d[len(f.d)-1].Round(time.Millisecond))
	}

	// Every event is there once, though the full sync ran beside the tail.
	stored, total, err := rig.archive.Bans(ctx, models.HistoryFilter{Action: repo.ActionBan}, models.Page{Number: 1, Size: 100})
	if err != nil || total != int64(len(bans)) {
		t.Fatalf("archive holds %d ban events (%v), want %d: %+v", total, err, len(bans), stored)
	}
	// And each insert was published once, with its host.
	byHost := map[string]int64{}
	for sum := int64(0); sum < int64(len(bans)); {
		select {
		case e := <-published:
			n := e.Data.(events.ArchiveSynced).Inserted
			byHost[e.Host] += n
			sum += n
		case <-time.After(5 * time.Second):
			t.Fatalf("published inserts by host: %v, want 10 each", byHost)
		}
	}
	if byHost[models.LocalHost] != 10 || byHost["edge"] != 10 {
		t.Errorf("published inserts by host = %v, want local 10 and edge 10", byHost)
	}
}

// TestArchiveTailRespectsTheHostLease: a second panel process on the same
// database tails nothing, and its full sync skips the host, while the
// first process tails it; the ban is archived once.
func TestArchiveTailRespectsTheHostLease(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 3})
	rig := newTailRig(t, sb)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rig.start(t, false)
	for deadline := time.Now().Add(5 * time.Second); ; { // the first process takes the lease first
		holder, _, err := repo.NewLeases(rig.db).Holder(ctx, "archive-sync/"+models.LocalHost)
		if err != nil {
			t.Fatal(err)
		}
		if holder != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tail took no lease of the local host within 5 s")
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not a wait for an outcome
	}
	other := rig.replica()
	otherPublished := other.Events.Subscribe(ctx, events.TopicArchive)
	var wg sync.WaitGroup
	otherCtx, stopOther := context.WithCancel(ctx)
	defer func() { stopOther(); wg.Wait() }()
	wg.Go(func() { other.Tail(otherCtx, services.DefaultTailEvery) })

	if _, err := rig.jails.Ban(ctx, models.LocalHost, "sshd", []string{"81.2.69.200"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if got := rig.archived(t, models.LocalHost, "81.2.69.200"); len(got) == 1 && got[0].Country == "GB" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ban is not archived with its country within 5 s")
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not a wait for an outcome
	}
	if res, err := other.Run(ctx); err != nil || res.Inserted != 0 {
		t.Errorf("the other process's full sync stored %d events (%v), want none: the tail holds the host", res.Inserted, err)
	}
	select {
	case e := <-otherPublished:
		t.Errorf("the other process published %+v while the first tails the host", e)
	default:
	}
	// A request about to unban syncs the host itself, lease or not: the
	// ban is there already, so nothing is new.
	if n, err := other.SyncHost(ctx, models.LocalHost); err != nil || n != 0 {
		t.Errorf("SyncHost in the other process: %d new, %v; want 0 and no error", n, err)
	}
	if _, err := other.SyncHost(ctx, "nowhere"); err == nil {
		t.Error("SyncHost of an unknown host did not fail")
	}
	// Only the process that archives the host reports how far behind it is
	// (the archive lag metric).
	if at, ok := rig.sync.CaughtUp()[models.LocalHost]; !ok || time.Since(at) > time.Minute {
		t.Errorf("the tailing process's CaughtUp = %v, %v; want a moment ago", at, ok)
	}
	if got := other.CaughtUp(); len(got) != 0 {
		t.Errorf("the other process reports %v, but archives nothing", got)
	}
}

// TestArchiveTailIdleCost measures the CPU the tail costs at rest (no new
// bans) with four hosts on two sandboxes, in this process and in the
// fail2ban servers, beside doing nothing and beside the other way of
// noticing new bans: asking every host's counters every second (what a
// status probe fast enough to trigger the sync within 5 s would cost). It
// is a measurement, not a check: set BANGUI_TAIL_IDLE to the length of
// each phase (such as 20s) to run it.
func TestArchiveTailIdleCost(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("BANGUI_TAIL_IDLE"))
	if err != nil {
		t.Skip("set BANGUI_TAIL_IDLE=20s to measure the tail's idle CPU")
	}
	first := sandboxtest.Start(t, sandbox.Jail{Name: "sshd"}, sandbox.Jail{Name: "recidive-like", Filter: "sshd"})
	second := sandboxtest.Start(t, sandbox.Jail{Name: "sshd"}, sandbox.Jail{Name: "recidive-like", Filter: "sshd"})
	rig := newTailRig(t, first)
	rig.add(t, "edge", second)
	rig.add(t, "edge2", first)
	rig.add(t, "edge3", second)
	measure := func(what string, run func(ctx context.Context)) {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { run(ctx) })
		settle := time.Now().Add(2 * time.Second) // the first looks open everything
		for time.Now().Before(settle) {
			time.Sleep(100 * time.Millisecond) // settling time, not a wait for an outcome
		}
		self, servers, wall := cpuTime(t), procCPU(t, first.Pid())+procCPU(t, second.Pid()), time.Now()
		for end := wall.Add(d); time.Now().Before(end); {
			time.Sleep(100 * time.Millisecond) // the measured period
		}
		elapsed := time.Since(wall)
		self, servers = cpuTime(t)-self, procCPU(t, first.Pid())+procCPU(t, second.Pid())-servers
		cancel()
		wg.Wait()
		pct := func(c time.Duration) float64 { return 100 * c.Seconds() / elapsed.Seconds() }
		t.Logf("%s, 4 hosts, %v: this process %v CPU = %.3f %% of one core; the 2 fail2ban servers %v = %.3f %%",
			what, elapsed.Round(time.Second), self.Round(time.Millisecond), pct(self), servers.Round(time.Millisecond), pct(servers))
	}
	measure("nothing running (baseline)", func(ctx context.Context) { <-ctx.Done() })
	measure("archive tail every 1s", func(ctx context.Context) { rig.sync.Tail(ctx, services.DefaultTailEvery) })
	probe := services.NewStatusProbe(rig.reg)
	measure("status probe every 1s", func(ctx context.Context) {
		for ctx.Err() == nil {
			probe.Refresh(ctx)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	})
}

// procCPU is the user and system CPU time process pid used so far, from
// /proc (in clock ticks of 10 ms).
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	// Fields after the command name, which ends with the last ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// cpuTime is the user and system CPU time this process used so far.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
