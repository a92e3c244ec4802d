package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"bangui/fail2ban"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
)

func call(t *testing.T, sb *sandbox.Sandbox, args ...string) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := sb.Client().Call(ctx, args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

// serverProcesses lists pids of running processes whose command line
// mentions dir.
func serverProcesses(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if bytes.Contains(cmdline, []byte(dir)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// assertGone checks that pid and its process group no longer exist.
func assertGone(t *testing.T, pid int, dir string) {
	t.Helper()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) = %v, want ESRCH", pid, err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(-%d, 0) = %v, want ESRCH", pid, err)
	}
	// A process the kernel is still tearing down may linger in /proc for a
	// moment after its group is gone.
	deadline := time.Now().Add(5 * time.Second)
	pids := serverProcesses(t, dir)
	for len(pids) > 0 && time.Now().Before(deadline) {
		<-time.After(20 * time.Millisecond)
		pids = serverProcesses(t, dir)
	}
	for _, p := range pids {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "cmdline"))
		status, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "stat"))
		t.Errorf("process %d still running for %s: %q (stat %q)", p, dir, cmdline, status)
	}
}

func TestStartStop(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t)
	pid := sb.Pid()
	if pid <= 0 {
		t.Fatalf("Pid() = %d", pid)
	}
	pidFile, err := os.ReadFile(filepath.Join(sb.Dir, "fail2ban.pid"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(pidFile)); got != strconv.Itoa(pid) {
		t.Errorf("pid file says %s, Pid() = %d", got, pid)
	}
	for _, p := range []string{
		filepath.Join(sb.ConfigDir, "fail2ban.conf"),
		filepath.Join(sb.ConfigDir, "jail.conf"),
		filepath.Join(sb.ConfigDir, "jail.d"),
		filepath.Join(sb.ConfigDir, "filter.d", "sshd.conf"),
		filepath.Join(sb.ConfigDir, "action.d", "dummy.conf"),
		sb.SocketPath, sb.DBFile, sb.LogFile, sb.LogPath("sshd"),
	} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	if want := filepath.Join(sb.Dir, "log", "sshd.log"); sb.LogPath("sshd") != want {
		t.Errorf("LogPath(sshd) = %q, want %q", sb.LogPath("sshd"), want)
	}
	if p := sb.LogPath("nosuch"); p != "" {
		t.Errorf("LogPath(nosuch) = %q, want empty", p)
	}
	if v := call(t, sb, "get", "logtarget"); v != sb.LogFile {
		t.Errorf("logtarget = %#v, want %q", v, sb.LogFile)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := sb.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertGone(t, pid, sb.ConfigDir)
	if err := sb.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if r := fail2ban.Probe(ctx, sb.SocketPath); r.Status == fail2ban.ProbeOK {
		t.Errorf("Probe after Stop = %+v", r)
	}
}

func TestJailOptions(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t,
		sandbox.Jail{Name: "sshd", MaxRetry: 2, FindTime: "1h", BanTime: "2h"},
		sandbox.Jail{Name: "web", Filter: "nginx-http-auth", LogPath: "logs/web/access.log"},
		sandbox.Jail{Name: "off", Filter: "sshd", Disabled: true},
	)
	want := []any{
		[]any{"Number of jail", int64(2)},
		[]any{"Jail list", "sshd, web"},
	}
	if v := call(t, sb, "status"); !reflect.DeepEqual(v, want) {
		t.Errorf("status = %#v, want %#v", v, want)
	}
	for _, c := range []struct {
		args []string
		want any
	}{
		{[]string{"get", "sshd", "maxretry"}, int64(2)},
		{[]string{"get", "sshd", "findtime"}, int64(3600)},
		{[]string{"get", "sshd", "bantime"}, int64(7200)},
		{[]string{"get", "web", "maxretry"}, int64(5)},
		{[]string{"get", "web", "bantime"}, int64(600)},
		{[]string{"get", "web", "logpath"}, []any{filepath.Join(sb.Dir, "logs", "web", "access.log")}},
		{[]string{"get", "web", "actions"}, []any{"dummy"}},
	} {
		if v := call(t, sb, c.args...); !reflect.DeepEqual(v, c.want) {
			t.Errorf("%v = %#v, want %#v", c.args, v, c.want)
		}
	}
	if _, err := os.Stat(sb.LogPath("web")); err != nil {
		t.Error(err)
	}
}

func TestBanFromLog(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 2})
	const ip = "192.0.2.77"
	f, err := os.OpenFile(sb.LogPath("sshd"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Format(time.Stamp)
	for i := range 3 {
		fmt.Fprintf(f, "%s testhost sshd[%d]: Failed password for root from %s port %d ssh2\n", now, 1000+i, ip, 40000+i)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		v := call(t, sb, "get", "sshd", "banned")
		if l, ok := v.([]any); ok && slices.Contains(l, any(ip)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not banned in time; banned = %#v", ip, v)
		}
		<-tick.C
	}
	// The dummy action writes into the sandbox, not into /var/run.
	deadline = time.Now().Add(10 * time.Second)
	target := filepath.Join(sb.Dir, "run", "sshd.dummy")
	for {
		b, _ := os.ReadFile(target)
		if bytes.Contains(b, []byte("+"+ip)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not record the ban: %q", target, b)
		}
		<-tick.C
	}
}

func TestLongDirUsesShortSocket(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 120))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Options{Dir: dir})
	if errors.Is(err, sandbox.ErrNotInstalled) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Stop(context.Background()) })
	if len(sb.SocketPath) > 100 || strings.HasPrefix(sb.SocketPath, dir) {
		t.Errorf("SocketPath = %q, want a short path outside Dir", sb.SocketPath)
	}
	if err := sb.Client().Ping(ctx); err != nil {
		t.Fatal(err)
	}
	pid := sb.Pid()
	if err := sb.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(sb.SocketPath)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket directory not removed: %v", err)
	}
	assertGone(t, pid, sb.ConfigDir)
}

func TestStopWithDoneContextKills(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t)
	pid := sb.Pid()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sb.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertGone(t, pid, sb.ConfigDir)
}

func TestStartFailureLeavesNoProcess(t *testing.T) {
	t.Parallel()
	// A configuration source whose only filter has a broken regex: the
	// server starts but the jail never comes up.
	src := t.TempDir()
	for _, d := range []string{"filter.d", "action.d"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dummy, err := os.ReadFile(filepath.Join(sandbox.DefaultConfigSource, "action.d", "dummy.conf"))
	if err != nil {
		t.Skip(err)
	}
	os.WriteFile(filepath.Join(src, "action.d", "dummy.conf"), dummy, 0o644)
	os.WriteFile(filepath.Join(src, "filter.d", "broken.conf"), []byte("[Definition]\nfailregex = ^(unclosed <HOST>\n"), 0o644)

	dir := t.TempDir()
	_, err = sandbox.Start(context.Background(), sandbox.Options{
		Dir:          dir,
		Jails:        []sandbox.Jail{{Name: "broken"}},
		ConfigSource: src,
		StartTimeout: 3 * time.Second,
	})
	if errors.Is(err, sandbox.ErrNotInstalled) {
		t.Skip(err)
	}
	if err == nil {
		t.Fatal("Start succeeded with a broken filter")
	}
	t.Log(err)
	if pids := serverProcesses(t, filepath.Join(dir, "conf")); len(pids) > 0 {
		t.Errorf("processes left behind: %v", pids)
	}
}

func TestNotInstalled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, err := sandbox.Start(ctx, sandbox.Options{Dir: t.TempDir(), ServerPath: "/nonexistent/fail2ban-server"})
	if !errors.Is(err, sandbox.ErrNotInstalled) {
		t.Fatalf("err = %v, want ErrNotInstalled", err)
	}
	if !strings.Contains(err.Error(), "Debian package fail2ban") {
		t.Errorf("error %q does not name the Debian package", err)
	}
	_, err = sandbox.Start(ctx, sandbox.Options{Dir: t.TempDir(), ServerPath: "/bin/true", ConfigSource: t.TempDir()})
	if !errors.Is(err, sandbox.ErrNotInstalled) {
		t.Errorf("missing filter.d: err = %v, want ErrNotInstalled", err)
	}
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("fail2ban-server"); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	for name, opts := range map[string]sandbox.Options{
		"no dir":         {},
		"bad name":       {Jails: []sandbox.Jail{{Name: "a b"}}},
		"section inject": {Jails: []sandbox.Jail{{Name: "x]\n[y"}}},
		"duplicate":      {Jails: []sandbox.Jail{{Name: "sshd"}, {Name: "sshd"}}},
		"unknown filter": {Jails: []sandbox.Jail{{Name: "sshd", Filter: "no-such-filter"}}},
		"bad filter":     {Jails: []sandbox.Jail{{Name: "sshd", Filter: "sshd\nfoo = bar"}}},
		"newline value":  {Jails: []sandbox.Jail{{Name: "sshd", BanTime: "1h\nfoo = bar"}}},
		"space log path": {Jails: []sandbox.Jail{{Name: "sshd", LogPath: "/tmp/a b.log"}}},
		"manual filter":  {Jails: []sandbox.Jail{{Name: "x", Manual: true, Filter: "sshd"}}},
		"manual log":     {Jails: []sandbox.Jail{{Name: "x", Manual: true, LogPath: "x.log"}}},
		"server log+log": {Jails: []sandbox.Jail{{Name: "recidive", ServerLog: true, LogPath: "x.log"}}},
		"purge newline":  {DBPurgeAge: "1d\nfoo = bar"},
	} {
		if name != "no dir" {
			opts.Dir = t.TempDir()
		}
		sb, err := sandbox.Start(ctx, opts)
		if err == nil {
			sb.Stop(ctx)
			t.Errorf("%s: Start succeeded", name)
		} else if errors.Is(err, sandbox.ErrNotInstalled) {
			t.Errorf("%s: err = %v, should not be ErrNotInstalled", name, err)
		}
	}
}

func TestRestart(t *testing.T) {
	t.Parallel()
	for _, long := range []bool{false, true} {
		t.Run(fmt.Sprintf("long dir %v", long), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if long {
				dir = filepath.Join(dir, strings.Repeat("d", 120))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			sb, err := sandbox.Start(ctx, sandbox.Options{Dir: dir})
			if errors.Is(err, sandbox.ErrNotInstalled) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sb.Stop(context.Background()) })
			call(t, sb, "set", "sshd", "banip", "192.0.2.44")
			first, sock := sb.Pid(), sb.SocketPath

			// Restart while running.
			if err := sb.Restart(ctx); err != nil {
				t.Fatalf("Restart: %v", err)
			}
			// The old process is gone (a new one runs with the same config).
			if err := syscall.Kill(first, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("kill(%d, 0) = %v, want ESRCH", first, err)
			}
			if sb.SocketPath != sock {
				t.Errorf("socket moved from %s to %s", sock, sb.SocketPath)
			}
			if sb.Pid() == first {
				t.Errorf("Pid unchanged after Restart")
			}
			// The ban comes back from the database (restored by the jail's
			// thread shortly after start-up).
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for deadline := time.Now().Add(10 * time.Second); ; {
				v := call(t, sb, "get", "sshd", "banned")
				if reflect.DeepEqual(v, []any{"192.0.2.44"}) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("banned after restart = %#v, want the ban restored", v)
				}
				<-tick.C
			}

			// Stop, then Restart again on the same socket.
			second := sb.Pid()
			if err := sb.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			assertGone(t, second, sb.ConfigDir)
			if err := sb.Client().Ping(ctx); !fail2ban.IsUnreachable(err) {
				t.Fatalf("Ping after Stop = %v, want unreachable", err)
			}
			if err := sb.Restart(ctx); err != nil {
				t.Fatalf("Restart after Stop: %v", err)
			}
			if err := sb.Client().Ping(ctx); err != nil {
				t.Fatalf("Ping after Restart: %v", err)
			}
			third := sb.Pid()
			if err := sb.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			assertGone(t, third, sb.ConfigDir)
			if long {
				if _, err := os.Stat(filepath.Dir(sb.SocketPath)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("socket directory not removed: %v", err)
				}
			}
		})
	}
}

// TestDemoJails covers the jail kinds of the demo: a manual jail without
// filter and log (as BanGUI's blocklist-import jail), a recidive jail that
// watches fail2ban's own log, and a long dbpurgeage.
func TestDemoJails(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.StartOptions(t, sandbox.Options{
		DBPurgeAge: "60d",
		Jails: []sandbox.Jail{
			{Name: "sshd"},
			{Name: "recidive", ServerLog: true, MaxRetry: 2, FindTime: "1d", BanTime: "1w"},
			{Name: "blocklist-import", Manual: true, BanTime: "24h"},
		},
	})
	if v := call(t, sb, "get", "dbpurgeage"); v != int64(60*24*3600) {
		t.Errorf("dbpurgeage = %#v, want 60 days", v)
	}
	if p := sb.LogPath("recidive"); p != sb.LogFile {
		t.Errorf("LogPath(recidive) = %q, want fail2ban's log %q", p, sb.LogFile)
	}
	if v := call(t, sb, "get", "recidive", "logpath"); !reflect.DeepEqual(v, []any{sb.LogFile}) {
		t.Errorf("recidive logpath = %#v", v)
	}
	if v := call(t, sb, "get", "blocklist-import", "logpath"); !reflect.DeepEqual(v, []any{}) {
		t.Errorf("blocklist-import logpath = %#v, want none", v)
	}
	if p := sb.LogPath("blocklist-import"); p != "" {
		t.Errorf("LogPath(blocklist-import) = %q, want empty", p)
	}
	if v := call(t, sb, "get", "blocklist-import", "bantime"); v != int64(86400) {
		t.Errorf("blocklist-import bantime = %#v", v)
	}
	call(t, sb, "set", "blocklist-import", "banip", "192.0.2.60")

	// Two sshd bans of one address in fail2ban's log make recidive ban it.
	const ip = "192.0.2.61"
	call(t, sb, "set", "sshd", "banip", ip)
	call(t, sb, "set", "sshd", "unbanip", ip)
	call(t, sb, "set", "sshd", "banip", ip)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(20 * time.Second); ; {
		v := call(t, sb, "get", "recidive", "banned")
		if reflect.DeepEqual(v, []any{ip}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recidive banned = %#v, want [%s]", v, ip)
		}
		<-tick.C
	}
	if v := call(t, sb, "get", "blocklist-import", "banned"); !reflect.DeepEqual(v, []any{"192.0.2.60"}) {
		t.Errorf("blocklist-import banned = %#v", v)
	}
}

// TestReuseDir starts a second sandbox on the directory of a stopped one:
// the database (and so the bans) is kept. A sandbox cannot start on a
// directory whose server still runs.
func TestReuseDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := sandboxtest.StartOptions(t, sandbox.Options{Dir: dir})
	if sandbox.DBPath(dir) != first.DBFile {
		t.Errorf("DBPath = %q, DBFile = %q", sandbox.DBPath(dir), first.DBFile)
	}
	call(t, first, "set", "sshd", "banip", "192.0.2.70")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := sandbox.Start(ctx, sandbox.Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "already answers") {
		t.Fatalf("second Start on a running dir: err = %v", err)
	}
	if err := first.Client().Ping(ctx); err != nil {
		t.Fatalf("the running sandbox was disturbed: %v", err)
	}
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	second := sandboxtest.StartOptions(t, sandbox.Options{Dir: dir})
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(10 * time.Second); ; {
		v := call(t, second, "get", "sshd", "banned")
		if reflect.DeepEqual(v, []any{"192.0.2.70"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("banned after reuse = %#v, want the ban restored", v)
		}
		<-tick.C
	}
}

// TestWriteJailFile adds a jail through jail.d before the sandbox starts
// (as the e2e suite does for "bangui demo"): fail2ban runs it too.
func TestWriteJailFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := sandbox.WriteJailFile(dir, "../x.conf", nil); err == nil {
		t.Error("WriteJailFile accepted a path outside jail.d")
	}
	if err := sandbox.WriteJailFile(dir, "extra.conf", []sandbox.Jail{{Name: "extra", Filter: "sshd", MaxRetry: 3}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "log", "extra.log")); err != nil {
		t.Errorf("log file not created: %v", err)
	}
	sb := sandboxtest.StartOptions(t, sandbox.Options{Dir: dir})
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(10 * time.Second); ; {
		v, err := sb.Client().Call(context.Background(), "get", "extra", "maxretry")
		if err == nil {
			if v != int64(3) {
				t.Errorf("extra maxretry = %#v", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jail extra not running: %v", err)
		}
		<-tick.C
	}
}
