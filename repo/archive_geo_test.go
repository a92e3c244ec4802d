package repo

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
	"bangui/repo/f2bgen"
)

func TestArchiveCountries(t *testing.T) {
	forEachArchive(t, func(t *testing.T, _ *bun.DB, s HistoryArchive) {
		ctx := context.Background()
		code := func(c string) *string { return &c }
		at := func(d time.Duration) int64 { return fixedNow.Add(-d).Unix() }
		events := []models.ArchivedBan{
			{Jail: "sshd", IP: "193.99.144.80", TimeOfBan: at(time.Hour), CountryCode: code("DE")},
			{Jail: "sshd", IP: "193.99.144.81", TimeOfBan: at(2 * time.Hour), CountryCode: code("DE")},
			{Jail: "sshd", IP: "8.8.8.8", TimeOfBan: at(3 * time.Hour), CountryCode: code("US")},
			{Jail: models.BlocklistJail, IP: "8.8.4.4", TimeOfBan: at(4 * time.Hour), CountryCode: code("US"), Origin: "blocklist"},
			{Jail: "sshd", IP: "10.0.0.1", TimeOfBan: at(5 * time.Hour), CountryCode: code("")},
			{Jail: "sshd", IP: "1.1.1.1", TimeOfBan: at(6 * time.Hour)},
			{Jail: "sshd", IP: "1.1.1.1", TimeOfBan: at(7 * time.Hour)},
			{Jail: "sshd", IP: "8.8.8.8", TimeOfBan: at(30 * time.Minute), Action: ActionUnban, CountryCode: code("US")},
			{Jail: "sshd", IP: "193.99.144.82", TimeOfBan: at(3 * day), CountryCode: code("DE")},
		}
		if _, err := s.Archive(ctx, events); err != nil {
			t.Fatal(err)
		}
		day1 := models.HistoryFilter{Since: fixedNow.Add(-day), Action: ActionBan}
		counts, err := s.CountsByCountry(ctx, day1)
		if err != nil {
			t.Fatal(err)
		}
		want := []models.CountryCount{{Code: "DE", Count: 2}, {Code: "US", Count: 2}, {Code: "", Count: 3}}
		if fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Errorf("24h counts = %v, want %v (unknown: NULL and \"\" together, last)", counts, want)
		}
		counts, _ = s.CountsByCountry(ctx, models.HistoryFilter{Since: fixedNow.Add(-day), Action: ActionBan, Origin: models.OriginBlocklist})
		if fmt.Sprint(counts) != fmt.Sprint([]models.CountryCount{{Code: "US", Count: 1}}) {
			t.Errorf("blocklist counts = %v", counts)
		}
		counts, _ = s.CountsByCountry(ctx, models.HistoryFilter{Action: ActionBan})
		if fmt.Sprint(counts) != fmt.Sprint([]models.CountryCount{{Code: "DE", Count: 3}, {Code: "US", Count: 2}, {Code: "", Count: 3}}) {
			t.Errorf("all-time counts = %v", counts)
		}

		recs, total, err := s.BansOfCountry(ctx, day1, "de", models.Page{Number: 1, Size: 1})
		if err != nil || total != 2 || len(recs) != 1 || recs[0].IP != "193.99.144.80" || recs[0].Country != "DE" {
			t.Errorf("DE page 1 = %+v, %d, %v", recs, total, err)
		}
		recs, _, _ = s.BansOfCountry(ctx, day1, "DE", models.Page{Number: 2, Size: 1})
		if len(recs) != 1 || recs[0].IP != "193.99.144.81" {
			t.Errorf("DE page 2 = %+v", recs)
		}
		recs, total, err = s.BansOfCountry(ctx, day1, "", models.Page{Number: 1, Size: 10})
		if err != nil || total != 3 || len(recs) != 3 || recs[0].IP != "10.0.0.1" || recs[2].IP != "1.1.1.1" {
			t.Errorf("unknown = %+v, %d, %v (newest first across NULL and \"\")", recs, total, err)
		}

		ips, err := s.IPsWithoutCountry(ctx, 10)
		if err != nil || fmt.Sprint(ips) != "[1.1.1.1]" {
			t.Errorf("without country = %v, %v", ips, err)
		}
		n, err := s.SetCountries(ctx, map[string]string{"1.1.1.1": "au", "8.8.8.8": "XX"})
		if err != nil || n != 2 {
			t.Errorf("set countries = %d, %v; want 2 (8.8.8.8 already has one)", n, err)
		}
		if c, _ := s.CountWithoutCountry(ctx); c != 0 {
			t.Errorf("%d without country", c)
		}
		if n, err := s.ResetUnknownCountries(ctx); err != nil || n != 1 {
			t.Errorf("reset = %d, %v; want the one \"\" row", n, err)
		}
		if ips, _ := s.IPsWithoutCountry(ctx, 10); fmt.Sprint(ips) != "[10.0.0.1]" {
			t.Errorf("after reset = %v", ips)
		}
	})
}

// ---------------------------------------------------------------------------
// Benchmarks at 100,000 and 1,000,000 archived bans with countries.

// benchCountry spreads addresses over countries the way attack traffic
// looks: a few countries take most bans. 3% stay unknown ("").
func benchCountry(ip string) string {
	h := fnv.New32a()
	h.Write([]byte(ip))
	v := h.Sum32() % 1000
	heavy := []string{"CN", "US", "RU", "IN", "BR", "VN", "DE", "NL", "KR", "ID", "FR", "GB", "SG", "HK", "TW", "UA", "IR", "TR", "JP", "AR"}
	switch {
	case v < 30:
		return ""
	case v < 730:
		return heavy[v%uint32(len(heavy))]
	}
	codes := models.CountryCodes()
	return codes[int(v)%len(codes)]
}

// benchGeoArchive returns an archive of the generated fail2ban bans with
// every event's country filled in, building it on first use and logging how
// long the country fill (IPsWithoutCountry + SetCountries) took.
func benchGeoArchive(b *testing.B, rows int) *sqliteArchive {
	b.Helper()
	ctx := context.Background()
	dir := filepath.Join(benchDir(b), fmt.Sprintf("archive-geo-%d-%s", rows, benchGenVersion))
	_, statErr := os.Stat(filepath.Join(dir, "complete"))
	if statErr != nil {
		os.RemoveAll(dir)
	}
	db, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := newSQLiteArchive(db)
	s.now = func() time.Time { return fixedNow }
	s.cache.disabled = true // measure the statements, not the result cache
	if statErr == nil {
		return s
	}
	start := time.Now()
	batch := make([]models.ArchivedBan, 0, 5000)
	flush := func() {
		if _, err := s.Archive(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for r := range f2bgen.Rows(f2bgen.Options{Rows: rows, End: fixedNow, Seed: 1}) {
		batch = append(batch, models.ArchivedBan{Jail: r.Jail, IP: r.IP, TimeOfBan: r.TimeOfBan, BanTime: r.BanTime, BanCount: r.BanCount, Data: r.Data})
		if len(batch) == cap(batch) {
			flush()
		}
	}
	flush()
	b.Logf("archived %d rows in %s", rows, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	filled := int64(0)
	for {
		ips, err := s.IPsWithoutCountry(ctx, 2000)
		if err != nil {
			b.Fatal(err)
		}
		if len(ips) == 0 {
			break
		}
		m := make(map[string]string, len(ips))
		for _, ip := range ips {
			m[ip] = benchCountry(ip)
		}
		n, err := s.SetCountries(ctx, m)
		if err != nil {
			b.Fatal(err)
		}
		filled += n
	}
	b.Logf("filled the country of %d events in %s", filled, time.Since(start).Round(time.Millisecond))
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkArchiveCountries measures the world map's queries: ban counts
// per country in each window (budget: under 500 ms at 1,000,000 bans) and
// the first page of one country's bans.
func BenchmarkArchiveCountries(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			skipUnlessSize(b, size.rows)
			s := benchGeoArchive(b, size.rows)
			for _, w := range []struct {
				name string
				d    time.Duration
			}{{"24h", day}, {"30d", 30 * day}, {"365d", 365 * day}} {
				f := models.HistoryFilter{Since: fixedNow.Add(-w.d), Action: ActionBan}
				b.Run("counts-"+w.name, func(b *testing.B) {
					var n int64
					for b.Loop() {
						counts, err := s.CountsByCountry(ctx, f)
						if err != nil {
							b.Fatal(err)
						}
						n = 0
						for _, c := range counts {
							n += c.Count
						}
					}
					b.ReportMetric(float64(n), "bans")
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
				})
				b.Run("country-page-"+w.name, func(b *testing.B) {
					for b.Loop() {
						if _, _, err := s.BansOfCountry(ctx, f, "DE", models.Page{Number: 1, Size: 25}); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
				})
			}
			b.Run("counts-365d-blocklist", func(b *testing.B) {
				f := models.HistoryFilter{Since: fixedNow.Add(-365 * day), Action: ActionBan, Origin: models.OriginBlocklist}
				for b.Loop() {
					if _, err := s.CountsByCountry(ctx, f); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
			})
		})
	}
}
