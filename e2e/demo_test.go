package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"bangui/demo"
	"bangui/fail2ban"
	"bangui/fail2ban/sandbox"
)

// demoMode reports whether the suite runs against "bangui demo" (E2E_DEMO=1)
// instead of a bare fail2ban sandbox with one plain bangui per device.
func demoMode() bool { return os.Getenv("E2E_DEMO") == "1" }

// devicePassword is the master password of the device's panel.
func devicePassword(d device) string { return "E2e-" + d.name + "-Secret-1" }

// demoJailFile is the jail.d file that gives each demo the jails the flows
// need besides the demo's own: the paging jail and the configuration jails.
const demoJailFile = "e2e.conf"

// startDemoApp starts "bangui demo" for one device on dataDir: its own
// private fail2ban (with the flows' extra jails added through jail.d
// before it starts), synthetic traffic and weeks of history, setup done
// with the device's password.
func startDemoApp(t *testing.T, a *app, d device, bin, dataDir string) {
	t.Helper()
	extra := append(append([]sandbox.Jail{{Name: pagingJail, Filter: "sshd"}}, configJails...), xssJails...)
	plantXSS(t, demo.Fail2banDir(dataDir))
	if err := sandbox.WriteJailFile(demo.Fail2banDir(dataDir), demoJailFile, extra); err != nil {
		t.Fatal(err)
	}
	a.demo = true
	a.proc = startProcEnv(t, "bangui-demo-"+d.name, a.log, []string{demo.PasswordEnv + "=" + devicePassword(d)}, bin, "demo",
		"--listen", fmt.Sprintf("127.0.0.1:%d", a.port),
		"--base-path", basePath+"/",
		"--data-dir", dataDir,
		"--trusted-proxies", "127.0.0.0/8,::1/128",
		"--public-url", fmt.Sprintf("https://localhost:%d%s/", a.proxyPort, basePath),
		"--shutdown-grace", "3s",
		"--log-level", "debug",
		"--log-dirs", demo.Fail2banDir(dataDir),
	)
}

var demoSocketRE = regexp.MustCompile(`(?m)^\s*Socket\s+(\S+)`)

// fillDemo waits for the demo's fail2ban to run the paging jail and bans
// the paging addresses there, as the sandbox path does at stack start.
func fillDemo(t *testing.T, a *app) {
	t.Helper()
	b, err := os.ReadFile(a.log)
	if err != nil {
		t.Fatal(err)
	}
	m := demoSocketRE.FindSubmatch(b)
	if m == nil {
		logTail(t, a.proc.name, a.log)
		t.Fatal("the demo did not say where its fail2ban socket is")
	}
	c := fail2ban.NewClient(string(m[1]), fail2ban.WithTimeout(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// fail2ban adds the jails one after the other at start.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.RequireJail(ctx, pagingJail)
		if err == nil {
			break
		}
		if !errors.Is(err, fail2ban.ErrUnknownJail) || ctx.Err() != nil {
			logTail(t, a.proc.name, a.log)
			t.Fatalf("the demo's fail2ban does not run the jail %s: %v", pagingJail, err)
		}
		<-tick.C
	}
	banMany(t, c, pagingJail, pagingBans)
}

// flowDemoReady: the demo completed setup itself, so the panel asks for
// the password straight away.
func flowDemoReady(t *testing.T, b *browser) {
	b.visit(t, "/")
	if p := b.path(t); !strings.HasPrefix(p, basePath+"/login") {
		t.Fatalf("%s: the demo's first page is %s, want the login page", b.dev.name, p)
	}
	if n := eval[int](t, b, `document.querySelectorAll("#password").length`); n != 1 {
		t.Fatalf("%s: no password field on the login page", b.dev.name)
	}
	b.check(t, "login")
}

// The demo never shows the setup page and has no fleet: these screenshots
// and requests are not expected.
var (
	demoSkipShots    = append([]string{"setup", "setup-socket-ok"}, fleetScreenshots...)
	demoSkipRequests = []string{`"GET /bangui/setup `, `"POST /bangui/setup/probe `, `"POST /bangui/setup `}
)

// skipInDemo reports whether a screenshot name, or an access log
// expectation, belongs to the setup page while the suite runs on the demo.
func (st *stack) skipInDemo(want string) bool {
	if !st.demo {
		return false
	}
	if slices.Contains(demoSkipShots, want) {
		return true
	}
	return slices.ContainsFunc(demoSkipRequests, func(r string) bool { return strings.Contains(want, r) })
}

// stopDemo stops a demo like Ctrl-C and checks that its fail2ban is gone.
func stopDemo(t *testing.T, a *app, dataDir string) {
	a.proc.stop(t, syscall.SIGINT)
	conf := filepath.Join(demo.Fail2banDir(dataDir), "conf")
	if pids := serverPidsFor(conf); len(pids) > 0 {
		t.Errorf("%s: fail2ban-server still running after the demo stopped: %v", a.proc.name, pids)
	}
}

// serverPidsFor lists the running processes whose command line mentions s.
func serverPidsFor(s string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), s) {
			pids = append(pids, pid)
		}
	}
	return pids
}
