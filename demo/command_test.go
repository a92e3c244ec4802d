//go:build linux

package demo_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"bangui/config"
	"bangui/demo"
	"bangui/fail2ban"
	"bangui/fail2ban/sandbox"
	"bangui/repo"
	"bangui/services"
	"bangui/services/setup"
)

// requireFail2ban skips the test without fail2ban-server, or fails it when
// CI is "true".
func requireFail2ban(t *testing.T) {
	t.Helper()
	if err := sandbox.Check(sandbox.Options{}); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true, so this is not skipped)", err)
		}
		t.Skipf("%v (install the Debian package fail2ban to run this test)", err)
	}
}

// buildBangui builds the bangui command into dir and returns its path.
func buildBangui(t *testing.T, dir string) string {
	t.Helper()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	statSources(root)
	bin := filepath.Join(dir, "bangui")
	cmd := exec.Command(goTool, "build", "-o", bin, "bangui")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build bangui: %v\n%s", err, b)
	}
	return bin
}

// statSources stats the module's sources, so that go test's cache (which
// cannot see the build in the child process) reruns this test when main.go
// or a handler changes.
func statSources(root string) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "artifacts" || d.Name() == "data") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".go", ".templ", ".css", ".js", ".sql", ".mod", ".sum":
			_, _ = os.Stat(p)
		}
		return nil
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a child's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// demoProc is "bangui demo" running as a child, in its own process group
// as a shell runs a foreground job.
type demoProc struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	err            error
}

func startDemo(t *testing.T, bin string, env []string, args ...string) *demoProc {
	t.Helper()
	p := &demoProc{done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"demo"}, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the forking thread ends: keep it for the child's life.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			close(p.done)
			return
		}
		started <- nil
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		t.Fatalf("start bangui demo: %v", err)
	}
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("bangui demo stdout:\n%s\nstderr:\n%s", p.stdout.String(), tail(p.stderr.String(), 40))
		}
	})
	return p
}

// interrupt sends SIGINT to the demo's process group, as Ctrl-C in a
// terminal does, and returns the exit code.
func (p *demoProc) interrupt(t *testing.T) int {
	t.Helper()
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("bangui demo did not exit within 30 s of SIGINT")
	}
	return p.cmd.ProcessState.ExitCode()
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(len(l)-lines, 0):], "\n")
}

// waitFor polls check every 100 ms until it returns "" or d passes; it
// fails the test with check's last message, or at once when the demo exits.
func waitFor(t *testing.T, p *demoProc, d time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, msg)
		}
		select {
		case <-p.done:
			t.Fatalf("bangui demo exited (%v) while waiting: %s", p.err, msg)
		case <-tick.C:
		}
	}
}

func get(c *http.Client, u string) (int, string) {
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// login logs in with the master password and returns a client with the
// session.
func login(t *testing.T, base, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	status, body := get(c, base+"/login")
	if status != http.StatusOK {
		t.Fatalf("GET /login: %d", status)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := doc.Find(`input[name="_csrf"]`).Attr("value")
	resp, err := c.PostForm(base+"/login", url.Values{"username": {"admin"}, "password": {password}, "_csrf": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if status, body := get(c, base+"/"); status != http.StatusOK || !strings.Contains(body, `<h1 id="page-title">Dashboard</h1>`) {
		t.Fatalf("after login, / answered %d without the dashboard: %.300s", status, body)
	}
	return c
}

// dashboardRow is one row of the dashboard's ban table.
type dashboardRow struct {
	ip, jail string
	at       time.Time
}

func dashboardRows(t *testing.T, c *http.Client, base string) []dashboardRow {
	t.Helper()
	status, body := get(c, base+"/")
	if status != http.StatusOK {
		t.Fatalf("dashboard answered %d", status)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var rows []dashboardRow
	doc.Find("#dash-bans tbody tr[data-ip]").Each(func(_ int, s *goquery.Selection) {
		ts, _ := s.Find("time[datetime]").Attr("datetime")
		at, _ := time.Parse(time.RFC3339, ts)
		ip, _ := s.Attr("data-ip")
		rows = append(rows, dashboardRow{ip: ip, jail: strings.TrimSpace(s.Find(`td[data-label="Jail"]`).Text()), at: at})
	})
	return rows
}

// liveBanRE matches a ban fail2ban made from log lines (restored bans say
// "Restore Ban").
var liveBanRE = regexp.MustCompile(`NOTICE\s+\[(sshd|nginx-http-auth|postfix)\] Ban (\S+)`)

// liveBans lists "jail ip" of the bans in fail2ban's log.
func liveBans(logFile string) map[string]bool {
	out := map[string]bool{}
	b, _ := os.ReadFile(logFile)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if m := liveBanRE.FindStringSubmatch(sc.Text()); m != nil {
			out[m[1]+" "+m[2]] = true
		}
	}
	return out
}

// serverPids lists the fail2ban-server processes whose command line
// mentions dir.
func serverPids(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte("fail2ban-server")) && bytes.Contains(cmdline, []byte(dir)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

var socketRE = regexp.MustCompile(`(?m)^\s*Socket\s+(\S+)`)

// TestDemoCommand runs "bangui demo" as a user would: it starts, the panel
// answers, a synthetic attack leads to a real ban that the dashboard
// shows, and Ctrl-C (SIGINT) stops it with exit status 0 and no
// fail2ban-server left. A second run reuses the data dir.
func TestDemoCommand(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	bin := buildBangui(t, tmp)
	t.Run("without-fail2ban", func(t *testing.T) { testWithoutFail2ban(t, bin) })
	requireFail2ban(t)
	data := filepath.Join(tmp, "data")
	const password = "Demo-Test-Password-7"
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	args := []string{"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", data,
		"--rate", "600", "--history-days", "3", "--shutdown-grace", "3s"}
	started := time.Now().Truncate(time.Second)

	p := startDemo(t, bin, []string{demo.PasswordEnv + "=" + password}, args...)
	waitFor(t, p, 30*time.Second, func() string {
		if status, body := get(http.DefaultClient, base+"/readyz"); status != http.StatusOK {
			return fmt.Sprintf("/readyz answered %d %s", status, body)
		}
		return ""
	})
	t.Logf("the panel answered %v after the start", time.Since(started).Round(time.Millisecond))
	out := p.stdout.String()
	for _, want := range []string{"Wrote ", " past bans over 3 days", "Panel      " + base + "/", "Password   from " + demo.PasswordEnv, "Ctrl-C"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%s", want, out)
		}
	}
	m := socketRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no socket in the terminal output:\n%s", out)
	}
	socket := m[1]
	if !strings.HasPrefix(socket, data) {
		t.Errorf("socket %s is not below the data dir %s", socket, data)
	}
	c := login(t, base, password)

	// The seeded history is on the dashboard at once.
	if rows := dashboardRows(t, c, base); len(rows) == 0 {
		t.Fatal("the dashboard shows no bans at the first view")
	}

	// Wait for a ban fail2ban made from the synthetic log lines, with a
	// time after the start, to appear on the dashboard.
	pool := demo.NewPool()
	f2bLog := filepath.Join(data, "fail2ban", sandbox.LogFileName)
	var found dashboardRow
	waitFor(t, p, 60*time.Second, func() string {
		live := liveBans(f2bLog)
		if len(live) == 0 {
			return "fail2ban has banned nobody from the synthetic traffic yet"
		}
		for _, r := range dashboardRows(t, c, base) {
			if live[r.jail+" "+r.ip] && !r.at.Before(started) {
				found = r
				return ""
			}
		}
		return fmt.Sprintf("fail2ban banned %d addresses from the traffic, none on the dashboard yet", len(live))
	})
	addr := netip.MustParseAddr(found.ip)
	if pool.Country[addr] == "" {
		t.Errorf("banned %s is not from the attacker pool", found.ip)
	}
	t.Logf("live ban on the dashboard after %v: %s in %s at %s (%s)", time.Since(started).Round(time.Millisecond),
		found.ip, found.jail, found.at.Format(time.TimeOnly), pool.Country[addr])

	pids := serverPids(data) // the server, and maybe a fork of it running an action
	if len(pids) == 0 {
		t.Errorf("no fail2ban-server process for the demo")
	}
	if code := p.interrupt(t); code != 0 {
		t.Errorf("exit status after SIGINT = %d, want 0", code)
	}
	if left := serverPids(data); len(left) > 0 {
		t.Errorf("fail2ban-server still running after Ctrl-C: %v", left)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("fail2ban-server %d: kill(0) = %v, want ESRCH", pid, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := fail2ban.NewClient(socket).Ping(ctx); err == nil {
		t.Errorf("fail2ban still answers on %s", socket)
	}
	if !strings.Contains(p.stdout.String(), "Stopped the demo") {
		t.Errorf("no goodbye on the terminal:\n%s", p.stdout.String())
	}

	// Again: the data dir is reused (no new history, the same password
	// without the environment variable, the live ban still listed).
	p2 := startDemo(t, bin, []string{demo.PasswordEnv + "="}, args...)
	waitFor(t, p2, 30*time.Second, func() string {
		if status, _ := get(http.DefaultClient, base+"/readyz"); status != http.StatusOK {
			return fmt.Sprintf("second run: /readyz answered %d", status)
		}
		return ""
	})
	out2 := p2.stdout.String()
	if !strings.Contains(out2, "Reusing the demo in "+data) || strings.Contains(out2, "past bans over") {
		t.Errorf("second run does not say it reuses the data dir, or seeds again:\n%s", out2)
	}
	c = login(t, base, password)
	if rows := dashboardRows(t, c, base); !slices.ContainsFunc(rows, func(r dashboardRow) bool { return r.ip == found.ip && r.jail == found.jail }) {
		t.Errorf("second run: %s in %s is no longer on the dashboard", found.ip, found.jail)
	}
	if code := p2.interrupt(t); code != 0 {
		t.Errorf("second run: exit status after SIGINT = %d, want 0", code)
	}
	if left := serverPids(data); len(left) > 0 {
		t.Errorf("second run: fail2ban-server still running after Ctrl-C: %v", left)
	}
}

// testWithoutFail2ban: the demo names the package to install and exits
// non-zero.
func testWithoutFail2ban(t *testing.T, bin string) {
	tmp := t.TempDir()
	cmd := exec.Command(bin, "demo", "--data-dir", filepath.Join(tmp, "data"), "--fail2ban-server", "/nonexistent/fail2ban-server")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("bangui demo without fail2ban: err = %v, want a non-zero exit\n%s", err, out)
	}
	if !strings.Contains(string(out), "Install the Debian package fail2ban (sudo apt-get install fail2ban)") {
		t.Errorf("the message does not name the package:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(tmp, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data dir was created anyway: %v", err)
	}
}

// TestRunWiring runs the demo in-process with a stand-in for the panel:
// Serve gets a Config pointing at the private fail2ban (setup done, the
// restart command kept inside the demo, the demo's logs readable), and
// the demo refuses a data dir that holds a real panel.
func TestRunWiring(t *testing.T) {
	t.Parallel()
	requireFail2ban(t)
	data := filepath.Join(t.TempDir(), "data")
	cfg, _, err := demo.Load([]string{"--data-dir", data}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := false
	serve := func(ctx context.Context, got config.Config, _ *slog.Logger) error {
		served = true
		defer cancel()
		db, err := repo.Open(ctx, repo.Options{DataDir: got.DataDir})
		if err != nil {
			return err
		}
		defer db.Close()
		ps, err := setup.LoadPanelSettings(ctx, repo.NewSettingsStore(db))
		if err != nil {
			return err
		}
		if err := fail2ban.NewClient(ps.Socket).Ping(ctx); err != nil {
			t.Errorf("the panel's socket %s does not answer: %v", ps.Socket, err)
		}
		accounts := services.NewAccounts(repo.NewUserStore(db), repo.NewSessionStore(db), repo.NewSettingsStore(db))
		if _, ok, err := accounts.Authenticate(ctx, repo.MasterAdminName, "Wiring-Test-9"); !ok || err != nil {
			t.Errorf("the password does not log in: %v, %v", ok, err)
		}
		if s := strings.Join(got.RestartCommand, " "); !strings.HasSuffix(s, "-s "+ps.Socket+" reload --restart") {
			t.Errorf("restart command %q", s)
		}
		// The panel's Restart restarts the jails in the demo's own server
		// (the same process, as its pid file says).
		pidFile := filepath.Join(demo.Fail2banDir(data), "fail2ban.pid")
		before, _ := os.ReadFile(pidFile)
		if out, err := exec.CommandContext(ctx, got.RestartCommand[0], got.RestartCommand[1:]...).CombinedOutput(); err != nil {
			t.Errorf("restart command: %v\n%s", err, out)
		}
		after, _ := os.ReadFile(pidFile)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(after)))
		if len(before) == 0 || !bytes.Equal(before, after) || syscall.Kill(pid, 0) != nil {
			t.Errorf("fail2ban-server pid %q before the restart, %q after; want the same, running", before, after)
		}
		if err := fail2ban.NewClient(ps.Socket).RequireJail(ctx, "sshd"); err != nil {
			t.Errorf("after the restart: %v", err)
		}
		if !slices.Contains(got.LogDirs, filepath.Join(data, "fail2ban", "log")) {
			t.Errorf("log dirs %v lack the demo's logs", got.LogDirs)
		}
		return nil
	}
	err = demo.Run(ctx, cfg, demo.Options{Rate: 0, HistoryDays: 1, Password: "Wiring-Test-9", Serve: serve, Out: &out})
	if err != nil || !served {
		t.Fatalf("Run = %v, served %v\n%s", err, served, out.String())
	}
	if left := serverPids(data); len(left) > 0 {
		t.Errorf("fail2ban-server left running: %v", left)
	}

	// A panel's data dir: setup completed, no demo marker.
	panel := t.TempDir()
	db, err := repo.Open(context.Background(), repo.Options{DataDir: panel})
	if err != nil {
		t.Fatal(err)
	}
	settings := repo.NewSettingsStore(db)
	accounts := services.NewAccounts(repo.NewUserStore(db), repo.NewSessionStore(db), settings)
	if _, err := setup.New(settings, accounts).Complete(context.Background(), setup.Input{Username: "root", Password: "Panel-Pass-1", Confirm: "Panel-Pass-1",
		Socket: "/run/fail2ban/fail2ban.sock", ConfigDir: "/etc/fail2ban", Timezone: "UTC", SessionMinutes: "60"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cfg.DataDir = panel
	err = demo.Run(context.Background(), cfg, demo.Options{Serve: serve, Out: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "not a demo") {
		t.Errorf("Run on a panel's data dir = %v, want a refusal", err)
	}
}
