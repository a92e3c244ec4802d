package handlers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"bangui/hosts"
	"bangui/models"
	"bangui/repo"
	"bangui/repo/f2bgen"
)

// fleetBenchHosts and fleetBenchBans are the fleet: 20 hosts with
// 5,000 bans each, all in the last 24 hours.
const (
	fleetBenchHosts = 20
	fleetBenchBans  = 5000
)

// BenchmarkFleetDashboard renders the combined dashboard (24 hours, every
// host) and one host's dashboard of a panel with 20 registered hosts whose
// archive holds 5,000 bans of each in the last 24 hours, and reports the
// median request time: "cached" as the pages run between two archive
// syncs (the counts come from the result cache), "uncached" with the
// archive's change counter bumped before each request (every count runs
// again). It logs the sqlite3 CLI's time for the same aggregates written
// plainly (the floor) beside them. The hosts other than local point at
// sockets nobody listens on: the archive-backed dashboard never asks a
// host, so whether they answer changes nothing but the status bar's text.
func BenchmarkFleetDashboard(b *testing.B) {
	a, br, _ := loggedInWithFail2banTB(b)
	ctx := context.Background()
	for i := 1; i < fleetBenchHosts; i++ {
		dir := b.TempDir()
		h := namedHost{Host: hosts.NewLocal(hosts.LocalOptions{Socket: filepath.Join(dir, "f2b.sock"), ConfigDir: dir}), id: fmt.Sprintf("web%02d", i)}
		if err := a.s.hosts.Add(h); err != nil {
			b.Fatal(err)
		}
	}
	archive := repo.NewHistoryArchive(a.db)
	end := time.Now()
	var total int64
	for i, h := range a.s.hosts.All() {
		batch := make([]models.ArchivedBan, 0, fleetBenchBans)
		for r := range f2bgen.Rows(f2bgen.Options{Rows: fleetBenchBans, Span: 23 * time.Hour, End: end, Seed: uint64(i + 1)}) {
			batch = append(batch, models.ArchivedBan{Host: h.ID(), Jail: r.Jail, IP: r.IP, TimeOfBan: r.TimeOfBan, BanTime: r.BanTime,
				BanCount: r.BanCount, Data: r.Data, CountryCode: mapBenchCountry(r.IP)})
		}
		n, err := archive.Archive(ctx, batch)
		if err != nil {
			b.Fatalf("archive %s: %v", h.ID(), err)
		}
		total += n // a generated ban may repeat another: the archive keeps one
	}
	if _, err := a.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	a.s.status.Refresh(ctx)
	doc := parse(b, br.get("/"))
	if got := doc.Find("#trend desc").Text(); !strings.HasPrefix(got, fmt.Sprintf("%d bans", total)) || total < fleetBenchHosts*fleetBenchBans*99/100 {
		b.Fatalf("combined trend = %q", got)
	}
	bump := func() {
		if _, err := a.db.ExecContext(ctx, "UPDATE history_archive_version SET n = n + 1"); err != nil {
			b.Fatal(err)
		}
	}
	floor := fleetFloor(b, filepath.Join(a.dataDir, repo.DBFileName), end.Add(-24*time.Hour).Unix())
	b.Logf("sqlite3 floor of the dashboard's aggregates (total, 24 buckets, per jail, per country, page of 100): every host %.1f ms, one host %.1f ms",
		floor[0], floor[1])
	for _, c := range []struct {
		name, path string
		hdr        map[string]string
	}{
		{"combined-24h", "/?range=24h", nil},
		{"combined-table-fragment", "/?range=24h&page=2", map[string]string{"HX-Request": "true"}},
		{"one-host-24h", "/?range=24h&host=web07", nil},
	} {
		b.Run(c.name+"-cached", func(b *testing.B) { benchGET(b, br, c.path, c.hdr) })
		b.Run(c.name+"-uncached", func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				b.StopTimer()
				bump()
				b.StartTimer()
				start := time.Now()
				rec := br.do("GET", c.path, nil, c.hdr)
				times = append(times, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: status %d", c.path, rec.Code)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/median")
		})
	}
}

// fleetFloor times, with the sqlite3 CLI on the panel's database, the
// dashboard's aggregates over the window since since, each written by hand
// on the covering index that suits it best — for every host, then for the
// host web07 — and returns the mean milliseconds of each set (0 without a
// sqlite3 binary). It logs each statement's time.
func fleetFloor(b *testing.B, path string, since int64) [2]float64 {
	b.Helper()
	bin, err := exec.LookPath("sqlite3")
	if err != nil {
		return [2]float64{}
	}
	const reps = 5
	var out [2]float64
	for i, host := range []string{"", "web07"} {
		idx := func(every string) string {
			if host != "" {
				return "history_archive INDEXED BY history_archive_host_ban"
			}
			return "history_archive INDEXED BY " + every
		}
		w := fmt.Sprintf("WHERE action = 'ban' AND timeofban >= %d", since)
		if host != "" {
			w += " AND host = '" + host + "'"
		}
		stmts := []string{
			"SELECT count(*) FROM " + idx("history_archive_ban_time") + " " + w,
			fmt.Sprintf("SELECT (timeofban - %d) / 3600 AS k, count(*) FROM %s %s GROUP BY k", since, idx("history_archive_ban_time"), w),
			"SELECT jail, count(*) AS n FROM " + idx("history_archive_time_cover") + " " + w + " GROUP BY jail ORDER BY n DESC",
			"SELECT country_code, count(*) AS n FROM " + idx("history_archive_time_country") + " " + w + " GROUP BY country_code ORDER BY n DESC",
			"SELECT jail, ip, timeofban, bantime, bancount, data, origin, country_code, failures, action, host FROM history_archive WHERE id IN (" +
				"SELECT id FROM " + idx("history_archive_ban_time") + " " + w + " ORDER BY timeofban DESC, id DESC LIMIT 100) ORDER BY timeofban DESC, id DESC",
		}
		var script bytes.Buffer
		script.WriteString(".timer on\n.output /dev/null\n")
		for range reps {
			for _, s := range stmts {
				script.WriteString(s + ";\n")
			}
		}
		cmd := exec.Command(bin, "-readonly", "-batch", path)
		cmd.Stdin = &script
		res, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("sqlite3: %v\n%s", err, res)
		}
		per := make([]float64, len(stmts))
		n := 0
		sc := bufio.NewScanner(bytes.NewReader(res))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) >= 4 && f[0] == "Run" && f[1] == "Time:" && f[2] == "real" {
				v, _ := strconv.ParseFloat(f[3], 64)
				per[n%len(stmts)] += v * 1000 / reps
				out[i] += v * 1000 / reps
				n++
			} else if strings.Contains(sc.Text(), "rror") {
				b.Fatalf("sqlite3: %s", sc.Text())
			}
		}
		if n != reps*len(stmts) {
			b.Fatalf("sqlite3 timed %d statements, want %d:\n%s", n, reps*len(stmts), res)
		}
		b.Logf("floor (host %q) per statement, ms: total %.1f, buckets %.1f, per jail %.1f, per country %.1f, page %.1f",
			host, per[0], per[1], per[2], per[3], per[4])
	}
	return out
}
