package handlers

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"bangui/config"
	"bangui/fail2ban"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/models"
	"bangui/repo"
	"bangui/repo/f2bgen"
)

// banN bans n distinct addresses in jail, 2,000 per fail2ban call. It
// first removes the jail's dummy action, which would run a shell per address.
func banN(b testing.TB, sb *sandbox.Sandbox, jail string, n int) {
	b.Helper()
	if _, err := sb.Client().Call(context.Background(), "set", jail, "delaction", "dummy"); err != nil {
		b.Fatal(err)
	}
	for start := 0; start < n; start += 2000 {
		args := []string{"set", jail, "banip"}
		for i := start; i < min(start+2000, n); i++ {
			args = append(args, fmt.Sprintf("100.%d.%d.%d", 64+i/65536, (i/256)%256, i%256))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		_, err := fail2ban.NewClient(sb.SocketPath, fail2ban.WithTimeout(5*time.Minute)).Call(ctx, args...)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJailPage20k renders page 1 of a jail that holds 20,000 bans, as
// a logged-in browser asks for it, and reports the median request time.
func BenchmarkJailPage20k(b *testing.B) {
	a, br, sb := loggedInWithFail2banTB(b)
	banN(b, sb, "sshd", 20000)
	a.s.status.Refresh(context.Background())
	if rec := br.get("/jails/sshd"); rec.Code != http.StatusOK {
		b.Fatalf("status %d", rec.Code)
	}
	benchGET(b, br, "/jails/sshd", nil)
}

// BenchmarkJailPage5k is the page of a jail holding 5,000 bans, reporting
// medians: "warm", nothing changed since the last request; "after-probe",
// fail2ban banned one more address on its own and the status probe read
// the counters since (as its job does every 30 s) — so, since the probe
// keeps the lists current, also any request after a quiet minute;
// "unseen-ban", fail2ban banned on its own just before the request, which
// then asks fail2ban for the list itself (what a request after a quiet
// minute did while the list expired after one); "socket-floor", fail2ban's
// `get sshd banip --with-time` alone.
func BenchmarkJailPage5k(b *testing.B) {
	a, br, sb := loggedInWithFail2banTB(b)
	banN(b, sb, "sshd", 5000)
	ctx := context.Background()
	a.s.status.Refresh(ctx)
	const path = "/jails/sshd"
	extra := 0
	banOne := func() {
		extra++
		ip := fmt.Sprintf("198.18.%d.%d", extra/256, extra%256)
		if _, err := sb.Client().Call(ctx, "set", "sshd", "banip", ip); err != nil {
			b.Fatal(err)
		}
	}
	measure := func(b *testing.B, before func()) {
		var times []time.Duration
		for b.Loop() {
			before()
			start := time.Now()
			rec := br.get(path)
			times = append(times, time.Since(start))
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
		slices.Sort(times)
		b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/median")
	}
	b.Run("warm", func(b *testing.B) { measure(b, func() {}) })
	b.Run("after-probe", func(b *testing.B) {
		measure(b, func() { banOne(); a.s.status.Refresh(ctx) })
	})
	b.Run("unseen-ban", func(b *testing.B) { measure(b, banOne) })
	b.Run("socket-floor", func(b *testing.B) {
		c := fail2ban.NewClient(sb.SocketPath)
		var times []time.Duration
		for b.Loop() {
			start := time.Now()
			if _, err := c.BannedWithTime(ctx, "sshd", time.Local); err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(start))
		}
		slices.Sort(times)
		b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/median")
	})
}

// benchGET requests path as br for every benchmark iteration, fails on any
// status but 200, and reports the median request time and the first
// request's (which finds no shared counts: after a change or a quiet
// minute a request costs that).
func benchGET(b *testing.B, br *browser, path string, hdr map[string]string) {
	b.Helper()
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		rec := br.do("GET", path, nil, hdr)
		times = append(times, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: status %d", path, rec.Code)
		}
	}
	first := times[0]
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/median")
	b.ReportMetric(float64(first.Microseconds())/1000, "ms/first")
}

// skipUnless1M skips benchmarks over 100,000 rows unless BANGUI_BENCH_1M=1.
func skipUnless1M(b *testing.B, rows int) {
	if rows > 100_000 && os.Getenv("BANGUI_BENCH_1M") != "1" {
		b.Skip("set BANGUI_BENCH_1M=1 for the 1,000,000-row benchmarks")
	}
}

// benchF2BDB returns a generated fail2ban database of rows bans ending
// today, cached in $BANGUI_BENCH_DIR (default <tmp>/bangui-bench).
func benchF2BDB(b *testing.B, rows int) string {
	b.Helper()
	dir := os.Getenv("BANGUI_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "bangui-bench")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	end := time.Now().Truncate(24 * time.Hour).Add(24 * time.Hour)
	path := filepath.Join(dir, fmt.Sprintf("handlers-f2b-%d-%s.sqlite3", rows, end.Format("20060102")))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := f2bgen.Generate(context.Background(), path, f2bgen.Options{Rows: rows, End: end, Seed: 7}); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkHistoryPages renders the dashboard (fragment and full page) and
// per-IP pages against a generated fail2ban database of 100,000 and
// 1,000,000 bans (the latter with BANGUI_BENCH_1M=1), reporting medians.
func BenchmarkHistoryPages(b *testing.B) {
	for _, size := range []struct {
		name string
		rows int
	}{{"100k", 100_000}, {"1M", 1_000_000}} {
		b.Run(size.name, func(b *testing.B) {
			skipUnless1M(b, size.rows)
			dbPath := benchF2BDB(b, size.rows)
			sb := sandboxtest.Start(b)
			a := newTestApp(b, b.TempDir(), withSocket(sb.SocketPath), withConfigDir(sb.ConfigDir),
				func(c *config.Config) { c.Fail2banDB = dbPath })
			br := a.browser()
			br.completeSetup()
			assertRedirect(b, br.login(goodPassword), "/")
			r, err := repo.OpenFail2BanDB(context.Background(), dbPath)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			counts, err := r.CountsByIP(context.Background(), models.HistoryFilter{Since: time.Now().Add(-24 * time.Hour)})
			if err != nil || len(counts) == 0 {
				b.Fatalf("no IPs: %v", err)
			}
			// The archive job has copied fail2ban's rows, as it does every 5 minutes.
			start := time.Now()
			if res, err := a.sync.Run(context.Background()); err != nil {
				b.Fatal(err)
			} else {
				b.Logf("archived %d rows in %s", res.Inserted, time.Since(start).Round(time.Millisecond))
			}
			top, typical := counts[0], counts[len(counts)/2]
			b.Logf("top IP %s has %d bans in 24h; typical %s has %d", top.IP, top.Count, typical.IP, typical.Count)
			frag := map[string]string{"HX-Request": "true"}
			for _, c := range []struct {
				name string
				path string
				hdr  map[string]string
			}{
				{"dashboard-fragment", "/?range=24h&page=2", frag},
				{"dashboard-page-24h", "/?range=24h", nil},
				{"dashboard-page-7d", "/?range=7d&source=fail2ban", nil},
				{"dashboard-page-365d", "/?range=365d&source=fail2ban", nil},
				{"dashboard-page-365d-archive", "/?range=365d", nil},
				{"history-page-30d", "/history?range=30d&source=fail2ban", nil},
				{"ip-typical", "/history/" + typical.IP, nil},
				{"ip-top", "/history/" + top.IP, nil},
			} {
				b.Run(c.name, func(b *testing.B) { benchGET(b, br, c.path, c.hdr) })
			}
			b.Logf("peak RSS of the benchmark process: %.0f MB", float64(peakRSS())/(1<<20))
		})
	}
}

// peakRSS is this process's peak resident set size in bytes (Linux), or 0.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
