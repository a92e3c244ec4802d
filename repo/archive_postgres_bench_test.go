package repo

// Benchmarks of the PostgreSQL archive on a generated fleet archive: rows
// events over 365 days across 20 hosts, on the tests' private cluster
// (internal/pgtest), built anew on each run (COPY-free: Archive's own
// inserts), then VACUUM ANALYZE. Each case runs the statements of one page
// with the result cache off; the "psql" case runs one aggregate through
// the psql client on the same database and reports its time as psql-ms/op,
// the floor any PostgreSQL client could reach.
//
//	go test ./repo -run '^$' -bench PostgresArchive -benchtime 10x
//	BANGUI_BENCH_PG_ROWS=1000000 go test ./repo -run '^$' -bench PostgresArchive -benchtime 10x -timeout 30m

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"bangui/internal/pgtest"
	"bangui/models"
)

// benchPGArchive returns a PostgreSQL archive of rows generated events.
func benchPGArchive(b *testing.B, rows int) (*postgresArchive, string) {
	b.Helper()
	ctx := context.Background()
	u := pgtest.URL(b)
	db, err := Open(ctx, Options{URL: u})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := newPostgresArchive(db)
	s.now = func() time.Time { return fixedNow }
	s.cache.disabled = true
	jails := []string{"sshd", "sshd", "sshd", "nginx-http-auth", "postfix", "dovecot", "recidive", models.BlocklistJail}
	start := time.Now()
	const chunk = 20_000
	events := make([]models.ArchivedBan, 0, chunk)
	ips := max(rows/5, 1)
	for i := range rows {
		// A deterministic spread: addresses reused about five times, more
		// events recently than long ago, 2% unbans.
		n := uint64(i)*2654435761 + 12345
		ip := fmt.Sprintf("%d.%d.%d.%d", 1+n%223, (n>>8)%256, (n>>16)%256, uint64(i%ips)%256)
		age := time.Duration(float64(365*day) * float64((n>>20)%1000) / 1000 * float64((n>>30)%1000) / 1000)
		country := benchCountry(ip)
		e := models.ArchivedBan{Host: fmt.Sprintf("host%02d", i%20), Jail: jails[(n>>12)%uint64(len(jails))], IP: ip,
			TimeOfBan: fixedNow.Add(-age).Unix(), BanTime: 600, BanCount: 1, Failures: int64(1 + n%5), CountryCode: &country,
			Data: `{"failures": 3, "matches": ["x"]}`}
		if (n>>40)%50 == 0 {
			e.Action = ActionUnban
		}
		events = append(events, e)
		if len(events) == chunk || i == rows-1 {
			if _, err := s.Archive(ctx, events); err != nil {
				b.Fatal(err)
			}
			events = events[:0]
		}
	}
	if _, err := db.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("archived %d events on PostgreSQL in %s", rows, time.Since(start).Round(time.Millisecond))
	return s, u
}

// psqlMillis runs q through psql reps times on the database at u and
// returns the mean of the times psql reports; ok is false without psql.
func psqlMillis(b *testing.B, u, q string, reps int) (float64, bool) {
	bin, err := pgtest.BinDir()
	if err != nil {
		return 0, false
	}
	psql := filepath.Join(bin, "psql")
	if _, err := os.Stat(psql); err != nil {
		return 0, false
	}
	args := []string{"-X", "-q", "-d", u, "-c", `\timing on`}
	for range reps {
		args = append(args, "-c", q)
	}
	out, err := exec.Command(psql, args...).CombinedOutput()
	if err != nil {
		b.Fatalf("psql: %v: %s", err, out)
	}
	ms := regexp.MustCompile(`Time: ([0-9.]+) ms`).FindAllSubmatch(out, -1)
	if len(ms) != reps {
		b.Fatalf("psql reported %d times: %s", len(ms), out)
	}
	var sum float64
	for _, m := range ms {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		sum += v
	}
	return sum / float64(reps), true
}

// BenchmarkPostgresArchive runs the dashboard's, the map's and the per-IP
// page's archive statements on PostgreSQL.
func BenchmarkPostgresArchive(b *testing.B) {
	ctx := context.Background()
	rows := 200_000
	if v, err := strconv.Atoi(os.Getenv("BANGUI_BENCH_PG_ROWS")); err == nil && v > 0 {
		rows = v
	}
	s, u := benchPGArchive(b, rows)
	var topIP string
	if err := s.queryRow(ctx, `SELECT ip FROM history_archive GROUP BY ip ORDER BY count(*) DESC LIMIT 1`).Scan(&topIP); err != nil {
		b.Fatal(err)
	}
	dashboard := func(since time.Duration, bucket time.Duration, buckets int) func() error {
		return func() error {
			f := models.HistoryFilter{Since: fixedNow.Add(-since), Action: ActionBan}
			if _, _, err := s.Bans(ctx, f, models.Page{Number: 1, Size: 50}); err != nil {
				return err
			}
			if _, err := s.CountsByBucket(ctx, models.HistoryFilter{Action: ActionBan}, bucket, buckets); err != nil {
				return err
			}
			if _, _, err := s.CountsByJail(ctx, f); err != nil {
				return err
			}
			_, err := s.CountsByCountry(ctx, f)
			return err
		}
	}
	cases := []struct {
		name string
		call func() error
	}{
		{"dashboard-table-24h", func() error {
			_, _, err := s.Bans(ctx, models.HistoryFilter{Since: fixedNow.Add(-day), Action: ActionBan}, models.Page{Number: 1, Size: 50})
			return err
		}},
		{"dashboard-24h", dashboard(day, time.Hour, 24)},
		{"dashboard-365d", dashboard(365*day, 7*day, 52)},
		{"dashboard-365d-one-host", func() error {
			f := models.HistoryFilter{Since: fixedNow.Add(-365 * day), Action: ActionBan, Host: "host07"}
			if _, _, err := s.Bans(ctx, f, models.Page{Number: 1, Size: 50}); err != nil {
				return err
			}
			_, _, err := s.CountsByJail(ctx, f)
			return err
		}},
		{"per-ip", func() error {
			if _, err := s.IPTotals(ctx, topIP, time.Time{}); err != nil {
				return err
			}
			_, err := s.RecentOfIP(ctx, topIP, 50)
			return err
		}},
		{"page-365d", func() error {
			_, _, err := s.Bans(ctx, models.HistoryFilter{Since: fixedNow.Add(-365 * day), Action: ActionBan}, models.Page{Number: 1, Size: 50})
			return err
		}},
		{"trend-365d", func() error {
			_, err := s.CountsByBucket(ctx, models.HistoryFilter{Action: ActionBan}, 7*day, 52)
			return err
		}},
		{"countries-365d", func() error {
			_, err := s.CountsByCountry(ctx, models.HistoryFilter{Since: fixedNow.Add(-365 * day), Action: ActionBan})
			return err
		}},
		{"jails-365d", func() error {
			_, _, err := s.CountsByJail(ctx, models.HistoryFilter{Since: fixedNow.Add(-365 * day), Action: ActionBan})
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.call(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
			if c.name == "jails-365d" {
				// The aggregate as a plain GROUP BY of the events, and as
				// the statement the archive runs (on the roll-up).
				since := fixedNow.Add(-365 * day).Unix()
				q := fmt.Sprintf(`SELECT jail, count(*) AS n FROM history_archive WHERE timeofban >= %d AND action = 'ban' GROUP BY jail ORDER BY n DESC, jail`, since)
				if ms, ok := psqlMillis(b, u, q, 5); ok {
					b.ReportMetric(ms, "psql-raw-ms/op")
				}
				rq, args := jailRollup(models.HistoryFilter{Since: fixedNow.Add(-365 * day), Action: ActionBan})
				rq = `SELECT k, n FROM (` + rq + `) t WHERE n > 0 ORDER BY n DESC, k`
				for _, a := range args {
					lit := fmt.Sprint(a)
					if str, ok := a.(string); ok {
						lit = "'" + str + "'"
					}
					rq = strings.Replace(rq, "?", lit, 1)
				}
				if ms, ok := psqlMillis(b, u, rq, 5); ok {
					b.ReportMetric(ms, "psql-same-ms/op")
				}
			}
		})
	}
}
