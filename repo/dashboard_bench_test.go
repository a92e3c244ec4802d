package repo

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"bangui/models"
)

// BenchmarkF2BDashboard365 is the 365-day dashboard's reads of fail2ban's
// database (the table's first page, the weekly trend and the per-jail
// counts, at once as services.History.Dashboard runs them) in three
// situations:
//
//   - cold: nothing cached, every statement runs (the cost the warmer
//     moves out of the request); cli-ms/op is the sqlite3 CLI running the
//     same statements one after the other, cli-par-ms the slowest of them
//     alone (the floor when they run at once).
//   - after-change: fail2ban wrote a ban warmGap + 1 s earlier and the
//     warmer had the counts ready; only the page's rows are read.
//   - at-change: the request comes right after fail2ban's write and waits
//     for the computation under way (the warmer's or its own).
//
// The changes are made to a copy of the benchmark database.
//
//	BANGUI_BENCH_1M=1 go test ./repo -run '^$' -bench F2BDashboard365 -benchtime 10x
func BenchmarkF2BDashboard365(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			skipUnlessSize(b, size.rows)
			path := copyFile(b, benchF2B(b, size.rows))
			f := models.HistoryFilter{Since: fixedNow.Add(-365 * day), Action: ActionBan}
			dashboard := func(r *Fail2BanDBReader) error {
				var errs [3]error
				var wg sync.WaitGroup
				wg.Go(func() { _, _, errs[0] = r.Bans(ctx, f, models.Page{Number: 1, Size: 50}) })
				wg.Go(func() { _, errs[1] = r.CountsByBucket(ctx, f, 7*day, 53) })
				wg.Go(func() { _, _, errs[2] = r.CountsByJail(ctx, f) })
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						return err
					}
				}
				return nil
			}
			b.Run("cold", func(b *testing.B) {
				r := openTestReader(b, path, defaultReaderConfig())
				r.cache.disabled = true
				stmts := captured(b, r, func() error { return dashboard(r) })
				for b.Loop() {
					if err := dashboard(r); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
				serial, ok := cliMillis(b, path, stmts, 3)
				if !ok {
					return
				}
				slowest := 0.0
				for _, s := range stmts {
					ms, _ := cliMillis(b, path, []benchStmt{s}, 3)
					slowest = max(slowest, ms)
				}
				b.ReportMetric(serial, "cli-ms/op")
				b.ReportMetric(slowest, "cli-par-ms")
			})
			rw := openRW(b, path)
			ban := func() {
				if _, err := rw.ExecContext(ctx, `INSERT INTO bans (jail, ip, timeofban, bantime, bancount, data) VALUES ('sshd', '192.0.2.9', ?, 600, 1, '{}')`, fixedNow.Unix()); err != nil {
					b.Fatal(err)
				}
			}
			for _, c := range []struct {
				name  string
				after time.Duration
			}{{"after-change", warmGap + time.Second}, {"at-change", 0}} {
				b.Run(c.name, func(b *testing.B) {
					r := openTestReader(b, path, defaultReaderConfig())
					if err := dashboard(r); err != nil { // asked once: the warmer keeps it
						b.Fatal(err)
					}
					var total time.Duration
					for b.Loop() {
						b.StopTimer()
						ban()
						time.Sleep(c.after) // the time between fail2ban's write and the request
						b.StartTimer()
						start := time.Now()
						if err := dashboard(r); err != nil {
							b.Fatal(err)
						}
						total += time.Since(start)
					}
					b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/op")
				})
			}
		})
	}
}

// copyFile copies a benchmark database into the benchmark's temporary
// directory, for changes that must not reach the cached original.
func copyFile(b *testing.B, src string) string {
	b.Helper()
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(b.TempDir(), filepath.Base(src))
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	return dst
}
