package repo

// Benchmarks of the fail2ban reader and the archive on generated databases
// of 100,000 and 1,000,000 bans (the 1M sizes run only with
// BANGUI_BENCH_1M=1). The databases are generated once and kept under
// $BANGUI_BENCH_DIR (default: <tmp>/bangui-bench), so later runs start at
// once; delete the directory to regenerate. The fail2ban benchmarks also run
// the same statements, with the same parameters, through the sqlite3 CLI
// (Debian's C build) on the same file and report its time as cli-ms/op and
// the ratio as x-cli — the floor an SQLite client could reach.
//
//	go test ./repo -run '^$' -bench . -benchtime 20x
//	BANGUI_BENCH_1M=1 go test ./repo -run '^$' -bench . -benchtime 10x -timeout 60m

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"bangui/models"
	"bangui/repo/f2bgen"
)

// benchGenVersion names the generator output; bump it when f2bgen changes.
const benchGenVersion = "g1"

var benchSizes = []struct {
	name string
	rows int
}{{"100k", 100_000}, {"1M", 1_000_000}}

func benchDir(b *testing.B) string {
	dir := os.Getenv("BANGUI_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "bangui-bench")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	return dir
}

func skipUnlessSize(b *testing.B, rows int) {
	if rows > 100_000 && os.Getenv("BANGUI_BENCH_1M") != "1" {
		b.Skip("set BANGUI_BENCH_1M=1 for the 1,000,000-row benchmarks")
	}
}

// benchF2B returns the path of a generated fail2ban database with rows bans
// ending at fixedNow, generating it on first use.
func benchF2B(b *testing.B, rows int) string {
	b.Helper()
	path := filepath.Join(benchDir(b), fmt.Sprintf("f2b-%d-%s.sqlite3", rows, benchGenVersion))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	start := time.Now()
	if err := f2bgen.Generate(context.Background(), path, f2bgen.Options{Rows: rows, End: fixedNow, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %s in %s", path, time.Since(start).Round(time.Millisecond))
	return path
}

// benchArchive returns an archive holding every row of the fail2ban
// database with rows bans, syncing it on first use.
func benchArchive(b *testing.B, rows int) *sqliteArchive {
	b.Helper()
	ctx := context.Background()
	dir := filepath.Join(benchDir(b), fmt.Sprintf("archive-%d-%s", rows, benchGenVersion))
	_, statErr := os.Stat(filepath.Join(dir, "complete"))
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
	r := openTestReader(b, benchF2B(b, rows), defaultReaderConfig())
	start := time.Now()
	n, err := SyncArchive(ctx, models.LocalHost, r, s, NewSettingsStore(db))
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("synced %d rows into %s in %s", n, dir, time.Since(start).Round(time.Millisecond))
	if err := os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return s
}

// ---------------------------------------------------------------------------
// The sqlite3 CLI floor

type benchStmt struct {
	q    string
	args []any
}

// captured runs call once with tracing on and returns the statements it ran.
func captured(b *testing.B, r *Fail2BanDBReader, call func() error) []benchStmt {
	b.Helper()
	var out []benchStmt
	r.trace = func(q string, args []any) { out = append(out, benchStmt{q, slices.Clone(args)}) }
	defer func() { r.trace = nil }()
	if err := call(); err != nil {
		b.Fatal(err)
	}
	return out
}

// cliValue renders v for the CLI's ".parameter set": an SQL literal, and
// for text one wrapped in double quotes, because the shell strips one level
// of quotes and would bind '1' as the integer 1.
func cliValue(v any) string {
	switch x := v.(type) {
	case string:
		if strings.ContainsAny(x, `"\`) {
			panic(fmt.Sprintf("cliValue: %q cannot pass through the shell", x))
		}
		return `"'` + strings.ReplaceAll(x, "'", "''") + `'"`
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	default:
		panic(fmt.Sprintf("cliValue: %T", v))
	}
}

// numbered turns each anonymous ? into ?1, ?2, … (the statements hold no
// literal question marks).
func numbered(q string) string {
	var sb strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			sb.WriteString("?" + strconv.Itoa(n))
			continue
		}
		sb.WriteRune(c)
	}
	return sb.String()
}

// cliMillis runs stmts reps times through the sqlite3 CLI, parameters bound
// with .parameter, output discarded, and returns the mean milliseconds per
// run of all statements. ok is false when there is no sqlite3 binary.
func cliMillis(b *testing.B, path string, stmts []benchStmt, reps int) (float64, bool) {
	b.Helper()
	bin, err := exec.LookPath("sqlite3")
	if err != nil {
		return 0, false
	}
	var script bytes.Buffer
	script.WriteString(".timer on\n.output /dev/null\n")
	for range reps {
		for _, s := range stmts {
			script.WriteString(".parameter clear\n")
			for i, a := range s.args {
				fmt.Fprintf(&script, ".parameter set ?%d %s\n", i+1, cliValue(a))
			}
			script.WriteString(strings.Join(strings.Fields(numbered(s.q)), " ") + ";\n")
		}
	}
	cmd := exec.Command(bin, "-readonly", "-batch", path)
	cmd.Stdin = &script
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("sqlite3: %v\n%s", err, out)
	}
	var total float64
	var n int
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 4 && f[0] == "Run" && f[1] == "Time:" && f[2] == "real" {
			v, err := strconv.ParseFloat(f[3], 64)
			if err != nil {
				b.Fatalf("sqlite3 timer line %q", sc.Text())
			}
			total += v * 1000
			n++
		} else if strings.Contains(sc.Text(), "rror") {
			b.Fatalf("sqlite3: %s", sc.Text())
		}
	}
	if n != reps*len(stmts) {
		b.Fatalf("sqlite3 timed %d statements, want %d:\n%s", n, reps*len(stmts), out)
	}
	return total / float64(reps), true
}

// runReaderBench measures call against the reader and, with the CLI, the
// same statements on the same file; cliCache keeps the CLI time between the
// benchmark framework's repeated calls with growing b.N.
func runReaderBench(b *testing.B, r *Fail2BanDBReader, cliCache map[string]float64, call func() error) {
	stmts := captured(b, r, call)
	b.ResetTimer()
	for b.Loop() {
		if err := call(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	goMs := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
	cli, ok := cliCache[b.Name()]
	if !ok {
		var found bool
		if cli, found = cliMillis(b, r.path, stmts, 5); !found {
			return
		}
		cliCache[b.Name()] = cli
	}
	b.ReportMetric(goMs, "ms/op")
	b.ReportMetric(cli, "cli-ms/op")
	if cli > 0 {
		b.ReportMetric(goMs/cli, "x-cli")
	}
}

// benchInfo describes the benchmark database.
type benchInfo struct {
	total int64  // rows
	topIP string // the most banned IP
}

// readerCase is one fail2ban reader call to measure.
type readerCase struct {
	name string
	call func(ctx context.Context, r *Fail2BanDBReader, db benchInfo) error
}

func benchReader(b *testing.B, cases []readerCase) {
	ctx := context.Background()
	cli := map[string]float64{}
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			skipUnlessSize(b, size.rows)
			r := openTestReader(b, benchF2B(b, size.rows), defaultReaderConfig())
			r.cache.disabled = true // measure the statements, not the result cache
			info := benchInfoOf(b, r)
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					runReaderBench(b, r, cli, func() error { return c.call(ctx, r, info) })
				})
			}
		})
	}
}

const day = 24 * time.Hour

func benchInfoOf(b *testing.B, src BanSource) benchInfo {
	ctx := context.Background()
	sum, err := src.Summary(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ips, err := src.CountsByIP(ctx, models.HistoryFilter{})
	if err != nil || len(ips) == 0 {
		b.Fatalf("no IPs: %v", err)
	}
	return benchInfo{total: sum.Rows, topIP: ips[0].IP}
}

func page(ctx context.Context, src BanSource, f models.HistoryFilter, p models.Page) error {
	_, _, err := src.Bans(ctx, f, p)
	return err
}

// BenchmarkF2BBansPage is the bans table: page 1, a page in the middle and
// the last page of all bans, 50 per page.
func BenchmarkF2BBansPage(b *testing.B) {
	benchReader(b, []readerCase{
		{"first", func(ctx context.Context, r *Fail2BanDBReader, db benchInfo) error {
			return page(ctx, r, models.HistoryFilter{}, models.Page{Number: 1, Size: 50})
		}},
		{"middle", func(ctx context.Context, r *Fail2BanDBReader, db benchInfo) error {
			return page(ctx, r, models.HistoryFilter{}, models.Page{Number: int(db.total/50/2) + 1, Size: 50})
		}},
		{"last", func(ctx context.Context, r *Fail2BanDBReader, db benchInfo) error {
			return page(ctx, r, models.HistoryFilter{}, models.Page{Number: int((db.total + 49) / 50), Size: 50})
		}},
	})
}

// BenchmarkF2BHistoryPage is the history page with filters, 50 per page.
func BenchmarkF2BHistoryPage(b *testing.B) {
	f := func(name string, flt models.HistoryFilter, n int) readerCase {
		return readerCase{name, func(ctx context.Context, r *Fail2BanDBReader, db benchInfo) error {
			return page(ctx, r, flt, models.Page{Number: n, Size: 50})
		}}
	}
	now := fixedNow
	benchReader(b, []readerCase{
		f("24h", models.HistoryFilter{Since: now.Add(-day)}, 1),
		f("365d", models.HistoryFilter{Since: now.Add(-365 * day)}, 1), // the dashboard's table
		f("30d-sshd", models.HistoryFilter{Since: now.Add(-30 * day), Jail: "sshd"}, 1),
		f("365d-selfblock", models.HistoryFilter{Since: now.Add(-365 * day), Origin: models.OriginSelfblock}, 1),
		f("365d-selfblock-p200", models.HistoryFilter{Since: now.Add(-365 * day), Origin: models.OriginSelfblock}, 200),
		f("blocklist-all", models.HistoryFilter{Origin: models.OriginBlocklist}, 1),
		f("prefix-1-all", models.HistoryFilter{IPPrefix: "1"}, 1),
		f("prefix-1-all-p100", models.HistoryFilter{IPPrefix: "1"}, 100),
		f("prefix-1-7d", models.HistoryFilter{IPPrefix: "1", Since: now.Add(-7 * day)}, 1),
		f("prefix-1.2-365d", models.HistoryFilter{IPPrefix: "1.2", Since: now.Add(-365 * day)}, 1),
		f("prefix-45.1-30d", models.HistoryFilter{IPPrefix: "45.1", Since: now.Add(-30 * day)}, 1),
		f("prefix-none-365d", models.HistoryFilter{IPPrefix: "203.0.113.", Since: now.Add(-365 * day)}, 1),
	})
}

// trendCases are the dashboard's ranges with their bucket widths.
var trendCases = []struct {
	name   string
	bucket time.Duration
	n      int
}{{"24h", time.Hour, 24}, {"7d", 6 * time.Hour, 28}, {"30d", day, 30}, {"365d", 7 * day, 52}}

// BenchmarkF2BTrend is CountsByBucket for the dashboard ranges.
func BenchmarkF2BTrend(b *testing.B) {
	var cases []readerCase
	for _, tc := range trendCases {
		cases = append(cases, readerCase{tc.name, func(ctx context.Context, r *Fail2BanDBReader, _ benchInfo) error {
			_, err := r.CountsByBucket(ctx, models.HistoryFilter{}, tc.bucket, tc.n)
			return err
		}})
	}
	cases = append(cases, readerCase{"365d-blocklist", func(ctx context.Context, r *Fail2BanDBReader, _ benchInfo) error {
		_, err := r.CountsByBucket(ctx, models.HistoryFilter{Origin: models.OriginBlocklist}, 7*day, 52)
		return err
	}})
	benchReader(b, cases)
}

var rangeCases = []struct {
	name  string
	since time.Duration
}{{"24h", day}, {"7d", 7 * day}, {"30d", 30 * day}, {"365d", 365 * day}, {"all", 0}}

func sinceOf(d time.Duration) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return fixedNow.Add(-d)
}

// BenchmarkF2BCountsByJail is the per-jail chart.
func BenchmarkF2BCountsByJail(b *testing.B) {
	var cases []readerCase
	for _, tc := range rangeCases {
		cases = append(cases, readerCase{tc.name, func(ctx context.Context, r *Fail2BanDBReader, _ benchInfo) error {
			_, _, err := r.CountsByJail(ctx, models.HistoryFilter{Since: sinceOf(tc.since)})
			return err
		}})
	}
	benchReader(b, cases)
}

// BenchmarkF2BCountsByIP is the per-IP counts behind the map.
func BenchmarkF2BCountsByIP(b *testing.B) {
	var cases []readerCase
	for _, tc := range rangeCases {
		cases = append(cases, readerCase{tc.name, func(ctx context.Context, r *Fail2BanDBReader, _ benchInfo) error {
			_, err := r.CountsByIP(ctx, models.HistoryFilter{Since: sinceOf(tc.since)})
			return err
		}})
	}
	benchReader(b, cases)
}

// BenchmarkF2BHistoryOfIP is the per-IP page: the most banned IP and a rare one.
func BenchmarkF2BHistoryOfIP(b *testing.B) {
	benchReader(b, []readerCase{
		{"top", func(ctx context.Context, r *Fail2BanDBReader, db benchInfo) error {
			_, err := r.HistoryOfIP(ctx, db.topIP)
			return err
		}},
		{"rare", func(ctx context.Context, r *Fail2BanDBReader, _ benchInfo) error {
			_, err := r.HistoryOfIP(ctx, "203.0.113.77")
			return err
		}},
	})
}

// BenchmarkF2BSummary is the bans table summary.
func BenchmarkF2BSummary(b *testing.B) {
	benchReader(b, []readerCase{{"summary", func(ctx context.Context, r *Fail2BanDBReader, _ benchInfo) error {
		_, err := r.Summary(ctx)
		return err
	}}})
}

// BenchmarkArchiveSync copies 100,000 new fail2ban rows into an empty archive.
func BenchmarkArchiveSync(b *testing.B) {
	ctx := context.Background()
	r := openTestReader(b, benchF2B(b, 100_000), defaultReaderConfig())
	for b.Loop() {
		b.StopTimer()
		db, err := Open(ctx, Options{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		s := newSQLiteArchive(db)
		b.StartTimer()
		n, err := SyncArchive(ctx, models.LocalHost, r, s, NewSettingsStore(db))
		if err != nil || n < 99_000 {
			b.Fatalf("synced %d: %v", n, err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}

// BenchmarkArchiveQueries runs the same views on the archive.
func BenchmarkArchiveQueries(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			skipUnlessSize(b, size.rows)
			s := benchArchive(b, size.rows)
			info := benchInfoOf(b, s)
			cases := []struct {
				name string
				call func() error
			}{
				{"page-first", func() error { return page(ctx, s, models.HistoryFilter{}, models.Page{Number: 1, Size: 50}) }},
				{"page-middle", func() error {
					return page(ctx, s, models.HistoryFilter{}, models.Page{Number: int(info.total/50/2) + 1, Size: 50})
				}},
				{"page-30d-sshd", func() error {
					return page(ctx, s, models.HistoryFilter{Since: fixedNow.Add(-30 * day), Jail: "sshd"}, models.Page{Number: 1, Size: 50})
				}},
				{"page-365d-selfblock-ban", func() error {
					return page(ctx, s, models.HistoryFilter{Since: fixedNow.Add(-365 * day), Origin: models.OriginSelfblock, Action: "ban"}, models.Page{Number: 1, Size: 50})
				}},
				{"page-manual", func() error {
					return page(ctx, s, models.HistoryFilter{Origin: models.OriginManual}, models.Page{Number: 1, Size: 50})
				}},
				{"page-prefix-1", func() error {
					return page(ctx, s, models.HistoryFilter{IPPrefix: "1"}, models.Page{Number: 1, Size: 50})
				}},
				{"trend-24h", func() error {
					_, err := s.CountsByBucket(ctx, models.HistoryFilter{Action: "ban"}, time.Hour, 24)
					return err
				}},
				{"trend-365d", func() error {
					_, err := s.CountsByBucket(ctx, models.HistoryFilter{Action: "ban"}, 7*day, 52)
					return err
				}},
				{"jails-30d", func() error {
					_, _, err := s.CountsByJail(ctx, models.HistoryFilter{Since: fixedNow.Add(-30 * day)})
					return err
				}},
				{"jails-all", func() error {
					_, _, err := s.CountsByJail(ctx, models.HistoryFilter{})
					return err
				}},
				{"ips-30d", func() error {
					_, err := s.CountsByIP(ctx, models.HistoryFilter{Since: fixedNow.Add(-30 * day)})
					return err
				}},
				{"ips-365d", func() error {
					_, err := s.CountsByIP(ctx, models.HistoryFilter{Since: fixedNow.Add(-365 * day)})
					return err
				}},
				{"history-of-ip", func() error {
					_, err := s.HistoryOfIP(ctx, info.topIP)
					return err
				}},
				{"summary", func() error {
					_, err := s.Summary(ctx)
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
				})
			}
		})
	}
}
