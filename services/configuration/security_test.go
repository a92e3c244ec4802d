package configuration

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"bangui/hosts"
	"bangui/models"
	"bangui/services"
	"bangui/services/internal/servicetest"
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

	c := New(servicetest.LocalHosts(hosts.LocalOptions{Socket: filepath.Join(root, "none.sock"), ConfigDir: root,
		LogDirs: []string{logs}, RegexPath: filepath.Join(root, "no-fail2ban-regex")}), nil, Options{})
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
		var verr *services.ValidationError
		if !errors.As(err, &verr) || len(verr.Fields[FieldRegexLogFile]) == 0 {
			t.Errorf("%s (%q): err = %v, want a message on the log file field", name, p, err)
		}
	}
	// Inside the folder the confinement lets the file through; the run then
	// fails only because the (absent) fail2ban-regex cannot start.
	for _, p := range []string{filepath.Join(logs, "auth.log"), filepath.Join(logs, "alias.log")} {
		_, err := c.TestRegex(ctx, models.LocalHost, form(p))
		var verr *services.ValidationError
		if errors.As(err, &verr) && len(verr.Fields[FieldRegexLogFile]) > 0 {
			t.Errorf("%s inside the allowed folder refused: %v", p, verr.Fields)
		}
		if err == nil {
			t.Errorf("%s: ran a regex tester that does not exist", p)
		}
	}
}
