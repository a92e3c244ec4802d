// Command pg-archive-bench measures BanGUI's PostgreSQL archive at fleet
// size: it fills an archive with 10,000,000 ban events of 20 hosts (one
// INSERT … SELECT over generate_series, indexes built afterwards), then
// times the dashboard's ban table (24 h), the full combined dashboard
// (365 d) and the per-IP page through the app's own services, each beside
// the psql floor of the same SQL. scripts/pg-archive-bench.sh starts the
// private PostgreSQL it runs against; run that, not this.
//
// The SQL of each case is the app's own: one call runs with the server
// logging every statement with its parameters, and the statements read
// back from the server log are replayed by psql (with \timing) on the same
// database, without the result cache's version query. Before each timed
// app call the archive's change counter is raised, so that the app's result
// cache misses and every call runs its statements (as after any new ban).
// The per-IP page also asks a real fail2ban (a private sandbox) for the
// address's current bans, as it does in the panel.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uptrace/bun"

	"bangui/fail2ban/sandbox"
	"bangui/hosts"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
)

func main() {
	url := flag.String("database", "", "postgres:// URL of the bench database")
	serverLog := flag.String("server-log", "", "the PostgreSQL server's log file (statements are read back from it)")
	psqlConn := flag.String("psql", "", "psql connection string of the same database")
	rows := flag.Int("rows", 10_000_000, "ban events to generate")
	nHosts := flag.Int("hosts", 20, "hosts the events belong to")
	runs := flag.Int("runs", 9, "timed runs per case (the median is reported)")
	flag.Parse()
	if *url == "" || *serverLog == "" || *psqlConn == "" {
		fmt.Fprintln(os.Stderr, "usage: pg-archive-bench -database postgres://… -server-log FILE -psql CONNSTRING (see scripts/pg-archive-bench.sh)")
		os.Exit(2)
	}
	// Ctrl-C cancels the work, and the deferred clean-up (the fail2ban
	// sandbox) still runs.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *url, *serverLog, *psqlConn, *rows, *nHosts, *runs)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pg-archive-bench:", err)
		os.Exit(1)
	}
}

// benchCase is one page the bench times.
type benchCase struct {
	name   string
	target time.Duration
	call   func(ctx context.Context) error
}

func run(ctx context.Context, url, serverLog, psqlConn string, rows, nHosts, runs int) error {
	db, err := repo.Open(ctx, repo.Options{DataDir: os.TempDir(), URL: url})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := fill(ctx, db, rows, nHosts); err != nil {
		return err
	}
	var heavy, typical string
	if err := db.QueryRowContext(ctx, `SELECT ip FROM history_archive WHERE timeofban > extract(epoch FROM now())::bigint - 86400 GROUP BY ip ORDER BY count(*) DESC LIMIT 1`).Scan(&heavy); err != nil {
		return fmt.Errorf("pick an address: %w", err)
	}
	if err := db.DB.QueryRowContext(ctx, `SELECT ip FROM history_archive WHERE id = $1`, rows/2+7).Scan(&typical); err != nil {
		return fmt.Errorf("pick an address: %w", err)
	}
	var heavyN, typicalN int64
	db.DB.QueryRowContext(ctx, `SELECT count(*) FROM history_archive WHERE ip = $1`, heavy).Scan(&heavyN)
	db.DB.QueryRowContext(ctx, `SELECT count(*) FROM history_archive WHERE ip = $1`, typical).Scan(&typicalN)

	sbDir, err := os.MkdirTemp("", "pg-archive-bench-f2b")
	if err != nil {
		return err
	}
	defer os.RemoveAll(sbDir)
	sb, err := sandbox.Start(ctx, sandbox.Options{Dir: sbDir})
	if err != nil {
		return fmt.Errorf("fail2ban for the per-IP page's live part: %w (install the Debian package fail2ban)", err)
	}
	defer sb.Stop(context.Background())
	var regs []*hosts.Registry
	defer func() {
		for _, r := range regs {
			r.Close()
		}
	}()
	cases := func(db *bun.DB) []benchCase {
		reg := hosts.NewRegistry(hosts.NewLocal(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir}))
		regs = append(regs, reg)
		h := history(db, reg)
		page := models.Page{Number: 1, Size: 100}
		return []benchCase{
			{"dashboard table fragment, every host, 24 h", 50 * time.Millisecond, func(ctx context.Context) error {
				_, err := h.BansTable(ctx, services.DashboardQuery{Range: models.Range24h, Source: services.SourceArchive, Page: page})
				return err
			}},
			{"combined dashboard, every host, 365 d", 300 * time.Millisecond, func(ctx context.Context) error {
				_, err := h.Dashboard(ctx, services.DashboardQuery{Range: models.Range365d, Source: services.SourceArchive, Page: page})
				return err
			}},
			{fmt.Sprintf("per-IP page, busiest address (%d events)", heavyN), 30 * time.Millisecond, func(ctx context.Context) error {
				_, err := h.IP(ctx, models.LocalHost, heavy)
				return err
			}},
			{fmt.Sprintf("per-IP page, typical address (%d events)", typicalN), 30 * time.Millisecond, func(ctx context.Context) error {
				_, err := h.IP(ctx, models.LocalHost, typical)
				return err
			}},
		}
	}

	// The statements of each case, from the server log of one logged call.
	logged, err := repo.Open(ctx, repo.Options{DataDir: os.TempDir(), URL: withParam(url, "log_min_duration_statement", "0")})
	if err != nil {
		return err
	}
	stmts := map[string][]string{}
	for _, c := range cases(logged) {
		off, err := fileSize(serverLog)
		if err != nil {
			return err
		}
		bump(ctx, db)
		if err := c.call(ctx); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		s, err := statementsSince(serverLog, off)
		if err != nil {
			return err
		}
		stmts[c.name] = s
	}
	logged.Close()

	var total, n int64
	db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT host) FROM history_archive`).Scan(&total, &n)
	var size string
	db.QueryRowContext(ctx, `SELECT pg_size_pretty(pg_total_relation_size('history_archive'))`).Scan(&size)
	fmt.Printf("archive: %d events of %d hosts, %s with indexes; %d runs per case, medians\n\n", total, n, size, runs)
	fmt.Printf("%-52s %10s %10s %7s %8s  %s\n", "case", "app ms", "psql ms", "ratio", "target", "")
	for _, c := range cases(db) {
		app := make([]float64, 0, runs)
		for i := 0; i < runs+1; i++ {
			bump(ctx, db)
			start := time.Now()
			if err := c.call(ctx); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if i > 0 { // the first run warms the connection and the plan cache
				app = append(app, float64(time.Since(start).Microseconds())/1000)
			}
		}
		floor, err := psqlMillis(psqlConn, stmts[c.name], runs)
		if err != nil {
			return fmt.Errorf("%s: psql: %w", c.name, err)
		}
		m := median(app)
		verdict := "ok"
		if m > float64(c.target.Milliseconds()) {
			verdict = "MISSED"
		}
		fmt.Printf("%-52s %10.1f %10.1f %6.2fx %6dms  %s\n", c.name, m, floor, m/floor, c.target.Milliseconds(), verdict)
	}
	fmt.Println("\nstatements of each case (as replayed by psql):")
	for _, c := range cases(db) {
		fmt.Printf("\n# %s\n", c.name)
		for _, s := range stmts[c.name] {
			fmt.Println(oneLine(s) + ";")
		}
	}
	return nil
}

// history wires the dashboard and per-IP use case on db as the app does:
// the archive of db, and reg, whose local host is a real fail2ban (the
// per-IP page asks it for the address's current bans and reads its
// database for events not archived yet).
func history(db *bun.DB, reg *hosts.Registry) *services.History {
	archive := repo.NewHistoryArchive(db)
	sources := services.NewBanSources(reg, archive)
	jails := services.NewJails(reg, services.NewStatusProbe(reg), archive)
	return services.NewHistory(sources, jails)
}

// bump raises the archive's change counter: the app's result cache misses.
func bump(ctx context.Context, db *bun.DB) {
	if _, err := db.ExecContext(ctx, `UPDATE history_archive_version SET n = n + 1`); err != nil {
		slog.Error("bump the archive version", "err", err)
		os.Exit(1)
	}
}

// fill generates the archive unless it holds rows events already: event i
// (1…rows) is a ban i×3 s before now (unique times, so every event is its
// own), of host i mod nHosts, from a pool of 500,000 addresses of which a
// few hundred ban often, in six jails, with a country for 98 %.
func fill(ctx context.Context, db *bun.DB, rows, nHosts int) error {
	var have int64
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM history_archive`).Scan(&have); err != nil {
		return err
	}
	if have == int64(rows) {
		// The generated times are relative to the fill: move them so that
		// the newest event is a minute old again (the roll-ups follow by
		// their triggers).
		conn, err := db.DB.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		var age int64
		if err := conn.QueryRowContext(ctx, `SELECT extract(epoch FROM now())::bigint - max(timeofban) FROM history_archive`).Scan(&age); err != nil {
			return err
		}
		if age < 3600 {
			return nil
		}
		fmt.Fprintf(os.Stderr, "moving the events' times %s later …\n", time.Duration(age-60)*time.Second)
		if _, err := conn.ExecContext(ctx, `SET statement_timeout = 0`); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `UPDATE history_archive SET timeofban = timeofban + $1`, age-60); err != nil {
			return err
		}
		return vacuum(ctx, db)
	}
	if have != 0 {
		return fmt.Errorf("the bench database holds %d events, not %d: remove the bench directory to start over", have, rows)
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "generating %d events of %d hosts …\n", rows, nHosts)
	// Indexes are built after the rows: far faster than row by row.
	var defs []string
	r, err := db.QueryContext(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'history_archive'
		AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'history_archive'::regclass)`)
	if err != nil {
		return err
	}
	var names []string
	for r.Next() {
		var name, def string
		if err := r.Scan(&name, &def); err != nil {
			return err
		}
		names, defs = append(names, name), append(defs, def)
	}
	r.Close()
	// One transaction: a fill that fails leaves the empty archive as it was.
	steps := []string{`SET LOCAL statement_timeout = 0`, `SET LOCAL maintenance_work_mem = '1GB'`,
		`ALTER TABLE history_archive DROP CONSTRAINT history_archive_event`}
	for _, n := range names {
		steps = append(steps, `DROP INDEX `+n)
	}
	steps = append(steps, fmt.Sprintf(`INSERT INTO history_archive (jail, ip, timeofban, bantime, bancount, data, action, origin, country_code, failures, host)
	SELECT (ARRAY['sshd','nginx-http-auth','postfix','dovecot','recidive','nginx-botsearch'])[1 + (i * 7) %% 6],
	       ((a >> 24) & 255) || '.' || ((a >> 16) & 255) || '.' || ((a >> 8) & 255) || '.' || (a & 255),
	       extract(epoch FROM now())::bigint - 60 - i * 3,
	       600, 1 + i %% 5, '{}',
	       'ban',
	       CASE WHEN i %% 10 = 0 THEN 'blocklist' ELSE 'selfblock' END,
	       CASE WHEN i %% 50 = 3 THEN NULL ELSE (ARRAY['US','CN','RU','DE','FR','NL','BR','IN','VN','KR','GB','ID','UA','IR','TW','SG','JP','CA','PL','TR'])[1 + (a / 7) %% 20] END,
	       3 + i %% 10,
	       CASE WHEN i %% %d = 0 THEN 'local' ELSE 'host' || lpad((i %% %d)::text, 2, '0') END
	FROM (SELECT i, 16777216 + CASE WHEN i %% 40 = 0 THEN (i / 40) %% 300 ELSE (i * 2654435761) %% 500000 END AS a
	      FROM generate_series(1, %d) AS i) AS g`, nHosts, nHosts, rows))
	steps = append(steps, `ALTER TABLE history_archive ADD CONSTRAINT history_archive_event UNIQUE (ip, jail, action, timeofban, host)`)
	steps = append(steps, defs...)
	tx, err := db.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, s := range steps {
		t := time.Now()
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", oneLine(s)[:min(60, len(oneLine(s)))], err)
		}
		fmt.Fprintf(os.Stderr, "  %6.1fs  %.90s\n", time.Since(t).Seconds(), oneLine(s))
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if err := vacuum(ctx, db); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "generated in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// vacuum refreshes the statistics and the visibility map of the archive
// and its roll-ups (index-only scans need the latter).
func vacuum(ctx context.Context, db *bun.DB) error {
	conn, err := db.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, s := range []string{`SET statement_timeout = 0`, `VACUUM ANALYZE`} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// withParam adds a run-time parameter to a postgres:// URL (pgx passes
// unknown query parameters to the server).
func withParam(u, k, v string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + k + "=" + v
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

var (
	logEntry   = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[.\d]* \S+ \[\d+\] (\w+):\s+(.*)$`)
	execute    = regexp.MustCompile(`^duration: [\d.]+ ms\s+(?:execute [^:]*|statement): ([\s\S]*)$`)
	paramValue = regexp.MustCompile(`\$(\d+) = ('(?:[^']|'')*'|NULL)`)
)

// statementsSince reads the statements the server logged after offset,
// with their parameters written in, leaving out the result cache's
// version query and the bench's own statements.
func statementsSince(path string, offset int64) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, err
	}
	type entry struct{ level, text string }
	var entries []entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := logEntry.FindStringSubmatch(line); m != nil {
			entries = append(entries, entry{m[1], m[2]})
		} else if len(entries) > 0 {
			entries[len(entries)-1].text += "\n" + line
		}
	}
	var out []string
	for i, e := range entries {
		if e.level != "LOG" {
			continue
		}
		m := execute.FindStringSubmatch(e.text)
		if m == nil {
			continue
		}
		stmt := m[1]
		if i+1 < len(entries) && entries[i+1].level == "DETAIL" && strings.HasPrefix(entries[i+1].text, "parameters: ") {
			params := map[int]string{}
			for _, p := range paramValue.FindAllStringSubmatch(entries[i+1].text, -1) {
				n, _ := strconv.Atoi(p[1])
				params[n] = p[2]
			}
			keys := make([]int, 0, len(params))
			for k := range params {
				keys = append(keys, k)
			}
			sort.Sort(sort.Reverse(sort.IntSlice(keys))) // $10 before $1
			for _, k := range keys {
				stmt = strings.ReplaceAll(stmt, "$"+strconv.Itoa(k), params[k])
			}
		}
		if strings.Contains(stmt, "history_archive_version") || strings.HasPrefix(strings.TrimSpace(stmt), "SELECT ip FROM history_archive") {
			continue
		}
		out = append(out, stmt)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no statement in the server log %s (is log_min_duration_statement allowed for this user?)", path)
	}
	return out, nil
}

// psqlMillis runs stmts runs+1 times through psql with \timing and returns
// the median of the runs' summed times (the first run warms up).
func psqlMillis(conn string, stmts []string, runs int) (float64, error) {
	var script strings.Builder
	// The session settings of the app's own connections (repo/db_postgres.go).
	script.WriteString("\\o /dev/null\nSET jit = off;\nSET plan_cache_mode = force_custom_plan;\n\\timing on\n")
	for i := 0; i < runs+1; i++ {
		script.WriteString("\\echo RUN\n")
		for _, s := range stmts {
			script.WriteString(oneLine(s) + ";\n")
		}
	}
	cmd := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conn)
	cmd.Stdin = strings.NewReader(script.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%w: %.500s", err, out)
	}
	var sums []float64
	timing := regexp.MustCompile(`^Time: ([\d.]+) ms`)
	for _, line := range strings.Split(string(out), "\n") {
		if line == "RUN" {
			sums = append(sums, 0)
			continue
		}
		if m := timing.FindStringSubmatch(line); m != nil && len(sums) > 0 {
			v, _ := strconv.ParseFloat(m[1], 64)
			sums[len(sums)-1] += v
		}
	}
	if len(sums) < 2 {
		return 0, fmt.Errorf("no timings in psql's output: %.500s", out)
	}
	return median(sums[1:]), nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// oneLine folds a statement's white space, for psql's input and the report.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
