package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"bangui/fail2ban"
	"bangui/repo"
)

// runFleet is the fleet mode (-fleet N): N fail2ban sandboxes with
// -fleet-bans bans each in the last 23 hours, an agent on each, the panel
// on its own (empty) sandbox, set up and enrolling every agent through the
// Hosts page, then the figures measured with -runs sequential
// requests each, beside their floors.
func runFleet(ctx context.Context, o options) error {
	f := &fleet{dir: filepath.Join(o.dir, "fleet")}
	if err := os.RemoveAll(f.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	defer f.stop()
	setupCtx, cancel := context.WithTimeout(ctx, o.setupMax)
	defer cancel()
	mmdb, err := writeCountryDB(o.dir)
	if err != nil {
		return err
	}
	start := time.Now()
	log.Printf("generating %d fail2ban databases of %d bans and starting %d fail2ban servers in %s", o.fleet, o.fleetBans, o.fleet+1, f.dir)
	if err := f.startSandboxes(setupCtx, o.fleet, o.fleetBans); err != nil {
		return err
	}
	log.Printf("fail2ban servers up after %s; starting %d agents", time.Since(start).Round(time.Second), o.fleet)
	if err := f.startAgents(setupCtx, o.bin); err != nil {
		return err
	}
	addr, err := freeAddr(o.listen)
	if err != nil {
		return err
	}
	base := "http://" + addr
	if err := checkLoopbackURL(base); err != nil {
		return err
	}
	if err := f.startPanel(o.bin, addr, mmdb); err != nil {
		return err
	}
	if err := f.panel.waitHealthy(setupCtx); err != nil {
		return err
	}
	if err := completeSetup(setupCtx, base, filepath.Join(f.dir, "panel"), f.local); err != nil {
		return err
	}
	c := newClient(4)
	if err := login(setupCtx, c, base); err != nil {
		return err
	}
	enrolStart := time.Now()
	for _, h := range f.hosts {
		if err := enroll(setupCtx, c, base, h); err != nil {
			return fmt.Errorf("enrol %s: %w", h.id, err)
		}
	}
	enrolTook := time.Since(enrolStart)
	log.Printf("enrolled %d agents through the Hosts page in %s; waiting for the archive sync (every %s)", len(f.hosts), enrolTook.Round(time.Millisecond), fleetArchiveEvery)
	events, err := f.waitArchive(setupCtx)
	if err != nil {
		return err
	}
	m := &fleetMeasure{f: f, c: c, base: base, runs: o.runs}
	rep, err := m.run(ctx)
	if err != nil {
		return err
	}
	rep.notes = append([]string{
		fmt.Sprintf("%d agents (the built binary) on %d fail2ban sandboxes with %d bans each in the last 23 h, plus the panel's own (empty) fail2ban: %d hosts", o.fleet, o.fleet, o.fleetBans, o.fleet+1),
		fmt.Sprintf("archive: %d ban events; enrolment of %d hosts through the Hosts page: %s; %d sequential requests per figure", events, o.fleet, enrolTook.Round(time.Millisecond), o.runs),
	}, rep.notes...)
	var out strings.Builder
	rep.write(&out)
	fmt.Print("\n" + out.String())
	path := filepath.Join(o.dir, "fleet-report.txt")
	if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("report written to %s\n", path)
	if rep.failed > 0 {
		return fmt.Errorf("%d requests failed", rep.failed)
	}
	return nil
}

// fleetMeasure takes the figures of one fleet run.
type fleetMeasure struct {
	f    *fleet
	c    *http.Client
	base string
	runs int
	db   *sql.DB // the panel's database, to bump the archive's version
}

// figure is one measured series.
type figure struct {
	name   string
	times  []time.Duration
	target time.Duration // 0: none
	floor  string        // what the same work costs without the panel
}

// fleetReport is the outcome of the measurements.
type fleetReport struct {
	figures []figure
	notes   []string
	failed  int
}

func (m *fleetMeasure) run(ctx context.Context) (*fleetReport, error) {
	var err error
	m.db, err = sql.Open("sqlite", "file:"+filepath.Join(m.f.dir, "panel", repo.DBFileName)+"?_busy_timeout=10000")
	if err != nil {
		return nil, err
	}
	defer m.db.Close()
	rep := &fleetReport{}
	frag := map[string]string{"HX-Request": "true", "HX-Target": "dash-bans"}
	one := m.f.hosts[len(m.f.hosts)/2].id
	for path, name := range map[string]string{"/?range=24h": "dashboard.html", "/hosts": "hosts.html"} {
		if err := m.save(ctx, path, name); err != nil {
			return nil, err
		}
	}
	dashFloor, err := m.sqliteFloor(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range []struct {
		name, path string
		hdr        map[string]string
		bump       bool
		target     time.Duration
		floor      string
	}{
		{"combined dashboard 24 h, cached", "/?range=24h", nil, false, 150 * time.Millisecond, ""},
		{"combined dashboard 24 h, uncached", "/?range=24h", nil, true, 150 * time.Millisecond, dashFloor},
		{"dashboard table fragment, cached", "/?range=24h&page=2", frag, false, 0, ""},
		{"dashboard table fragment, uncached", "/?range=24h&page=2", frag, true, 0, ""},
		{"one host's dashboard 24 h, uncached", "/?range=24h&host=" + one, nil, true, 0, ""},
		{"Hosts page", "/hosts", nil, false, 100 * time.Millisecond, ""},
	} {
		log.Printf("timing %s (%d requests)", g.name, m.runs)
		fig := figure{name: g.name, target: g.target, floor: g.floor}
		for i := range m.runs + 2 { // two warm-up requests
			if g.bump {
				if _, err := m.db.ExecContext(ctx, `UPDATE history_archive_version SET n = n + 1`); err != nil {
					return nil, fmt.Errorf("bump the archive version: %w", err)
				}
			}
			d, err := m.get(ctx, g.path, g.hdr)
			if err != nil {
				rep.failed++
				log.Printf("GET %s: %v", g.path, err)
				continue
			}
			if i >= 2 {
				fig.times = append(fig.times, d)
			}
		}
		rep.figures = append(rep.figures, fig)
	}
	ban, err := m.fleetBan(ctx, rep)
	if err != nil {
		return nil, err
	}
	rep.figures = append(rep.figures, ban...)
	rep.notes = append(rep.notes, m.rss()...)
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.notes = append(rep.notes, "load average at the end (1, 5, 15 min): "+strings.Join(strings.Fields(string(b))[:3], " ")+" on "+strconv.Itoa(runtime.NumCPU())+" CPUs")
	}
	rep.notes = append(rep.notes, "panel log: "+m.f.panel.logPath+"; the pages measured: "+filepath.Join(m.f.dir, "{dashboard,hosts}.html"))
	return rep, nil
}

// get GETs path and returns its wall time; anything but 200 is an error.
func (m *fleetMeasure) get(ctx context.Context, path string, hdr map[string]string) (time.Duration, error) {
	return timedGet(ctx, m.c, m.base+path, hdr)
}

// fleetBan times the ban form with "every host": one new address per
// request, each followed (untimed) by the page it redirects to, whose
// result must list the ban as new on every host. Beside it: the same ban
// sent straight to each fail2ban socket with fail2ban-client (one process
// per host) and with BanGUI's socket client, one host after the other and
// all at once.
func (m *fleetMeasure) fleetBan(ctx context.Context, rep *fleetReport) ([]figure, error) {
	log.Printf("timing the ban of one address on every host (%d requests)", m.runs)
	fig := figure{name: "ban one address on every host", target: time.Second}
	hosts := len(m.f.hosts) + 1
	for i := range m.runs + 1 {
		tok, err := csrfOf(ctx, m.c, m.base, "/jails")
		if err != nil {
			return nil, err
		}
		ip := fmt.Sprintf("198.51.100.%d", i+1)
		form := url.Values{"_csrf": {tok}, "target": {ip}, "jail": {fleetJail}, "where": {"all"}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.base+"/jails/ban", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		start := time.Now()
		resp, err := m.c.Do(req)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != http.StatusSeeOther {
			rep.failed++
			log.Printf("POST /jails/ban %s: status %d", ip, resp.StatusCode)
			continue
		}
		body, err := m.body(ctx, resp.Header.Get("Location"))
		if err != nil {
			return nil, err
		}
		if n := strings.Count(body, "banned in "+fleetJail+" (1 new)"); n != hosts {
			rep.failed++
			log.Printf("ban of %s: the result lists %d new bans, want one on each of %d hosts", ip, n, hosts)
			continue
		}
		if i >= 1 {
			fig.times = append(fig.times, d)
		}
		if d > 300*time.Millisecond {
			rep.notes = append(rep.notes, fmt.Sprintf("slow ban of %s: %.0f ms, sent at %s (compare the panel log)", ip, ms(d), start.UTC().Format("15:04:05.000")))
		}
	}
	fig.floor = m.banFloor(ctx)
	return []figure{fig}, nil
}

// save writes the page at path into the run's directory, to look at
// what was measured.
func (m *fleetMeasure) save(ctx context.Context, path, name string) error {
	b, err := m.body(ctx, path)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(m.f.dir, name), []byte(b), 0o644)
}

// body GETs path and returns its text.
func (m *fleetMeasure) body(ctx context.Context, path string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.base+path, nil)
	resp, err := m.c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return string(b), err
}

// banFloor times banning one address in fleetJail on every fail2ban
// (the agents' twenty and the panel's own) directly on their sockets.
func (m *fleetMeasure) banFloor(ctx context.Context) string {
	socks := []string{m.f.local.SocketPath}
	for _, h := range m.f.hosts {
		socks = append(socks, h.sb.SocketPath)
	}
	const reps = 5
	n := 0
	next := func() string { n++; return fmt.Sprintf("198.51.101.%d", n) }
	cli := func(sock, ip string) error {
		out, err := exec.CommandContext(ctx, "fail2ban-client", "-s", sock, "set", fleetJail, "banip", ip).CombinedOutput()
		if err != nil {
			return fmt.Errorf("fail2ban-client: %v: %s", err, out)
		}
		return nil
	}
	clients := make([]*fail2ban.Client, len(socks))
	for i, s := range socks {
		clients[i] = fail2ban.NewClient(s, fail2ban.WithTimeout(10*time.Second))
	}
	goBan := func(i int, ip string) error {
		_, err := clients[i].Call(ctx, "set", fleetJail, "banip", ip)
		return err
	}
	seq := func(ban func(i int, ip string) error) (time.Duration, error) {
		var best []time.Duration
		for range reps {
			ip, start := next(), time.Now()
			for i := range socks {
				if err := ban(i, ip); err != nil {
					return 0, err
				}
			}
			best = append(best, time.Since(start))
		}
		return median(best), nil
	}
	par := func(ban func(i int, ip string) error) (time.Duration, error) {
		var best []time.Duration
		for range reps {
			ip, start := next(), time.Now()
			errs := make([]error, len(socks))
			var wg sync.WaitGroup
			for i := range socks {
				wg.Go(func() { errs[i] = ban(i, ip) })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return 0, err
				}
			}
			best = append(best, time.Since(start))
		}
		return median(best), nil
	}
	cliBan := func(i int, ip string) error { return cli(socks[i], ip) }
	var parts []string
	for _, c := range []struct {
		name string
		f    func(func(int, string) error) (time.Duration, error)
		ban  func(int, string) error
	}{
		{"fail2ban-client ×%d sequential", seq, cliBan},
		{"fail2ban-client ×%d parallel", par, cliBan},
		{"socket client ×%d sequential", seq, goBan},
		{"socket client ×%d parallel", par, goBan},
	} {
		d, err := c.f(c.ban)
		if err != nil {
			parts = append(parts, fmt.Sprintf(c.name+": %v", len(socks), err))
			continue
		}
		parts = append(parts, fmt.Sprintf(c.name+" %.0f ms", len(socks), ms(d)))
	}
	return strings.Join(parts, "; ")
}

// sqliteFloor times, with the sqlite3 CLI on the panel's database, the
// combined dashboard's aggregates over the last 24 hours (total, 24 hourly
// buckets, per jail, per country, first page of 100) written two ways:
// plainly, one GROUP BY each on the covering index that suits it, and as
// the panel's repo writes them for the ban events of every host (counts of
// index key ranges: per bucket, per origin and jail, per origin and
// country). It says what each set costs, as the median of several runs.
func (m *fleetMeasure) sqliteFloor(ctx context.Context) (string, error) {
	bin, err := exec.LookPath("sqlite3")
	if err != nil {
		return "no sqlite3 CLI (Debian package sqlite3)", nil
	}
	now := time.Now().Unix()
	since := now - 24*3600
	end, width := now+60, int64(3600) // as repo's bucketWindow
	start := end - 24*width
	w := fmt.Sprintf("WHERE action = 'ban' AND timeofban >= %d", since)
	page := "SELECT jail, ip, timeofban, bantime, bancount, data, origin, country_code, failures, action, host FROM history_archive WHERE id IN (" +
		"SELECT id FROM history_archive " + w + " ORDER BY timeofban DESC, id DESC LIMIT 100) ORDER BY timeofban DESC, id DESC"
	plain := []string{
		"SELECT count(*) FROM history_archive INDEXED BY history_archive_ban_time " + w,
		fmt.Sprintf("SELECT (timeofban - %d) / 3600 AS k, count(*) FROM history_archive INDEXED BY history_archive_ban_time %s GROUP BY k", since, w),
		"SELECT jail, count(*) AS n FROM history_archive INDEXED BY history_archive_time_cover " + w + " GROUP BY jail ORDER BY n DESC",
		"SELECT country_code, count(*) AS n FROM history_archive INDEXED BY history_archive_time_country " + w + " GROUP BY country_code ORDER BY n DESC",
		page,
	}
	origins := `o(name) AS (SELECT min(origin) FROM history_archive WHERE action = 'ban'
		UNION ALL SELECT (SELECT min(origin) FROM history_archive WHERE action = 'ban' AND origin > o.name) FROM o WHERE o.name IS NOT NULL)`
	window := fmt.Sprintf(" AND timeofban >= %d", since)
	keyed := []string{
		"SELECT count(*) FROM history_archive " + w,
		fmt.Sprintf(`WITH RECURSIVE k(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM k WHERE b + 1 < 24)
			SELECT k.b, (SELECT count(*) FROM history_archive WHERE action = 'ban' AND timeofban >= max(%d + k.b * %d, %d) AND timeofban < %d + (k.b + 1) * %d) FROM k`,
			start, width, since, start, width),
		`WITH RECURSIVE ` + origins + `,
			j(name) AS (SELECT min(jail) FROM history_archive UNION ALL SELECT (SELECT min(jail) FROM history_archive WHERE jail > j.name) FROM j WHERE j.name IS NOT NULL),
			c(jail, n) AS MATERIALIZED (SELECT j.name, (SELECT count(*) FROM history_archive WHERE action = 'ban' AND origin = o.name AND jail = j.name` + window + `)
				FROM o, j WHERE o.name IS NOT NULL AND j.name IS NOT NULL)
			SELECT jail, sum(n) AS total FROM c GROUP BY jail HAVING total > 0 ORDER BY total DESC, jail`,
		`WITH RECURSIVE ` + origins + `,
			k(code) AS (SELECT min(country_code) FROM history_archive WHERE country_code >= '' UNION ALL
				SELECT (SELECT min(country_code) FROM history_archive WHERE country_code > k.code) FROM k WHERE k.code IS NOT NULL),
			c(code, n) AS MATERIALIZED (
				SELECT k.code, (SELECT count(*) FROM history_archive INDEXED BY history_archive_ban_origin_country
					WHERE action = 'ban' AND origin = o.name AND country_code = k.code` + window + `)
				FROM o, k WHERE o.name IS NOT NULL AND k.code IS NOT NULL
				UNION ALL
				SELECT '', (SELECT count(*) FROM history_archive INDEXED BY history_archive_ban_origin_country
					WHERE action = 'ban' AND origin = o.name AND country_code IS NULL` + window + `)
				FROM o WHERE o.name IS NOT NULL)
			SELECT code, sum(n) AS total FROM c GROUP BY code HAVING total > 0`,
		page,
	}
	path := filepath.Join(m.f.dir, "panel", repo.DBFileName)
	p, err := timeStatements(ctx, bin, path, plain)
	if err != nil {
		return "", err
	}
	k, err := timeStatements(ctx, bin, path, keyed)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("sqlite3 CLI, the same 5 aggregates as plain GROUP BYs %.1f ms, as the panel's key-range counts %.1f ms", ms(p), ms(k)), nil
}

// timeStatements runs stmts in the sqlite3 CLI (bin) on the database at
// path several times and returns the median time of one set.
func timeStatements(ctx context.Context, bin, path string, stmts []string) (time.Duration, error) {
	const reps = 9
	var script bytes.Buffer
	script.WriteString(".timer on\n.output /dev/null\n")
	for range reps {
		for _, s := range stmts {
			script.WriteString(strings.Join(strings.Fields(s), " ") + ";\n")
		}
	}
	cmd := exec.CommandContext(ctx, bin, "-readonly", "-batch", path)
	cmd.Stdin = &script
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("sqlite3: %v\n%s", err, out)
	}
	var sets []time.Duration
	var cur time.Duration
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[0] == "Run" && f[1] == "Time:" && f[2] == "real" {
			v, _ := strconv.ParseFloat(f[3], 64)
			cur += time.Duration(v * float64(time.Second))
			if n++; n%len(stmts) == 0 {
				sets = append(sets, cur)
				cur = 0
			}
		} else if strings.Contains(line, "rror") {
			return 0, fmt.Errorf("sqlite3: %s", line)
		}
	}
	if len(sets) != reps {
		return 0, fmt.Errorf("sqlite3 timed %d statements, want %d:\n%s", n, reps*len(stmts), out)
	}
	return median(sets), nil
}

// rss reads the resident memory of the panel and of the first agent.
func (m *fleetMeasure) rss() []string {
	mib := func(pid int) string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return "unknown"
		}
		var rss, hwm int64
		for _, line := range strings.Split(string(b), "\n") {
			for key, dst := range map[string]*int64{"VmRSS:": &rss, "VmHWM:": &hwm} {
				if rest, ok := strings.CutPrefix(line, key); ok {
					*dst, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				}
			}
		}
		return fmt.Sprintf("%.1f MiB now, peak %.1f MiB", float64(rss)/1024, float64(hwm)/1024)
	}
	h := m.f.hosts[0]
	return []string{
		"panel RSS: " + mib(m.f.panel.pid()),
		"agent " + h.id + " RSS: " + mib(h.agent.pid()) + " (it served its archive backfill and every ban)",
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return percentile(s, 50)
}

// write prints the figures as a table, then the floors and notes.
func (r *fleetReport) write(w io.Writer) {
	fmt.Fprintln(w, "BanGUI fleet load test")
	for _, n := range r.notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	fmt.Fprintf(w, "\n%-38s %5s %9s %9s %9s %9s  %s\n", "figure", "n", "p50 ms", "p95 ms", "max ms", "target", "")
	for _, f := range r.figures {
		s := slices.Clone(f.times)
		slices.Sort(s)
		target, verdict := "-", ""
		if f.target > 0 {
			target = fmt.Sprintf("< %.0f", ms(f.target))
			verdict = "met"
			if percentile(s, 50) >= f.target || len(s) == 0 {
				verdict = "MISSED"
			}
		}
		fmt.Fprintf(w, "%-38s %5d %9.1f %9.1f %9.1f %9s  %s\n", f.name, len(s), ms(percentile(s, 50)), ms(percentile(s, 95)), ms(percentile(s, 100)), target, verdict)
	}
	fmt.Fprintln(w, "\nfloors (the same work without the panel, medians):")
	for _, f := range r.figures {
		if f.floor != "" {
			fmt.Fprintf(w, "  %s: %s\n", f.name, f.floor)
		}
	}
	fmt.Fprintf(w, "errors: %d\n", r.failed)
}
