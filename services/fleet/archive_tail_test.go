package fleet_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"bangui/agent/agenttest"
	"bangui/events"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/geo/geotest"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/fleet"
)

// TestArchiveTailOfAnAgentHost: a host behind a real agent is tailed like
// the local one: each of 10 bans on its fail2ban is in the panel's archive
// with its country within 5 s. With BANGUI_TAIL_IDLE set (such as 20s) it
// then measures the tail at rest: the CPU of this process and of the agent.
func TestArchiveTailOfAnAgentHost(t *testing.T) {
	if testing.Short() {
		t.Skip("a fail2ban sandbox, an agent and 10 bans")
	}
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 3})
	ag := agenttest.Start(t, bin.Path(t), sb, agenttest.FreeAddr(t), filepath.Join(t.TempDir(), "agent"))
	p := newPanel(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in, err := p.fleet.Probe(ctx, fleet.EnrollInput{Name: "Edge 1", URL: ag.URL, Token: ag.Token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.fleet.Enroll(ctx, in); err != nil {
		t.Fatalf("enrol: %v\n%s", err, ag.Log())
	}
	// The local host of this panel has no fail2ban: its tail fails quietly
	// beside the agent's.
	archive := repo.NewHistoryArchive(p.db)
	settings := repo.NewSettingsStore(p.db)
	geo := services.OpenGeo(services.GeoConfig{CountryDB: geotest.CountryDB(t)}, repo.NewGeoCacheStore(p.db), settings, archive, nil)
	t.Cleanup(func() { geo.Close() })
	tail := services.NewArchiveSync(services.NewBanSources(p.reg, archive), settings)
	tail.Events, tail.Countries = events.New(), geo
	tail.Leases = services.NewLeases(repo.NewLeases(p.db), 0, nil)
	var wg sync.WaitGroup
	tailCtx, stop := context.WithCancel(ctx)
	defer func() { stop(); wg.Wait() }()
	wg.Go(func() { tail.Tail(tailCtx, services.DefaultTailEvery) })

	var took []time.Duration
	for i := range 10 {
		ip := fmt.Sprintf("193.99.144.%d", 10+i) // DE
		start := time.Now()
		if _, err := sb.Client().Call(ctx, "set", "sshd", "banip", ip); err != nil {
			t.Fatal(err)
		}
		for deadline := start.Add(5 * time.Second); ; {
			bans, _, err := archive.Bans(ctx, models.HistoryFilter{Host: "edge-1", IPPrefix: ip, Action: repo.ActionBan}, models.Page{Number: 1, Size: 5})
			if err != nil {
				t.Fatal(err)
			}
			if len(bans) == 1 && bans[0].IP == ip && bans[0].Country == "DE" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s banned on the agent's host: archive holds %+v after 5 s, want it once from DE", ip, bans)
			}
			time.Sleep(20 * time.Millisecond) // polling interval, not a wait for an outcome
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	t.Logf("ban on the agent's host to archived row with its country, 10 bans: median %v, worst %v",
		took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))

	d, err := time.ParseDuration(os.Getenv("BANGUI_TAIL_IDLE"))
	if err != nil {
		return
	}
	measure := func(what string) {
		self, agent, wall := cpuTime(t), procCPU(t, ag.Pid()), time.Now()
		for end := wall.Add(d); time.Now().Before(end); {
			time.Sleep(100 * time.Millisecond) // the measured period
		}
		elapsed := time.Since(wall)
		self, agent = cpuTime(t)-self, procCPU(t, ag.Pid())-agent
		pct := func(c time.Duration) float64 { return 100 * c.Seconds() / elapsed.Seconds() }
		t.Logf("%s, %v: this process %v CPU = %.3f %% of one core; the agent %v = %.3f %%",
			what, elapsed.Round(time.Second), self.Round(time.Millisecond), pct(self), agent.Round(time.Millisecond), pct(agent))
	}
	measure("archive tail at rest of the agent's host (and of a local host without fail2ban)")
	stop()
	wg.Wait()
	measure("nothing running (baseline)")
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

// procCPU is the user and system CPU time process pid used so far, from
// /proc (in clock ticks of 10 ms).
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
