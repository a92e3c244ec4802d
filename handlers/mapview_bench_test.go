package handlers

import (
	"compress/gzip"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"bangui/models"
	"bangui/repo"
	"bangui/repo/f2bgen"
)

// mapBenchCountry spreads addresses over countries like attack traffic:
// twenty countries take most bans, every country some, 3% unknown.
func mapBenchCountry(ip string) *string {
	h := fnv.New32a()
	h.Write([]byte(ip))
	v := h.Sum32() % 1000
	heavy := []string{"CN", "US", "RU", "IN", "BR", "VN", "DE", "NL", "KR", "ID", "FR", "GB", "SG", "HK", "TW", "UA", "IR", "TR", "JP", "AR"}
	var c string
	switch {
	case v < 30:
		return nil
	case v < 730:
		c = heavy[v%uint32(len(heavy))]
	default:
		codes := models.CountryCodes()
		c = codes[int(v)%len(codes)]
	}
	return &c
}

// mapBenchDataDir returns a data dir whose archive holds rows generated
// bans (ending today) with their countries, copied from a template cached
// in $BANGUI_BENCH_DIR.
func mapBenchDataDir(b *testing.B, rows int) string {
	b.Helper()
	base := os.Getenv("BANGUI_BENCH_DIR")
	if base == "" {
		base = filepath.Join(os.TempDir(), "bangui-bench")
	}
	end := time.Now().Truncate(24 * time.Hour).Add(24 * time.Hour)
	tmpl := filepath.Join(base, fmt.Sprintf("handlers-map-%d-%s", rows, end.Format("20060102")))
	if _, err := os.Stat(filepath.Join(tmpl, "complete")); err != nil {
		os.RemoveAll(tmpl)
		ctx := context.Background()
		db, err := repo.Open(ctx, repo.Options{DataDir: tmpl})
		if err != nil {
			b.Fatal(err)
		}
		s := repo.NewHistoryArchive(db)
		batch := make([]models.ArchivedBan, 0, 5000)
		for r := range f2bgen.Rows(f2bgen.Options{Rows: rows, End: end, Seed: 7}) {
			batch = append(batch, models.ArchivedBan{Jail: r.Jail, IP: r.IP, TimeOfBan: r.TimeOfBan, BanTime: r.BanTime,
				BanCount: r.BanCount, Data: r.Data, CountryCode: mapBenchCountry(r.IP)})
			if len(batch) == cap(batch) {
				if _, err := s.Archive(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		if _, err := s.Archive(ctx, batch); err != nil {
			b.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			b.Fatal(err)
		}
		db.Close()
		if err := os.WriteFile(filepath.Join(tmpl, "complete"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	in, err := os.ReadFile(filepath.Join(tmpl, repo.DBFileName))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, repo.DBFileName), in, 0o600); err != nil {
		b.Fatal(err)
	}
	return dir
}

// gzipSize is how many bytes body takes gzipped at the server's level.
func gzipSize(b testing.TB, br *browser, path string) int {
	rec := br.do("GET", path, nil, map[string]string{"Accept-Encoding": "gzip"})
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" {
		b.Fatalf("%s: status %d, encoding %q", path, rec.Code, rec.Header().Get("Content-Encoding"))
	}
	n := rec.Body.Len()
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkMapPage renders the world map page as a logged-in browser asks
// for it, against an archive of 100,000 or 1,000,000 bans (the latter with
// BANGUI_BENCH_1M=1): the first render after start, then medians, and the
// page's gzipped size. Budgets: first render under 200 ms at 1,000,000
// bans, under 250 KB gzipped.
func BenchmarkMapPage(b *testing.B) {
	for _, size := range []struct {
		name string
		rows int
	}{{"100k", 100_000}, {"1M", 1_000_000}} {
		b.Run(size.name, func(b *testing.B) {
			skipUnless1M(b, size.rows)
			a := newTestApp(b, mapBenchDataDir(b, size.rows))
			br := a.browser()
			br.completeSetup()
			assertRedirect(b, br.login(goodPassword), "/")
			// First renders after start: the default window, then a year.
			var first [2]time.Duration
			for i, path := range []string{"/map", "/map?range=365d"} {
				start := time.Now()
				if rec := br.get(path); rec.Code != http.StatusOK {
					b.Fatalf("%s: status %d", path, rec.Code)
				}
				first[i] = time.Since(start)
			}
			// A benchmark with sub-benchmarks reports no metrics of its own: log these.
			b.Logf("%s: first render %.1f ms (24 hours), %.1f ms (365 days); gzipped %.1f KB (24 hours), %.1f KB (365 days)", size.name,
				float64(first[0].Microseconds())/1000, float64(first[1].Microseconds())/1000,
				float64(gzipSize(b, br, "/map"))/1024, float64(gzipSize(b, br, "/map?range=365d"))/1024)
			for _, c := range []struct {
				name, path string
				hdr        map[string]string
			}{
				{"page-24h", "/map", nil},
				{"page-365d", "/map?range=365d", nil},
				{"country-click-365d", "/map?range=365d&country=DE", map[string]string{"HX-Request": "true", "HX-Target": "map-view"}},
				{"table-page-365d", "/map?range=365d&country=CN&page=40", map[string]string{"HX-Request": "true", "HX-Target": "map-bans"}},
			} {
				b.Run(c.name, func(b *testing.B) { benchGET(b, br, c.path, c.hdr) })
			}
		})
	}
}
