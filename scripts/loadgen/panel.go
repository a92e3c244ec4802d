package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"bangui/fail2ban/sandbox"
	"bangui/models"
	"bangui/services/setup"
)

// loadPassword is the master password the load test sets up.
const loadPassword = "Load-test-2026"

// panel is a running child process: the panel, or in a fleet run an agent.
type panel struct {
	cmd     *exec.Cmd
	addr    string
	logPath string
	done    chan struct{} // closed when the process has been reaped
}

// startPanel starts the panel binary on addr with a fresh data dir, the
// sandbox's socket and config dir, the generated fail2ban database and the
// country database.
func startPanel(bin, addr, dataDir, logPath string, sb *sandbox.Sandbox, f2bDB, mmdb string) (*panel, error) {
	p, err := startProcess(bin, []string{
		"--listen", addr,
		"--data-dir", dataDir,
		"--socket", sb.SocketPath,
		"--config-dir", sb.ConfigDir,
		"--fail2ban-db", f2bDB,
		"--geo-country-db", mmdb,
		"--log-dirs", sb.Dir,
		"--log-level", "warn",
	}, logPath)
	if err != nil {
		return nil, fmt.Errorf("start panel: %w", err)
	}
	p.addr = addr
	log.Printf("panel pid %d on http://%s (log %s)", p.pid(), addr, logPath)
	return p, nil
}

// startProcess starts bin with args, its output going to logPath. The
// process runs in its own process group and is killed by the kernel if
// this process dies.
func startProcess(bin string, args []string, logPath string) (*panel, error) {
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &panel{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	// Pdeathsig fires when the forking thread ends: start and wait on one
	// goroutine locked to its thread for the child's whole life.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

func (p *panel) pid() int { return p.cmd.Process.Pid }

func (p *panel) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to 20 s for a graceful exit, then kills the
// process group.
func (p *panel) stop() {
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			log.Printf("%s (pid %d) did not stop within 20 s: killing it", filepath.Base(p.cmd.Path), p.pid())
		}
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	<-p.done
}

// waitHealthy polls /healthz until it answers 200.
func (p *panel) waitHealthy(ctx context.Context) error {
	u := "http://" + p.addr + "/healthz"
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if p.exited() {
			return fmt.Errorf("the panel exited at start; see %s", p.logPath)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("panel not healthy: %w (last: %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// newClient returns an HTTP client with its own cookie jar that does not
// follow redirects (a redirect to the login page must count as an error).
func newClient(conns int) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:     jar,
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

var csrfField = regexp.MustCompile(`name="_csrf"\s+value="([^"]+)"`)

// csrfOf GETs path and returns the form's CSRF token.
func csrfOf(ctx context.Context, c *http.Client, base, path string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	m := csrfField.FindSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("GET %s: no CSRF token in the form", path)
	}
	return string(m[1]), nil
}

// postForm POSTs form to path and wants a 303 to wantLocation.
func postForm(ctx context.Context, c *http.Client, base, path string, form url.Values, wantLocation string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != wantLocation {
		return fmt.Errorf("POST %s: status %d, location %q (want 303 to %s): %.300s", path, resp.StatusCode, resp.Header.Get("Location"), wantLocation, body)
	}
	return nil
}

// completeSetup fills in the setup form as a browser would.
func completeSetup(ctx context.Context, base, dataDir string, sb *sandbox.Sandbox) error {
	c := newClient(1)
	code, err := os.ReadFile(filepath.Join(dataDir, setup.CodeFile))
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	tok, err := csrfOf(ctx, c, base, "/setup")
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	form := url.Values{
		"_csrf":                         {tok},
		models.SetupFieldCode:           {strings.TrimSpace(string(code))},
		models.SetupFieldUsername:       {loadUser},
		models.SetupFieldPassword:       {loadPassword},
		models.SetupFieldConfirm:        {loadPassword},
		models.SetupFieldSocket:         {sb.SocketPath},
		models.SetupFieldConfigDir:      {sb.ConfigDir},
		models.SetupFieldTimezone:       {"UTC"},
		models.SetupFieldSessionMinutes: {strconv.Itoa(24 * 60)},
	}
	if err := postForm(ctx, c, base, "/setup", form, "/login"); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	return nil
}

// loadUser is the load test's account, the first admin.
const loadUser = "load"

// login logs c in as loadUser with the load test's password.
func login(ctx context.Context, c *http.Client, base string) error {
	tok, err := csrfOf(ctx, c, base, "/login")
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return postForm(ctx, c, base, "/login", url.Values{"_csrf": {tok}, "username": {loadUser}, "password": {loadPassword}}, "/")
}

// loginClients returns n clients, each logged in with its own session.
func loginClients(ctx context.Context, base string, n int) ([]*http.Client, error) {
	out := make([]*http.Client, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 4) // bcrypt is slow: a few at a time
	for i := range out {
		out[i] = newClient(2)
		go func(c *http.Client) {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- login(ctx, c, base)
		}(out[i])
	}
	var all []error
	for range n {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return out, errors.Join(all...)
}

// resetPeakRSS resets the kernel's peak RSS (VmHWM) of pid, so that the
// value read after the run is the run's own peak.
func resetPeakRSS(pid int) {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		log.Printf("cannot reset the panel's peak RSS (%v): the figure includes set-up", err)
	}
}

// peakRSS reads VmHWM of pid from /proc in bytes, or 0.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	return parseVmHWM(string(b))
}

// parseVmHWM extracts the VmHWM line of a /proc/PID/status text in bytes.
func parseVmHWM(status string) int64 {
	for _, line := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime reads the CPU time (user and system) pid has used from /proc, or
// 0. Linux reports it in clock ticks of 1/100 s.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	return parseCPUTime(string(b))
}

// parseCPUTime extracts utime + stime of a /proc/PID/stat text.
func parseCPUTime(stat string) time.Duration {
	i := strings.LastIndexByte(stat, ')') // the command name may hold spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}
