package agent_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/repo"
	"bangui/repo/f2bgen"
)

// rssKB reads a process's resident set (VmRSS) in KiB.
func rssKB(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkAgentBackfill measures the agent's memory idle and while the
// panel reads a whole fail2ban database through it, page after page as the
// archive sync does. BANGUI_AGENT_BACKFILL_DB names a database to read
// (for example one of 1,000,000 rows from scripts/gen-f2b-db); without it
// one of BANGUI_AGENT_BACKFILL_ROWS rows (default 100,000) is generated.
// It reports idle-rss-MB, peak-rss-MB and rows/s.
func BenchmarkAgentBackfill(b *testing.B) {
	db := os.Getenv("BANGUI_AGENT_BACKFILL_DB")
	if db == "" {
		rows := 100_000
		if v, err := strconv.Atoi(os.Getenv("BANGUI_AGENT_BACKFILL_ROWS")); err == nil && v > 0 {
			rows = v
		}
		db = filepath.Join(b.TempDir(), "fail2ban.sqlite3")
		if err := f2bgen.Generate(context.Background(), db, f2bgen.Options{Rows: rows, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	p := startAgent(b, agentOptions{extra: []string{"--fail2ban-db", db}})
	r := enroll(b, p)
	ctx := context.Background()
	if err := r.Ping(ctx); err == nil {
		b.Log("fail2ban answers (unexpected: the benchmark reads only the database)")
	}
	pid := p.Pid()
	idle := rssKB(pid)
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := rssKB(pid); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	b.ResetTimer()
	var total int
	start := time.Now()
	for range b.N {
		src, err := r.BanRows(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var after int64
		for {
			rows, err := src.NewRowsSince(ctx, after, repo.SyncBatch)
			if err != nil {
				b.Fatal(err)
			}
			total += len(rows)
			if len(rows) < repo.SyncBatch {
				break
			}
			after = rows[len(rows)-1].RowID
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(idle)/1024, "idle-rss-MB")
	b.ReportMetric(float64(peak.Load())/1024, "peak-rss-MB")
	b.ReportMetric(float64(total)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(total)/float64(b.N), "rows/op")
}

// BenchmarkRemoteCall measures one typed command through the agent beside
// the same command on the local socket (a sandboxed fail2ban), over a
// pooled connection.
func BenchmarkRemoteCall(b *testing.B) {
	sb := sandboxtest.Start(b, sandbox.Jail{Name: "sshd"})
	p := startAgent(b, agentOptions{sb: sb})
	r := enroll(b, p)
	local := hosts.NewLocal(hosts.LocalOptions{Socket: sb.SocketPath})
	ctx := context.Background()
	for _, h := range []hosts.Host{local, r} {
		name := "local"
		if h == hosts.Host(r) {
			name = "agent"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				if _, err := h.JailStatus(ctx, "sshd"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
