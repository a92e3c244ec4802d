package services_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"bangui/internal/pgtest"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
)

// BenchmarkUnbanPreserve measures what archiving first adds to an unban,
// beside the unban's own socket time, on a real fail2ban and a SQLite
// archive with the app's leases: each op bans fresh addresses (untimed),
// waits for fail2ban's rows, then times ArchiveSync.Preserve and the
// socket unban of one of them apart (preserve-ms/op, unban-ms/op).
// pending is how many rows the archive lacks when the unban comes (1: the
// rows of this ban only, the archive tail keeping up; 200: a burst since
// the last sync); held runs the copy while another panel holds the host's
// sync lease (repo.CopyPending); postgres uses a PostgreSQL archive.
func BenchmarkUnbanPreserve(b *testing.B) {
	for _, c := range []struct {
		name    string
		pending int
		held    bool
		pg      bool
	}{{"pending=1", 1, false, false}, {"pending=1/lease-held-elsewhere", 1, true, false}, {"pending=200", 200, false, false},
		{"postgres/pending=1", 1, false, true}, {"postgres/pending=200", 200, false, true}} {
		b.Run(c.name, func(b *testing.B) {
			url := ""
			if c.pg {
				url = pgtest.URL(b)
			}
			benchUnbanPreserve(b, url, c.pending, c.held)
		})
	}
}

func benchUnbanPreserve(b *testing.B, url string, pending int, held bool) {
	l := newLossless(b, url, models.LocalHost)
	ctx := context.Background()
	store := repo.NewLeases(l.db)
	l.sync.Leases, l.sync.Turn = services.NewLeases(store, services.DefaultLeaseTTL, nil), 5*time.Minute
	if held {
		if ok, err := store.TryAcquire(ctx, "archive-sync/"+models.LocalHost, "other-panel", 24*time.Hour); err != nil || !ok {
			b.Fatalf("the other panel's lease: %v, %v", ok, err)
		}
	}
	client := l.sbs[models.LocalHost].Client()
	f2b := l.fail2banDB(b)
	var preserve, unban time.Duration
	next := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		ips := make([]string, pending)
		for k := range ips {
			ips[k] = fmt.Sprintf("198.18.%d.%d", next/250%250, next%250+1)
			next++
		}
		for k := 0; k < len(ips); k += 50 { // fail2ban answers a long list too late
			if _, err := client.Ban(ctx, "sshd", ips[k:min(k+50, len(ips))]...); err != nil {
				b.Fatal(err)
			}
		}
		for deadline := time.Now().Add(20 * time.Second); ; {
			rows, err := f2b.RecentOfIP(ctx, ips[len(ips)-1], 1)
			if err != nil {
				b.Fatal(err)
			}
			if len(rows) > 0 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("fail2ban did not write the bans within 20 s")
			}
			time.Sleep(5 * time.Millisecond)
		}
		b.StartTimer()
		t0 := time.Now()
		n, err := l.sync.Preserve(ctx, models.LocalHost)
		t1 := time.Now()
		if _, err := client.Unban(ctx, "sshd", ips[0]); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err != nil || n != int64(pending) {
			b.Fatalf("preserve: %d new events, %v; want %d", n, err, pending)
		}
		preserve += t1.Sub(t0)
		unban += t2.Sub(t1)
	}
	b.ReportMetric(float64(preserve.Microseconds())/1000/float64(b.N), "preserve-ms/op")
	b.ReportMetric(float64(unban.Microseconds())/1000/float64(b.N), "unban-ms/op")
}
