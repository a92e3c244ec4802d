package fail2ban_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
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

// script writes an executable stand-in for fail2ban-client.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fake-client")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunnerArgs(t *testing.T) {
	t.Parallel()
	echo := script(t, `printf '%s\n' "$@"`)
	ctx := context.Background()
	full := fail2ban.Runner{ClientPath: echo, Socket: "/run/f2b.sock", ConfigDir: "/etc/f2b"}
	bare := fail2ban.Runner{ClientPath: echo}
	tests := []struct {
		name string
		run  func() (string, error)
		want []string
	}{
		{"reload jail", func() (string, error) { return full.Reload(ctx, "sshd") }, []string{"-c", "/etc/f2b", "-s", "/run/f2b.sock", "reload", "--if-exists", "sshd"}},
		{"reload all", func() (string, error) { return full.Reload(ctx, "") }, []string{"-c", "/etc/f2b", "-s", "/run/f2b.sock", "reload"}},
		{"restart", func() (string, error) { return full.Restart(ctx) }, []string{"-c", "/etc/f2b", "-s", "/run/f2b.sock", "restart"}},
		{"test config", func() (string, error) { return full.TestConfig(ctx) }, []string{"-c", "/etc/f2b", "-t"}},
		{"defaults", func() (string, error) { return bare.Reload(ctx, "-a b") }, nil},
		{"defaults reload", func() (string, error) { return bare.Reload(ctx, "nginx-http-auth") }, []string{"reload", "--if-exists", "nginx-http-auth"}},
		{"defaults test", func() (string, error) { return bare.TestConfig(ctx) }, []string{"-t"}},
	}
	for _, tt := range tests {
		out, err := tt.run()
		if tt.want == nil {
			var ve *fail2ban.ValidationError
			if !errors.As(err, &ve) || out != "" {
				t.Errorf("%s: %q, %v; want a ValidationError", tt.name, out, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := strings.Split(out, "\n"); !slices.Equal(got, tt.want) {
			t.Errorf("%s: args %q, want %q", tt.name, got, tt.want)
		}
	}
	// Arguments reach the program verbatim: no shell interprets them.
	odd := fail2ban.Runner{ClientPath: echo, ConfigDir: "/etc/$(id) f2b;*"}
	if out, err := odd.TestConfig(ctx); err != nil || out != "-c\n/etc/$(id) f2b;*\n-t" {
		t.Errorf("odd config dir: %q, %v", out, err)
	}
}

func TestRunnerFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("output in error", func(t *testing.T) {
		r := fail2ban.Runner{ClientPath: script(t, `echo "checking"; echo "ERROR  Unable to read the filter 'x'" >&2; exit 3`)}
		out, err := r.Reload(ctx, "sshd")
		var re *fail2ban.RunError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v, want *RunError", err)
		}
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
			t.Errorf("err %v does not carry exit code 3", err)
		}
		if !strings.Contains(err.Error(), "Unable to read the filter 'x'") || !strings.Contains(out, "checking") || re.Output != out {
			t.Errorf("err = %q, output %q", err, out)
		}
		if re.TimedOut || errors.Is(err, fail2ban.ErrTimeout) {
			t.Errorf("failure counted as timeout")
		}
	})

	t.Run("missing program", func(t *testing.T) {
		r := fail2ban.Runner{ClientPath: filepath.Join(t.TempDir(), "no-such-client")}
		_, err := r.TestConfig(ctx)
		var re *fail2ban.RunError
		if !errors.As(err, &re) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want *RunError wrapping ErrNotExist", err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		r := fail2ban.Runner{ClientPath: script(t, `exec sleep 30`), Timeout: 200 * time.Millisecond}
		start := time.Now()
		_, err := r.Reload(ctx, "")
		var re *fail2ban.RunError
		if !errors.As(err, &re) || !re.TimedOut || !errors.Is(err, fail2ban.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want a timed-out RunError", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})

	t.Run("child keeps the output open", func(t *testing.T) {
		// Like a server started by "restart": the program exits, a child
		// it left behind still holds the output pipe.
		pidFile := filepath.Join(t.TempDir(), "child.pid")
		r := fail2ban.Runner{ClientPath: script(t, `echo started; sleep 30 & echo $! > '`+pidFile+`'; exit 0`), Timeout: 20 * time.Second}
		t.Cleanup(func() {
			if pid := daemonPid(pidFile); pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		})
		start := time.Now()
		out, err := r.Restart(ctx)
		if !strings.HasPrefix(out, "started") {
			t.Errorf("output %q, %v", out, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("waited %v for the child", d)
		}
	})
}

func TestRunnerRealServer(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd"}, sandbox.Jail{Name: "recidive", BanTime: "1w"})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	c := sb.Client()
	r := fail2ban.Runner{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir, Timeout: 30 * time.Second}

	t.Run("reload", func(t *testing.T) {
		if _, err := c.SetMaxRetry(ctx, "sshd", 9); err != nil {
			t.Fatal(err)
		}
		out, err := r.Reload(ctx, "sshd")
		if err != nil || out != "OK" {
			t.Fatalf("Reload(sshd) = %q, %v", out, err)
		}
		// The runtime change is gone: the configuration applies again.
		if n, err := c.MaxRetry(ctx, "sshd"); err != nil || n != 5 {
			t.Errorf("MaxRetry after reload = %d, %v; want 5", n, err)
		}
		// Stopped jails come back with a reload of all...
		if err := c.StopJail(ctx, "recidive"); err != nil {
			t.Fatal(err)
		}
		if out, err := r.Reload(ctx, ""); err != nil || out != "OK" {
			t.Fatalf("Reload() = %q, %v", out, err)
		}
		eventually(t, "recidive to run", func() bool { return c.RequireJail(ctx, "recidive") == nil })
		// ...or of the single jail (the fallback of starting a jail).
		if err := c.StopJail(ctx, "recidive"); err != nil {
			t.Fatal(err)
		}
		if err := c.StartJail(ctx, "recidive"); !errors.Is(err, fail2ban.ErrUnknownJail) {
			t.Fatalf("StartJail(stopped) = %v, want ErrUnknownJail", err)
		}
		if out, err := r.Reload(ctx, "recidive"); err != nil {
			t.Fatalf("Reload(recidive) = %q, %v", out, err)
		}
		eventually(t, "recidive to run", func() bool { return c.RequireJail(ctx, "recidive") == nil })
	})

	t.Run("reload unknown jail", func(t *testing.T) {
		_, err := r.Reload(ctx, "nosuch")
		var re *fail2ban.RunError
		if !errors.As(err, &re) || !strings.Contains(re.Output, "nosuch") {
			t.Errorf("Reload(nosuch) err = %v, want RunError naming the jail", err)
		}
	})

	t.Run("test config", func(t *testing.T) {
		out, err := r.TestConfig(ctx)
		if err != nil || !strings.Contains(out, "OK") {
			t.Fatalf("TestConfig = %q, %v", out, err)
		}
		local := filepath.Join(sb.ConfigDir, "jail.local")
		if err := os.WriteFile(local, []byte("[sshd]\nfilter = doesnotexist\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(local)
		out, err = r.TestConfig(ctx)
		var re *fail2ban.RunError
		if !errors.As(err, &re) || !strings.Contains(out, "doesnotexist") || !strings.Contains(err.Error(), "doesnotexist") {
			t.Errorf("TestConfig(broken) = %q, %v; want a RunError naming the filter", out, err)
		}
		// A reload with the broken file fails too and leaves the jail alone.
		if _, err := r.Reload(ctx, "sshd"); err == nil {
			t.Error("Reload with broken config succeeded")
		}
		if err := c.RequireJail(ctx, "sshd"); err != nil {
			t.Errorf("sshd after failed reload: %v", err)
		}
	})

	t.Run("restart", func(t *testing.T) {
		old := sb.Pid()
		out, err := r.Restart(ctx)
		// The new server is fail2ban's own daemon, not the sandbox's child:
		// stop it at the end whatever happens.
		pidFile := filepath.Join(sb.Dir, "fail2ban.pid")
		t.Cleanup(func() { stopDaemon(t, c, pidFile, old) })
		if err != nil {
			t.Fatalf("Restart = %q, %v", out, err)
		}
		eventually(t, "the restarted server", func() bool {
			st, err := c.Status(context.Background())
			return err == nil && slices.Equal(st.Jails, []string{"recidive", "sshd"})
		})
		if pid := daemonPid(pidFile); pid == 0 || pid == old {
			t.Errorf("server pid %d after restart (was %d)", pid, old)
		}
	})
}

// daemonPid reads the server's pid file; 0 when unreadable.
func daemonPid(pidFile string) int {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// stopDaemon shuts down a server started by "fail2ban-client restart" and
// kills it if it does not go away.
func stopDaemon(t *testing.T, c *fail2ban.Client, pidFile string, old int) {
	pid := daemonPid(pidFile)
	if pid == 0 || pid == old {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = c.Call(ctx, "stop")
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); <-tick.C {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); err == nil && strings.Contains(string(b), ") Z ") {
			return // exited, waiting to be reaped by init
		}
	}
	t.Errorf("restarted fail2ban-server %d did not stop; killing it", pid)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
