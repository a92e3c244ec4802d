package services

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bangui/hosts"
	"bangui/models"
)

// TestRegexTesterLogFileConfinedToLogDirs: the regex tester reads a log file
// only inside the allowed folders. A path outside, a ".." path that leaves
// the folder, a symbolic link inside it that points outside, a sibling
// folder that merely shares the name's prefix, a relative path and a folder
// are each refused with a message on the log-file field, before
// fail2ban-regex runs; a file inside (also through a link that stays
// inside) gets past the check.
func TestRegexTesterLogFileConfinedToLogDirs(t *testing.T) {
	root := t.TempDir()
	logs := filepath.Join(root, "logs")
	outside := filepath.Join(root, "private")
	sibling := filepath.Join(root, "logs-evil")
	for _, d := range []string{logs, outside, sibling, filepath.Join(logs, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	line := "Dec  1 10:00:00 host sshd[1]: Failed password for root from 192.0.2.5 port 22 ssh2\n"
	write := func(p string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(logs, "auth.log"))
	write(filepath.Join(outside, "secret.log"))
	write(filepath.Join(sibling, "auth.log"))
	if err := os.Symlink(filepath.Join(outside, "secret.log"), filepath.Join(logs, "escape.log")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(logs, "escape-dir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("auth.log", filepath.Join(logs, "alias.log")); err != nil {
		t.Fatal(err)
	}

	c := NewConfiguration(localHosts(hosts.LocalOptions{Socket: filepath.Join(root, "none.sock"), ConfigDir: root,
		LogDirs: []string{logs}, RegexPath: filepath.Join(root, "no-fail2ban-regex")}), nil, ConfigOptions{})
	ctx := context.Background()
	form := func(p string) models.RegexForm {
		return models.RegexForm{FailRegex: `Failed password for .* from <HOST>`, LogFile: p, LogLines: "10"}
	}
	for name, p := range map[string]string{
		"outside":               filepath.Join(outside, "secret.log"),
		"dot-dot":               logs + "/../private/secret.log",
		"link out":              filepath.Join(logs, "escape.log"),
		"through a folder link": filepath.Join(logs, "escape-dir", "secret.log"),
		"prefix sibling":        filepath.Join(sibling, "auth.log"),
		"relative":              "logs/auth.log",
		"a folder":              filepath.Join(logs, "sub"),
		"NUL":                   filepath.Join(logs, "auth.log") + "\x00",
	} {
		_, err := c.TestRegex(ctx, models.LocalHost, form(p))
		var verr *ValidationError
		if !errors.As(err, &verr) || len(verr.Fields[FieldRegexLogFile]) == 0 {
			t.Errorf("%s (%q): err = %v, want a message on the log file field", name, p, err)
		}
	}
	// Inside the folder the confinement lets the file through; the run then
	// fails only because the (absent) fail2ban-regex cannot start.
	for _, p := range []string{filepath.Join(logs, "auth.log"), filepath.Join(logs, "alias.log")} {
		_, err := c.TestRegex(ctx, models.LocalHost, form(p))
		var verr *ValidationError
		if errors.As(err, &verr) && len(verr.Fields[FieldRegexLogFile]) > 0 {
			t.Errorf("%s inside the allowed folder refused: %v", p, verr.Fields)
		}
		if err == nil {
			t.Errorf("%s: ran a regex tester that does not exist", p)
		}
	}
}

// TestLoginThrottleDelaysAndForgets: consecutive failures of one client wait
// 0.5, 1, 2, 4, then 5 s at most; a retry inside the wait is told how long
// to wait; other clients are unaffected; success, or 15 quiet minutes,
// forgets the failures.
func TestLoginThrottleDelaysAndForgets(t *testing.T) {
	th := NewLoginThrottle()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if got := th.Fail("a", now); got != w {
			t.Fatalf("failure %d: delay %s, want %s", i+1, got, w)
		}
		if got := th.Wait("a", now.Add(w/2)); got != w-w/2 {
			t.Fatalf("failure %d: wait halfway %s, want %s", i+1, got, w-w/2)
		}
		if got := th.Wait("b", now); got != 0 {
			t.Fatalf("another client waits %s", got)
		}
		now = now.Add(w)
		if got := th.Wait("a", now); got != 0 {
			t.Fatalf("failure %d: still waiting %s after the delay", i+1, got)
		}
	}
	th.Reset("a")
	if got := th.Fail("a", now); got != want[0] {
		t.Fatalf("after a success the first failure waits %s", got)
	}
	th.Fail("a", now.Add(time.Second))
	if got := th.Fail("a", now.Add(time.Second+16*time.Minute)); got != want[0] {
		t.Fatalf("after 16 quiet minutes a failure waits %s, want %s", got, want[0])
	}
	if !strings.Contains(LoginDelay(99).String(), "5s") {
		t.Fatalf("LoginDelay(99) = %s", LoginDelay(99))
	}
}
