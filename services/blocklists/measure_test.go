package blocklists

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/fail2ban"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
)

// TestMeasureBlocklistImport times an import of 20,000 addresses against
// fail2ban-client banning the same number in one "set blocklist-import
// banip" call, on the same fail2ban sandbox (dummy action) in the same run,
// in three rounds with alternating order, each from an empty jail; and one
// call per address (1,000 through the socket, 100 fail2ban-client runs),
// extrapolated to 20,000. fail2ban's dummy action starts a
// shell per address, so this takes minutes: it runs only with
// BANGUI_MEASURE=1.
//
//	BANGUI_MEASURE=1 go test -run TestMeasureBlocklistImport -v -timeout 30m ./services/
func TestMeasureBlocklistImport(t *testing.T) {
	if os.Getenv("BANGUI_MEASURE") != "1" {
		t.Skip("set BANGUI_MEASURE=1 to measure (takes minutes)")
	}
	const n = 20000
	e := newImportEnv(t)
	ctx := context.Background()
	b := New(storesOn(e.db), e.hosts, services.NewStatusProbe(e.hosts), Options{})
	if err := b.EnsureJail(ctx, models.LocalHost); err != nil {
		t.Fatal(err)
	}
	f2bDB, err := repo.OpenFail2BanDB(ctx, e.sb.DBFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f2bDB.Close()
	bansInDB := func() int {
		var c int
		if err := f2bDB.DB().QueryRowContext(ctx, "SELECT count(*) FROM bans WHERE jail = ?", models.BlocklistJail).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// settle waits until fail2ban's database holds want bans of the jail
	// (fail2ban writes them in a background thread), so that no
	// measurement pays for the one before.
	settle := func(want int) {
		deadline := time.Now().Add(10 * time.Minute)
		for bansInDB() != want {
			if time.Now().After(deadline) {
				t.Fatalf("fail2ban's database holds %d bans, want %d", bansInDB(), want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// reset lifts every ban (one flush of the dummy action), so that every
	// measurement starts from an empty jail.
	slow := fail2ban.NewClient(e.sb.SocketPath, fail2ban.WithTimeout(5*time.Minute))
	reset := func() {
		if _, err := slow.UnbanAll(ctx); err != nil {
			t.Fatal(err)
		}
		settle(0)
	}
	// serverCPU is the CPU time fail2ban-server and its finished children
	// (the action shells) have used, from /proc: contention on a shared
	// machine stretches wall time but hardly CPU time.
	serverCPU := func() time.Duration {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", e.sb.Pid()))
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		var ticks int64
		for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime
			var v int64
			fmt.Sscan(f[i], &v)
			ticks += v
		}
		return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
	}
	addrs := func(block int, count int) []string {
		out := make([]string, 0, count)
		for i := range count {
			out = append(out, fmt.Sprintf("10.%d.%d.%d", block, i/250, i%250+1))
		}
		return out
	}
	var oursCPU, clientCPU []time.Duration // fail2ban-server's CPU during each run
	ours := func(block int) time.Duration {
		reset()
		list := addrs(block, n)
		url := e.lists.set(fmt.Sprintf("measure-%d", block), strings.Join(list, "\n")+"\n")
		src := e.addSource(b, fmt.Sprintf("Measure %d", block), url)
		cpu := serverCPU()
		start := time.Now()
		p, err := b.Import(ctx, src.ID, models.TriggerManual)
		took := time.Since(start)
		cpu = serverCPU() - cpu
		if err != nil || len(p.Results) != 1 || p.Results[0].Imported != n || !p.Results[0].Error.IsZero() {
			t.Fatalf("import: %+v, %v", p, err)
		}
		settle(n)
		oursCPU = append(oursCPU, cpu)
		return took
	}
	client := func(block int) time.Duration {
		reset()
		args := append([]string{"-s", e.sb.SocketPath, "set", models.BlocklistJail, "banip"}, addrs(block, n)...)
		cpu := serverCPU()
		start := time.Now()
		out, err := exec.Command("fail2ban-client", args...).CombinedOutput()
		took := time.Since(start)
		clientCPU = append(clientCPU, serverCPU()-cpu)
		if err != nil || strings.TrimSpace(string(out)) != fmt.Sprint(n) {
			t.Fatalf("fail2ban-client: %v: %.300s", err, out)
		}
		settle(n)
		return took
	}
	var oursAll, clientAll []time.Duration
	for round := range 3 {
		var o, c time.Duration
		if round%2 == 0 {
			c, o = client(20+2*round), ours(21+2*round)
		} else {
			o, c = ours(20+2*round), client(21+2*round)
		}
		oursAll, clientAll = append(oursAll, o), append(clientAll, c)
		t.Logf("round %d: BanGUI import %v, fail2ban-client %v, ratio %.3f; fail2ban-server CPU (with action shells) %v vs %v",
			round+1, o.Round(time.Millisecond), c.Round(time.Millisecond), o.Seconds()/c.Seconds(),
			oursCPU[round].Round(10*time.Millisecond), clientCPU[round].Round(10*time.Millisecond))
	}
	var oSum, cSum time.Duration
	for i := range oursAll {
		oSum += oursAll[i]
		cSum += clientAll[i]
	}
	slices.Sort(oursAll)
	slices.Sort(clientAll)
	ratio := oSum.Seconds() / cSum.Seconds()
	t.Logf("20,000 addresses, 3 rounds: BanGUI median %v, fail2ban-client median %v; total %v vs %v: ratio %.3f (limit 1.15)",
		oursAll[1].Round(time.Millisecond), clientAll[1].Round(time.Millisecond), oSum.Round(time.Millisecond), cSum.Round(time.Millisecond), ratio)

	// One call per address, for comparison: 1,000 through the socket client.
	const perIP = 1000
	reset()
	start := time.Now()
	for _, ip := range addrs(24, perIP) {
		if _, err := slow.Ban(ctx, models.BlocklistJail, ip); err != nil {
			t.Fatal(err)
		}
	}
	one := time.Since(start)
	t.Logf("one banip call per address through the socket: %d in %v (%.2f ms each), extrapolated to 20,000: %v",
		perIP, one.Round(time.Millisecond), float64(one.Microseconds())/perIP/1000, (one * n / perIP).Round(time.Second))
	// And one fail2ban-client run per address, as a shell loop would do.
	const perRun = 100
	start = time.Now()
	for _, ip := range addrs(25, perRun) {
		if out, err := exec.Command("fail2ban-client", "-s", e.sb.SocketPath, "set", models.BlocklistJail, "banip", ip).CombinedOutput(); err != nil {
			t.Fatalf("fail2ban-client: %v: %s", err, out)
		}
	}
	runs := time.Since(start)
	t.Logf("one fail2ban-client run per address: %d in %v (%.1f ms each), extrapolated to 20,000: %v",
		perRun, runs.Round(time.Millisecond), float64(runs.Microseconds())/perRun/1000, (runs * n / perRun).Round(time.Second))
	if ratio > 1.15 {
		t.Errorf("the import took %.3f times as long as fail2ban-client, more than 1.15", ratio)
	}
}
