package services_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"bangui/fail2ban"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/internal/servicetest"
)

// timedPanel is the part of a panel process that keeps chosen ban times:
// its database, jails and TimedBans, with Run going until stop.
type timedPanel struct {
	db    *bun.DB
	jails *services.Jails
	timed *services.TimedBans
	stop  func()
}

// startTimedPanel starts a panel on the database in dir, as after a
// restart of the panel: everything it knows comes from there.
func startTimedPanel(t *testing.T, reg *hosts.Registry, dir string) *timedPanel {
	t.Helper()
	db, err := repo.Open(context.Background(), repo.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	p := &timedPanel{db: db}
	p.jails = services.NewJails(reg, services.NewStatusProbe(reg), repo.NewHistoryArchive(db))
	p.timed = services.NewTimedBans(reg, p.jails, repo.NewTimedBans(db), nil)
	p.timed.MaxWait = 300 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.timed.Run(ctx, services.NewLeases(repo.NewLeases(db), 0, nil)) })
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			db.Close()
		})
	}
	t.Cleanup(p.stop)
	return p
}

// bannedIn reports whether ip is banned in jail right now, and until when
// fail2ban holds it.
func bannedIn(t *testing.T, c hosts.Host, jail, ip string) (bool, fail2ban.BanEntry) {
	t.Helper()
	list, err := c.BannedWithTime(context.Background(), jail, time.Local)
	if err != nil {
		t.Fatalf("banned in %s: %v", jail, err)
	}
	for _, e := range list {
		if e.IP == ip {
			return true, e
		}
	}
	return false, fail2ban.BanEntry{}
}

// TestTimedBansLastTheirChosenTime bans, on a real fail2ban, at a short
// scale (1/150: ten minutes are 4 s, thirty minutes 12 s), one address for
// "thirty minutes" in a jail whose ban time is "ten minutes", and another
// for 10 s in a jail whose ban time is really ten minutes. The panel is
// restarted after 2 s and fail2ban after 5 s — when the first ban is past
// its jail's time, so fail2ban does not restore it. Each ban holds until
// its chosen end (but for the moments fail2ban is down and the first
// pass after it is back) and is gone right after it; the tables show the
// chosen ends and who chose them; the lifts are archived as manual
// unbans.
func TestTimedBansLastTheirChosenTime(t *testing.T) {
	sb := sandboxtest.Start(t,
		sandbox.Jail{Name: "scaled", Manual: true, BanTime: "4"},
		sandbox.Jail{Name: "tenmin", Manual: true, BanTime: "10m"})
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	t.Cleanup(func() { reg.Close() })
	c, err := reg.Get(models.LocalHost)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	panel := startTimedPanel(t, reg, dir)
	ctx := services.WithActor(context.Background(), "alice")
	const long, short = "203.0.113.30", "203.0.113.31"
	longFor, shortFor := 12*time.Second, 10*time.Second
	t0 := time.Now()
	res, err := panel.timed.BanFor(ctx, models.LocalHost, []models.TimedBanRequest{
		{Address: long, Jail: "scaled", Duration: longFor, Note: "scanner"},
		{Address: short, Jail: "tenmin", Duration: shortFor},
	})
	if err != nil || len(res) != 2 || !res[0].OK || !res[1].OK {
		t.Fatalf("BanFor = %+v, %v", res, err)
	}
	if want := "banned in scaled for 12 s"; res[0].Message.Error() != want {
		t.Errorf("result = %q; want %q", res[0].Message.Error(), want)
	}
	if ok, e := bannedIn(t, c, "tenmin", short); !ok || e.BanTime != 10*time.Minute {
		t.Fatalf("fail2ban holds %s: %v %+v; want for the jail's 10 minutes", short, ok, e)
	}
	// The table shows the chosen end, not fail2ban's, and who chose it.
	bans, _, err := panel.jails.Banned(context.Background(), models.LocalHost, "tenmin", "", models.Page{Number: 1, Size: 10})
	if err != nil || len(bans) != 1 || !bans[0].Chosen || bans[0].ChosenBy != "alice" ||
		bans[0].End.Before(t0.Add(shortFor)) || bans[0].End.After(t0.Add(shortFor+2*time.Second)) {
		t.Fatalf("jail table = %+v, %v; want the chosen end about %v, chosen by alice", bans, err, t0.Add(shortFor))
	}

	restartedPanel, restartedF2B := false, false
	var down time.Time // when fail2ban went down; zero while it runs
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	gone := map[string]time.Duration{}
	rebanned := map[string]bool{} // banned anew after fail2ban's restart
	for len(gone) < 2 {
		<-tick.C
		at := time.Since(t0)
		if at > longFor+5*time.Second {
			t.Fatalf("after %v still banned: %v lifted only", at, gone)
		}
		if !restartedPanel && at > 2*time.Second {
			panel.stop()
			panel = startTimedPanel(t, reg, dir)
			restartedPanel = true
		}
		if !restartedF2B && at > 5*time.Second {
			rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			down = time.Now()
			if err := sb.Restart(rctx); err != nil {
				cancel()
				t.Fatalf("fail2ban restart: %v", err)
			}
			cancel()
			restartedF2B = true
			continue
		}
		for _, b := range []struct {
			ip, jail string
			d        time.Duration
		}{{long, "scaled", longFor}, {short, "tenmin", shortFor}} {
			if _, done := gone[b.ip]; done {
				continue
			}
			ok, e := bannedIn(t, c, b.jail, b.ip)
			switch {
			case ok && !down.IsZero() && !e.Start.Before(down.Truncate(time.Second)):
				rebanned[b.ip] = true // fail2ban did not restore it; the panel banned it again
			case ok:
			case at >= b.d:
				gone[b.ip] = at
			case !down.IsZero() && time.Since(down) < 4*time.Second:
				// fail2ban just came back: the panel's next pass bans it again.
			default:
				t.Fatalf("%s is not banned in %s after %v of its %v", b.ip, b.jail, at, b.d)
			}
		}
	}
	for ip, at := range gone {
		d := longFor
		if ip == short {
			d = shortFor
		}
		if at > d+2*time.Second {
			t.Errorf("%s lifted after %v; its chosen time was %v", ip, at, d)
		}
	}
	t.Logf("lifted after %v; banned anew after fail2ban's restart: %v", gone, rebanned)
	// The long ban is past its jail's time, so fail2ban cannot restore it:
	// the panel must ban it anew. fail2ban restores the short one itself,
	// unless the panel's pass came first (a loaded machine): either holds.
	if !rebanned[long] {
		t.Errorf("banned anew after fail2ban's restart: %v; want %s (past its jail's time)", rebanned, long)
	}
	if !restartedPanel || !restartedF2B {
		t.Fatalf("restarts: panel %v, fail2ban %v", restartedPanel, restartedF2B)
	}
	// The lifts went through Jails.Unban: archived as manual unbans, and
	// the chosen times are forgotten.
	n, err := panel.db.NewSelect().Model((*models.ArchivedBan)(nil)).
		Where("action = 'unban' AND origin = ? AND ip IN (?)", models.OriginManual, bun.In([]string{long, short})).Count(context.Background())
	if err != nil || n != 2 {
		t.Errorf("archived unbans = %d, %v; want 2", n, err)
	}
	if rows, err := repo.NewTimedBans(panel.db).All(context.Background()); err != nil || len(rows) != 0 {
		t.Errorf("chosen times left: %+v, %v", rows, err)
	}
}

// Bad requests fail alone, with a message each; the good one in the same
// batch is banned; nothing is stored for the bad ones; an unknown host is
// an error.
func TestTimedBansRefuseBadInput(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", Manual: true})
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	t.Cleanup(func() { reg.Close() })
	panel := startTimedPanel(t, reg, t.TempDir())
	ctx := context.Background()
	reqs := []models.TimedBanRequest{
		{Address: "203.0.113.7", Jail: "sshd", Duration: time.Hour, Note: "<script>alert(1)</script>"},
		{Address: "203.0.113.300", Jail: "sshd", Duration: time.Hour},
		{Address: "", Jail: "sshd", Duration: time.Hour},
		{Address: "198.51.100.0/33", Jail: "sshd", Duration: time.Hour},
		{Address: "203.0.113.8", Jail: "sshd", Duration: -time.Minute},
		{Address: "203.0.113.9", Jail: "sshd", Duration: 3 * time.Second},
		{Address: "203.0.113.10", Jail: "sshd", Duration: 11 * 365 * 24 * time.Hour},
		{Address: "203.0.113.11", Jail: "ssh d", Duration: time.Hour},
		{Address: "203.0.113.12", Jail: "nosuchjail", Duration: time.Hour},
		{Address: "203.0.113.13", Jail: "sshd", Duration: time.Hour, Note: strings.Repeat("x", 501)},
	}
	res, err := panel.timed.BanFor(ctx, models.LocalHost, reqs)
	if err != nil || len(res) != len(reqs) {
		t.Fatalf("BanFor = %+v, %v", res, err)
	}
	wants := []string{"banned in sshd for 1 h", "is not an IP address", "Enter an IP", "is not an IP address", "cannot be negative",
		"at least 10 s", "at most 10 years", "not a valid jail name", "no running jail nosuchjail", "at most 500 fit"}
	for i, r := range res {
		if r.OK != (i == 0) || !strings.Contains(r.Message.Error(), wants[i]) {
			t.Errorf("request %d (%+v) = %+v; want OK %v and a message with %q", i, reqs[i], r, i == 0, wants[i])
		}
	}
	rows, err := repo.NewTimedBans(panel.db).All(ctx)
	if err != nil || len(rows) != 1 || rows[0].IP != "203.0.113.7" || rows[0].Note != "<script>alert(1)</script>" {
		t.Fatalf("stored = %+v, %v; want only the good request, its note as written", rows, err)
	}
	if _, err := panel.timed.BanFor(ctx, "nosuchhost", reqs[:1]); err == nil {
		t.Error("BanFor on an unknown host succeeded")
	}
	// Unbanning through the panel forgets the chosen time.
	if _, err := panel.jails.Unban(ctx, models.LocalHost, "sshd", []string{"203.0.113.7"}); err != nil {
		t.Fatal(err)
	}
	if rows, err := repo.NewTimedBans(panel.db).All(ctx); err != nil || len(rows) != 0 {
		t.Fatalf("after unban, stored = %+v, %v", rows, err)
	}
}

// A permanent chosen ban in a jail of 4 s holds past the jail's time
// (renewed by the panel) and the table says it never ends; an unban
// through the panel ends it for good: no later pass bans it again.
func TestTimedBansPermanentUntilUnbanned(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "scaled", Manual: true, BanTime: "4"})
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	t.Cleanup(func() { reg.Close() })
	c, err := reg.Get(models.LocalHost)
	if err != nil {
		t.Fatal(err)
	}
	panel := startTimedPanel(t, reg, t.TempDir())
	ctx := context.Background()
	const ip = "203.0.113.40"
	t0 := time.Now()
	if res, err := panel.timed.BanFor(ctx, models.LocalHost, []models.TimedBanRequest{{Address: ip, Jail: "scaled"}}); err != nil || !res[0].OK || res[0].Message.Error() != "banned in scaled permanently" {
		t.Fatalf("BanFor = %+v, %v", res, err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for time.Since(t0) < 7*time.Second {
		<-tick.C
		if ok, _ := bannedIn(t, c, "scaled", ip); !ok {
			t.Fatalf("the permanent ban is gone after %v", time.Since(t0))
		}
	}
	bans, _, err := panel.jails.Banned(ctx, models.LocalHost, "scaled", "", models.Page{Number: 1, Size: 10})
	if err != nil || len(bans) != 1 || !bans[0].Permanent || !bans[0].Chosen {
		t.Fatalf("table = %+v, %v; want one permanent chosen ban", bans, err)
	}
	if n, err := panel.jails.Unban(ctx, models.LocalHost, "scaled", []string{ip}); err != nil || n != 1 {
		t.Fatalf("Unban = %d, %v", n, err)
	}
	unbanned := time.Now()
	for time.Since(unbanned) < 3*time.Second {
		<-tick.C
		if ok, _ := bannedIn(t, c, "scaled", ip); ok {
			t.Fatalf("banned again %v after the unban", time.Since(unbanned))
		}
	}
}

// Two panel processes on one database: the chosen time set in one is kept
// by whichever holds the lease, and the ban is lifted once, not twice.
func TestTimedBansTwoPanelsLiftOnce(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "tenmin", Manual: true, BanTime: "10m"})
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	t.Cleanup(func() { reg.Close() })
	c, err := reg.Get(models.LocalHost)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	first, second := startTimedPanel(t, reg, dir), startTimedPanel(t, reg, dir)
	ctx := context.Background()
	const ip = "203.0.113.50"
	t0 := time.Now()
	if res, err := second.timed.BanFor(ctx, models.LocalHost, []models.TimedBanRequest{{Address: ip, Jail: "tenmin", Duration: 10 * time.Second}}); err != nil || !res[0].OK {
		t.Fatalf("BanFor = %+v, %v", res, err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		<-tick.C
		ok, _ := bannedIn(t, c, "tenmin", ip)
		if !ok {
			break
		}
		if time.Since(t0) > 15*time.Second {
			t.Fatalf("still banned after %v", time.Since(t0))
		}
	}
	if at := time.Since(t0); at < 10*time.Second {
		t.Fatalf("lifted after %v of 10 s", at)
	}
	// Each lift through Jails.Unban archives one unban, just after
	// fail2ban's; the other panel's next passes lift nothing more.
	unbans := func() int {
		n, err := first.db.NewSelect().Model((*models.ArchivedBan)(nil)).Where("action = 'unban' AND ip = ?", ip).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	for deadline := time.Now().Add(5 * time.Second); unbans() == 0 && time.Now().Before(deadline); <-tick.C {
	}
	for until := time.Now().Add(2 * time.Second); time.Now().Before(until); <-tick.C {
		if n := unbans(); n != 1 {
			t.Fatalf("archived unbans = %d; want 1", n)
		}
	}
}
