package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/models"
	"bangui/repo"
	"bangui/repo/f2bgen"
	"bangui/services/setup"
)

// The SIGTERM test runs the real binary, as systemd would, against a real
// fail2ban sandbox: a generated fail2ban database to archive and a
// blocklist big enough that banning it takes several batches.
const (
	sigtermArchiveRows = 60_000 // rows of the generated fail2ban database
	sigtermListSize    = 1_500  // addresses of the blocklist (three batches of 500)
)

// panelProc is one run of the bangui binary.
type panelProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  string
}

// startPanel starts the binary with args and its output in logFile.
func startPanel(t *testing.T, bin, logFile string, args ...string) *panelProc {
	t.Helper()
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	p := &panelProc{cmd: exec.Command(bin, args...), done: make(chan struct{}), log: logFile}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// terminate sends SIGTERM and waits for a clean exit.
func (p *panelProc) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("bangui did not stop within 20 s of SIGTERM; killed\n%s", tail(p.log))
	}
	if p.err != nil {
		t.Fatalf("bangui exited uncleanly after SIGTERM: %v\n%s", p.err, tail(p.log))
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// poll calls cond every 20 ms until it holds, failing after limit with the
// end of the panel's log.
func poll(t *testing.T, limit time.Duration, what, logFile string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; the panel's log ends:\n%s", limit, what, tail(logFile))
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}

// count runs a one-number query on db, failing the test on error.
func count(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestSIGTERMDuringArchiveSyncAndImportLosesAndDuplicatesNothing builds the
// binary and stops it with SIGTERM twice: first while the archive sync
// copies a 60,000-row fail2ban database, then while an import bans a
// 1,500-address blocklist. Each time the next start finishes the work, and
// the archive holds every fail2ban row exactly once, every listed address
// is banned exactly once in fail2ban's database, and the import is logged
// once with every address accounted for.
func TestSIGTERMDuringArchiveSyncAndImportLosesAndDuplicatesNothing(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fail2ban sandbox runs on Linux")
	}
	if err := sandbox.Check(sandbox.Options{Dir: t.TempDir()}); err != nil {
		sandboxtest.Start(t) // skips (or fails under CI=true) with the reason
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bangui")
	built := make(chan error, 1)
	go func() {
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		cmd := exec.Command(goTool, "build", "-o", bin, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("go build: %v\n%s", err, out)
		}
		built <- err
	}()
	// Within the archive's retention (365 days), so the sync's purge keeps
	// every row.
	f2bDB := filepath.Join(tmp, "f2b-generated.sqlite3")
	if err := f2bgen.Generate(context.Background(), f2bDB, f2bgen.Options{Rows: sigtermArchiveRows, Span: 30 * 24 * time.Hour, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd"}, sandbox.Jail{Name: models.BlocklistJail, Manual: true, BanTime: "1d"})
	var list strings.Builder
	var listed []string
	for i := range sigtermListSize {
		ip := fmt.Sprintf("198.18.%d.%d", i/250, i%250+1)
		listed = append(listed, ip)
		list.WriteString(ip + "\n")
	}
	lists := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, list.String())
	}))
	defer lists.Close()
	if err := <-built; err != nil {
		t.Fatal(err)
	}

	dataDir := filepath.Join(tmp, "data")
	logFile := filepath.Join(tmp, "bangui.log")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"--listen", addr, "--data-dir", dataDir, "--socket", sb.SocketPath, "--config-dir", sb.ConfigDir,
		"--fail2ban-db", f2bDB, "--archive-interval", "1h", "--shutdown-grace", "3s", "--log-level", "debug"}
	base := "http://" + addr

	// The app database, read alongside the running panel (WAL allows it).
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	appDB := func() *sql.DB {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, repo.DBFileName)+"?mode=ro&_busy_timeout=5000")
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1) // one connection, so an ATTACH below stays in effect
		t.Cleanup(func() { db.Close() })
		return db
	}
	archived := func(db *sql.DB) int64 {
		var n int64
		if err := db.QueryRow(`SELECT count(*) FROM history_archive`).Scan(&n); err != nil {
			return -1 // not created yet
		}
		return n
	}

	// The archive's key is (ip, jail, action, timeofban): it holds each
	// distinct fail2ban ban once.
	f2b, err := sql.Open("sqlite", "file:"+f2bDB+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer f2b.Close()
	want := count(t, f2b, `SELECT count(*) FROM (SELECT DISTINCT ip, jail, timeofban FROM bans)`)

	// 1. SIGTERM while the archive sync runs (it starts with the process),
	// several times, each a little later after a batch was committed, so
	// the signal lands in different steps of a batch (reading fail2ban's
	// rows, writing them, saving the cursor).
	db := appDB()
	var p *panelProc
	var stops []int64
	for round := range 4 {
		p = startPanel(t, bin, logFile, args...)
		before := max(archived(db), 0) // -1 until the panel created its database
		poll(t, 20*time.Second, "the archive sync to be under way", logFile, func() bool { return archived(db) > before })
		time.Sleep(time.Duration(round) * 70 * time.Millisecond) // vary the moment of the signal, not a wait for an outcome
		p.terminate(t)
		stops = append(stops, archived(db))
	}
	t.Logf("SIGTERM after %v of %d rows were archived", stops, want)
	if stops[len(stops)-1] >= want {
		t.Logf("the sync finished before the last SIGTERM; the restart below checks only that nothing is duplicated")
	}
	p = startPanel(t, bin, logFile, args...)
	// The sync is done when its cursor reaches fail2ban's last row.
	lastRowID := count(t, f2b, `SELECT max(rowid) FROM bans`)
	poll(t, 30*time.Second, "the archive sync to finish after the restart", logFile, func() bool {
		var cursor int64
		if db.QueryRow(`SELECT CAST(value AS INTEGER) FROM settings WHERE key = ?`, repo.SettingArchiveLastRowID).Scan(&cursor) == nil && cursor == lastRowID {
			return true
		}
		select {
		case <-p.done:
			t.Fatalf("bangui exited: %v\n%s", p.err, tail(p.log))
		default:
		}
		return false
	})
	waitReady(t, p, base)
	if got := count(t, db, `SELECT count(*) FROM history_archive`); got != want {
		t.Errorf("archive holds %d rows, fail2ban's database %d distinct bans", got, want)
	}
	if dup := count(t, db, `SELECT count(*) FROM (SELECT 1 FROM history_archive GROUP BY ip, jail, action, timeofban HAVING count(*) > 1)`); dup != 0 {
		t.Errorf("%d archive events are duplicated", dup)
	}
	if _, err := db.Exec(`ATTACH DATABASE ? AS f2b`, "file:"+f2bDB+"?mode=ro"); err != nil {
		t.Fatal(err)
	}
	if lost := count(t, db, `SELECT count(*) FROM f2b.bans b WHERE NOT EXISTS (SELECT 1 FROM history_archive a
		WHERE a.ip = b.ip AND a.jail = b.jail AND a.timeofban = b.timeofban AND a.action = 'ban')`); lost != 0 {
		t.Errorf("%d fail2ban bans are missing from the archive", lost)
	}

	// 2. SIGTERM while an import bans the list.
	c := newPanelClient(t, base)
	c.setup(sb, dataDir)
	c.post("/blocklists/sources", "/blocklists", url.Values{"name": {"Big"}, "url": {lists.URL + "/big.txt"}, "enabled": {"on"}})
	c.post("/blocklists/import", "/blocklists", url.Values{})
	poll(t, 60*time.Second, "the import to record its first batch", logFile, func() bool {
		var done int64
		err := db.QueryRow(`SELECT done FROM import_runs WHERE state = 'pending'`).Scan(&done)
		return err == nil && done > 0
	})
	p.terminate(t)
	var state string
	var done, total int64
	if err := db.QueryRow(`SELECT state, done, total FROM import_runs`).Scan(&state, &done, &total); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGTERM after %d of %d addresses were banned (run %s)", done, total, state)
	if state == string(models.ImportCompleted) && done < total {
		t.Fatalf("an interrupted run is marked completed: %s %d/%d", state, done, total)
	}
	if n := count(t, db, `SELECT count(*) FROM import_log`); state != string(models.ImportCompleted) && n != 0 {
		t.Errorf("the interrupted import wrote %d log rows", n)
	}

	// The next start finishes the pending run without being asked.
	p = startPanel(t, bin, logFile, args...)
	poll(t, 60*time.Second, "the import to complete after the restart", logFile, func() bool {
		var s string
		return db.QueryRow(`SELECT state FROM import_runs`).Scan(&s) == nil && s == string(models.ImportCompleted)
	})
	poll(t, 10*time.Second, "the import log", logFile, func() bool { return count(t, db, `SELECT count(*) FROM import_log`) > 0 })
	p.terminate(t)

	if n := count(t, db, `SELECT count(*) FROM import_runs`); n != 1 {
		t.Errorf("%d import runs, want 1", n)
	}
	if n, sum := count(t, db, `SELECT count(*) FROM import_log`), count(t, db, `SELECT ips_imported + ips_already_banned FROM import_log`); n != 1 || sum != sigtermListSize {
		t.Errorf("import log: %d rows accounting for %d addresses, want 1 row with %d", n, sum, sigtermListSize)
	}
	if n := count(t, db, `SELECT count(*) FROM import_log WHERE errors IS NOT NULL`); n != 0 {
		t.Errorf("the finished import logged errors: %s", tail(logFile))
	}
	sbDB, err := sql.Open("sqlite", "file:"+sb.DBFile+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer sbDB.Close()
	rows, err := sbDB.Query(`SELECT ip, count(*) FROM bans WHERE jail = ? GROUP BY ip`, models.BlocklistJail)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var banned []string
	for rows.Next() {
		var ip string
		var n int
		if err := rows.Scan(&ip, &n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("fail2ban recorded %d bans of %s", n, ip)
		}
		banned = append(banned, ip)
	}
	slices.Sort(banned)
	if want := slices.Sorted(slices.Values(listed)); !slices.Equal(banned, want) {
		t.Errorf("fail2ban's database has bans of %d addresses, want the %d listed", len(banned), len(want))
	}
}

// waitReady polls /healthz until the panel answers.
func waitReady(t *testing.T, p *panelProc, base string) {
	t.Helper()
	poll(t, 20*time.Second, "the panel to answer", p.log, func() bool {
		select {
		case <-p.done:
			t.Fatalf("bangui exited: %v\n%s", p.err, tail(p.log))
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// panelClient is a browser-like HTTP client with cookies.
type panelClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newPanelClient(t *testing.T, base string) *panelClient {
	jar, _ := cookiejar.New(nil)
	return &panelClient{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// post submits form to path with the CSRF token of the page at from and
// expects a redirect.
func (c *panelClient) post(path, from string, form url.Values) {
	c.t.Helper()
	resp, err := c.c.Get(c.base + from)
	if err != nil {
		c.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		c.t.Fatalf("no CSRF token on %s (%s)", from, resp.Status)
	}
	form.Set("_csrf", string(m[1]))
	resp, err = c.c.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("POST %s: %s %.500s", path, resp.Status, body)
	}
}

// setup completes setup against sb and logs in.
func (c *panelClient) setup(sb *sandbox.Sandbox, dataDir string) {
	c.t.Helper()
	const pw = "Sturdy-Passw0rd"
	code, err := setup.LoadCode(dataDir)
	if err != nil {
		c.t.Fatal(err)
	}
	c.post("/setup", "/setup", url.Values{"setup_code": {code.String()}, "username": {"admin"}, "password": {pw}, "password_confirm": {pw}, "socket": {sb.SocketPath},
		"config_dir": {sb.ConfigDir}, "timezone": {"UTC"}, "session_minutes": {"60"}})
	c.post("/login", "/login", url.Values{"username": {"admin"}, "password": {pw}})
}
