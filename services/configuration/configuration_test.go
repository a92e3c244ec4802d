package configuration

import (
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/lang"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/models"
	"bangui/services"
	"bangui/services/internal/servicetest"
)

// adminFiles are files an administrator wrote in the sandbox's
// configuration directory before BanGUI touched it.
var adminFiles = map[string]string{
	"jail.local":          "# The admin's own overrides. Hands off.\n[DEFAULT]\nignoreip = 127.0.0.1/8 ::1\n\n[sshd]\n# kept for later\nenabled = false\n",
	"jail.d/admin.conf":   "[alpha]\n# tuned by hand\nfindtime = 15m\n",
	"jail.d/gamma.local":  "# gamma: written by the admin\n[gamma]\nmaxretry = 4   ; four strikes\nbantime = 20m\n",
	"filter.d/sshd.local": "# no changes yet\n[Definition]\n",
}

// configSandbox starts fail2ban with three jails (alpha and gamma
// running, beta disabled), adds the admin's files and returns the use case.
func configSandbox(t *testing.T) (*Service, *sandbox.Sandbox) {
	t.Helper()
	sb := sandboxtest.Start(t,
		sandbox.Jail{Name: "alpha", Filter: "sshd", MaxRetry: 5},
		sandbox.Jail{Name: "beta", Filter: "sshd", Disabled: true},
		sandbox.Jail{Name: "gamma", Filter: "sshd", MaxRetry: 4},
	)
	for name, text := range adminFiles {
		if err := os.WriteFile(filepath.Join(sb.ConfigDir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir, LogDirs: []string{sb.Dir}})
	c := New(reg, services.NewStatusProbe(reg), Options{})
	// The admin's files only take effect with a reload.
	if err := c.ReloadAll(context.Background(), models.LocalHost); err != nil {
		t.Fatal(err)
	}
	return c, sb
}

// rel returns p relative to dir with slashes.
func rel(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

// snapshot hashes every file below dir (backups included).
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			out[rel(dir, p)] = sha256.Sum256([]byte("link:" + target))
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel(dir, p)] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// changedFiles lists the files that differ between two snapshots.
func changedFiles(a, b map[string][32]byte) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func get(t *testing.T, sb *sandbox.Sandbox, args ...string) any {
	t.Helper()
	v, err := sb.Client().Call(context.Background(), args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

func running(t *testing.T, sb *sandbox.Sandbox) []string {
	t.Helper()
	st, err := sb.Client().Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Jails
}

func jailFormOf(t *testing.T, c *Service, name string) models.JailForm {
	t.Helper()
	d, err := c.Jail(context.Background(), models.LocalHost, name)
	if err != nil {
		t.Fatal(err)
	}
	return d.Form
}

func TestSaveJailMaxRetryAgainstRealFail2ban(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	before := snapshot(t, sb.ConfigDir)

	form := jailFormOf(t, c, "alpha")
	if form.MaxRetry != "5" || form.FindTime != "15m" {
		t.Fatalf("form before: maxretry %q findtime %q", form.MaxRetry, form.FindTime)
	}
	form.MaxRetry = "7"
	form.BanTime = "2h"
	start := time.Now()
	res, err := c.SaveJail(ctx, models.LocalHost, "alpha", form)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("write, fail2ban-client -t, reload and verify took %v", time.Since(start).Round(time.Millisecond))
	if !res.OK || !res.Changed || res.File != "jail.d/alpha.local" {
		t.Fatalf("result %+v", res)
	}
	if got := get(t, sb, "get", "alpha", "maxretry"); got != int64(7) {
		t.Fatalf("get alpha maxretry = %v, want 7", got)
	}
	if got := get(t, sb, "get", "alpha", "bantime"); got != int64(7200) {
		t.Fatalf("get alpha bantime = %v, want 7200", got)
	}
	b, err := os.ReadFile(filepath.Join(sb.ConfigDir, "jail.d", "alpha.local"))
	if err != nil || string(b) != "[alpha]\nbantime = 2h\nmaxretry = 7\n" {
		t.Fatalf("jail.d/alpha.local = %q, %v", b, err)
	}
	if got := changedFiles(before, snapshot(t, sb.ConfigDir)); !slices.Equal(got, []string{"jail.d/alpha.local"}) {
		t.Fatalf("files changed: %q; only jail.d/alpha.local may change", got)
	}
	// The page shows where each value comes from now.
	d, err := c.Jail(ctx, models.LocalHost, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Settings {
		if s.Name == "maxretry" && (s.Source.File != "jail.d/alpha.local" || len(s.Overridden) != 1 || s.Overridden[0].File != "jail.conf") {
			t.Fatalf("maxretry setting %+v", s)
		}
		if s.Name == "findtime" && s.Source.File != "jail.d/admin.conf" {
			t.Fatalf("findtime setting %+v", s)
		}
	}
	// Saving the same values again changes nothing.
	res, err = c.SaveJail(ctx, models.LocalHost, "alpha", d.Form)
	if err != nil || res.Changed {
		t.Fatalf("unchanged save: %+v, %v", res, err)
	}
}

// TestBrokenRegexIsRolledBack: -t accepts a pattern Python cannot compile;
// fail2ban refuses it at the reload, and BanGUI must restore the admin's
// file byte for byte and have the jail run with its old values.
func TestBrokenRegexIsRolledBack(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	before := snapshot(t, sb.ConfigDir)
	form := jailFormOf(t, c, "gamma")
	form.MaxRetry = "9"
	form.FailRegex = "Failed (password for .* from <HOST>"
	start := time.Now()
	res, err := c.SaveJail(ctx, models.LocalHost, "gamma", form)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("write, test, failed reload and rollback took %v", time.Since(start).Round(time.Millisecond))
	if res.OK || !res.RolledBack || !res.RollbackFailure.IsZero() {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(res.Failure.Error(), "could not reload the jail gamma") ||
		!strings.Contains(res.Failure.Error(), "Unable to compile regular expression: missing ), unterminated subpattern") {
		t.Fatalf("failure %q", res.Failure.Error())
	}
	// In German, BanGUI's words are translated and fail2ban's kept apart.
	if got := res.Failure.In(lang.Get("de")); !strings.HasPrefix(got, "fail2ban konnte die Jail gamma nicht neu laden: Unable to compile regular expression") ||
		!strings.HasPrefix(res.Output, "Unable to compile regular expression") || !strings.HasSuffix(got, res.Output) {
		t.Fatalf("failure in German %q, fail2ban's words %q", got, res.Output)
	}
	if got := changedFiles(before, snapshot(t, sb.ConfigDir)); len(got) != 0 {
		t.Fatalf("files differ after the rollback: %q", got)
	}
	if !slices.Contains(running(t, sb), "gamma") {
		t.Fatal("gamma is not running after the rollback")
	}
	if got := get(t, sb, "get", "gamma", "maxretry"); got != int64(4) {
		t.Fatalf("gamma runs with maxretry %v, want the old 4", got)
	}
	if got := get(t, sb, "get", "gamma", "bantime"); got != int64(1200) {
		t.Fatalf("gamma runs with bantime %v, want the old 1200", got)
	}
}

// TestFailedConfigTestIsRolledBack: a log path that does not exist makes
// fail2ban-client -t fail; nothing is reloaded and the file comes back.
func TestFailedConfigTestIsRolledBack(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	before := snapshot(t, sb.ConfigDir)
	form := jailFormOf(t, c, "alpha")
	form.MaxRetry = "8"
	form.LogPath = "/nonexistent/bangui-test.log"
	res, err := c.SaveJail(ctx, models.LocalHost, "alpha", form)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !res.RolledBack || !strings.Contains(res.Failure.Error(), "fail2ban-client -t") ||
		!strings.Contains(res.Failure.Error(), "Have not found any log file for alpha jail") {
		t.Fatalf("result %+v", res)
	}
	if len(res.Reloaded) != 0 {
		t.Fatalf("reloaded %v after a failed test", res.Reloaded)
	}
	if got := changedFiles(before, snapshot(t, sb.ConfigDir)); len(got) != 0 {
		t.Fatalf("files differ after the rollback: %q", got)
	}
	if got := get(t, sb, "get", "alpha", "maxretry"); got != int64(5) {
		t.Fatalf("alpha runs with maxretry %v, want the old 5", got)
	}
}

func TestSaveJailRefusesBadInputWithoutTouchingFiles(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	before := snapshot(t, sb.ConfigDir)
	cases := map[string]func(f *models.JailForm){
		FieldBanTime:        func(f *models.JailForm) { f.BanTime = "__import__('os').system('id')" },
		FieldFindTime:       func(f *models.JailForm) { f.FindTime = "10m + 1" },
		FieldMaxRetry:       func(f *models.JailForm) { f.MaxRetry = "3\nenabled = false" },
		FieldFailRegex:      func(f *models.JailForm) { f.FailRegex = "^a <HOST> ;comment" },
		FieldDatePattern:    func(f *models.JailForm) { f.DatePattern = "100% wrong" },
		FieldLogPath:        func(f *models.JailForm) { f.LogPath = "relative.log" },
		FieldIncFormula:     func(f *models.JailForm) { f.IncFormula = "__import__('os')" },
		FieldIncMultipliers: func(f *models.JailForm) { f.IncMultipliers = "1 2 x" },
		FieldLogEncoding:    func(f *models.JailForm) { f.LogEncoding = "utf 8" },
	}
	for field, mutate := range cases {
		form := jailFormOf(t, c, "alpha")
		mutate(&form)
		_, err := c.SaveJail(ctx, models.LocalHost, "alpha", form)
		var verr *services.ValidationError
		if !errors.As(err, &verr) || len(verr.In(lang.Get("en"))[field]) == 0 {
			t.Errorf("%s: %v, want a message for %s", field, err, field)
		}
	}
	if got := changedFiles(before, snapshot(t, sb.ConfigDir)); len(got) != 0 {
		t.Fatalf("files changed by refused input: %q", got)
	}
	// A value set again by a later file cannot be changed in BanGUI's file.
	if err := os.WriteFile(filepath.Join(sb.ConfigDir, "jail.d", "zz-admin.local"), []byte("[alpha]\nmaxretry = 6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before = snapshot(t, sb.ConfigDir)
	form := jailFormOf(t, c, "alpha")
	form.MaxRetry = "2"
	_, err := c.SaveJail(ctx, models.LocalHost, "alpha", form)
	var verr *services.ValidationError
	if !errors.As(err, &verr) || !strings.Contains(strings.Join(verr.In(lang.Get("en"))[FieldMaxRetry], " "), "jail.d/zz-admin.local sets maxretry again") {
		t.Fatalf("overridden value: %v", err)
	}
	if got := changedFiles(before, snapshot(t, sb.ConfigDir)); len(got) != 0 {
		t.Fatalf("files changed by refused input: %q", got)
	}
}

func TestActivateAndDeactivateJail(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	list, err := c.Jails(ctx, models.LocalHost)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, j := range list.Jails {
		states[j.Name] = map[bool]string{true: "running", false: "stopped"}[j.Running] + "/" + map[bool]string{true: "enabled", false: "disabled"}[j.Enabled]
	}
	if states["alpha"] != "running/enabled" || states["beta"] != "stopped/disabled" || states["sshd"] != "stopped/disabled" {
		t.Fatalf("states %v", states)
	}
	res, err := c.SetJailEnabled(ctx, models.LocalHost, "beta", true)
	if err != nil || !res.OK {
		t.Fatalf("activate: %+v, %v", res, err)
	}
	if !slices.Contains(running(t, sb), "beta") {
		t.Fatal("beta does not run after activation")
	}
	res, err = c.SetJailEnabled(ctx, models.LocalHost, "beta", false)
	if err != nil || !res.OK {
		t.Fatalf("deactivate: %+v, %v", res, err)
	}
	if slices.Contains(running(t, sb), "beta") {
		t.Fatal("beta still runs after deactivation")
	}
	b, _ := os.ReadFile(filepath.Join(sb.ConfigDir, "jail.d", "beta.local"))
	if string(b) != "[beta]\nenabled = false\n" {
		t.Fatalf("jail.d/beta.local = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(sb.ConfigDir, "jail.d", "beta.local.bak")); string(b) != "[beta]\nenabled = true\n" {
		t.Fatalf("backup = %q", b)
	}
}

func TestCreateJail(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	logFile := filepath.Join(sb.Dir, "log", "delta.log")
	if err := os.WriteFile(logFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateJail(ctx, models.LocalHost, models.NewJailForm{Name: "alpha", Filter: "nope", LogPath: ""})
	var verr *services.ValidationError
	if !errors.As(err, &verr) || len(verr.In(lang.Get("en"))[FieldJailName]) == 0 || len(verr.In(lang.Get("en"))[FieldFilter]) == 0 || len(verr.In(lang.Get("en"))[FieldLogPath]) == 0 {
		t.Fatalf("bad form: %v", err)
	}
	res, err := c.CreateJail(ctx, models.LocalHost, models.NewJailForm{Name: "delta", Filter: "sshd", LogPath: logFile, MaxRetry: "3", BanTime: "1d", Enabled: true})
	if err != nil || !res.OK {
		t.Fatalf("create: %+v, %v", res, err)
	}
	if get(t, sb, "get", "delta", "maxretry") != int64(3) || get(t, sb, "get", "delta", "bantime") != int64(86400) {
		t.Fatal("delta does not run with its settings")
	}
}

func TestSaveFilterChecksAndRollsBack(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	d, err := c.Item(ctx, models.LocalHost, "filter", "sshd")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.UsedBy, []string{"alpha", "gamma"}) {
		t.Fatalf("sshd used by %v", d.UsedBy)
	}
	before := snapshot(t, sb.ConfigDir)
	f := d.Filter
	f.IgnoreRegex = "^ignored (<HOST>"
	res, err := c.SaveItem(ctx, models.LocalHost, "filter", "sshd", f, models.ActionForm{})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !res.RolledBack || !strings.Contains(res.Failure.Error(), "fail2ban-regex could not load the filter sshd") {
		t.Fatalf("result %+v", res)
	}
	if got := changedFiles(before, snapshot(t, sb.ConfigDir)); len(got) != 0 {
		t.Fatalf("files differ after the rollback: %q", got)
	}
	f.IgnoreRegex = "^ignored <HOST>$"
	res, err = c.SaveItem(ctx, models.LocalHost, "filter", "sshd", f, models.ActionForm{})
	if err != nil || !res.OK || !slices.Equal(res.Reloaded, []string{"alpha", "gamma"}) {
		t.Fatalf("save: %+v, %v", res, err)
	}
	if got := get(t, sb, "get", "alpha", "ignoreregex"); len(got.([]any)) != 1 {
		t.Fatalf("alpha ignoreregex = %v", got)
	}
	res, err = c.CreateItem(ctx, models.LocalHost, "filter", "my-app", models.FilterForm{FailRegex: "^login failed from <HOST>$"}, models.ActionForm{})
	if err != nil || !res.OK {
		t.Fatalf("create filter: %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(sb.ConfigDir, "filter.d", "my-app.local")); err != nil {
		t.Fatal(err)
	}
}

func TestSaveActionInit(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	d, err := c.Item(ctx, models.LocalHost, "action", "dummy")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(d.UsedBy, "alpha") || d.Action.ActionBan == "" {
		t.Fatalf("dummy: used by %v, actionban %q", d.UsedBy, d.Action.ActionBan)
	}
	a := d.Action
	a.NewKey, a.NewValue = "note", "set by BanGUI"
	res, err := c.SaveItem(ctx, models.LocalHost, "action", "dummy", models.FilterForm{}, a)
	if err != nil || !res.OK {
		t.Fatalf("save: %+v, %v", res, err)
	}
	b, _ := os.ReadFile(filepath.Join(sb.ConfigDir, "action.d", "dummy.local"))
	if string(b) != "[Init]\nnote = set by BanGUI\n" {
		t.Fatalf("action.d/dummy.local = %q", b)
	}
	// A new action needs its ban command; commands with a comment-like
	// "; " are refused because fail2ban would cut them there.
	_, err = c.CreateItem(ctx, models.LocalHost, "action", "notify", models.FilterForm{}, models.ActionForm{ActionStart: "touch /tmp/x"})
	var verr *services.ValidationError
	if !errors.As(err, &verr) || len(verr.In(lang.Get("en"))["actionban"]) == 0 {
		t.Fatalf("action without actionban: %v", err)
	}
	_, err = c.CreateItem(ctx, models.LocalHost, "action", "notify", models.FilterForm{}, models.ActionForm{ActionBan: "logger banned <ip> ; true"})
	if !errors.As(err, &verr) || !strings.Contains(verr.In(lang.Get("en"))["actionban"][0], "comment") {
		t.Fatalf("command with an inline comment: %v", err)
	}
	res, err = c.CreateItem(ctx, models.LocalHost, "action", "notify", models.FilterForm{},
		models.ActionForm{ActionBan: "logger -t bangui banned <ip>", ActionUnban: "logger -t bangui unbanned <ip>"})
	if err != nil || !res.OK {
		t.Fatalf("create action: %+v, %v", res, err)
	}
	b, _ = os.ReadFile(filepath.Join(sb.ConfigDir, "action.d", "notify.local"))
	if string(b) != "[Definition]\nactionban = logger -t bangui banned <ip>\nactionunban = logger -t bangui unbanned <ip>\n" {
		t.Fatalf("action.d/notify.local = %q", b)
	}
}

// TestRawEditorRefusesPathTricks: every trick gets a clear message and no
// file is touched.
func TestRawEditorRefusesPathTricks(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	outside := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "x.local"), filepath.Join(sb.ConfigDir, "jail.d", "escape.local")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(sb.ConfigDir, "jail.d", "dir.local")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, sb.ConfigDir)
	names := []string{
		"../jail.local", "jail.d/../../etc/passwd", "/etc/fail2ban/jail.local", "jail.d/x.local\x00",
		"..%2Fjail.local", "jail.d%2Fx.local", "..%252Fjail.local", "jail.d/sub/x.local", "jail.conf",
		"jail.d/escape.local", "jail.d/dir.local", `jail.d\x.local`, "paths-debian.conf",
	}
	for _, n := range names {
		_, err := c.SaveRaw(ctx, models.LocalHost, n, "[x]\na = 1\n")
		var verr *services.ValidationError
		if !errors.As(err, &verr) || len(verr.In(lang.Get("en"))[FieldRawFile]) == 0 || verr.In(lang.Get("en"))[FieldRawFile][0] == "" {
			t.Errorf("%q: %v, want a message about the file", n, err)
		}
		if _, err := c.ReadRaw(context.Background(), models.LocalHost, n); err == nil {
			t.Errorf("%q could be read", n)
		}
	}
	_, err := c.SaveRaw(ctx, models.LocalHost, "jail.d/big.local", "[x]\n"+strings.Repeat("# padding\n", 513*1024/10))
	if !errors.Is(err, ErrRawTooLarge) {
		t.Fatalf("513 KB: %v", err)
	}
	if got := changedFiles(before, snapshot(t, sb.ConfigDir)); len(got) != 0 {
		t.Fatalf("files changed: %q", got)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatal("a file was written outside the configuration directory")
	}
}

func TestRawEditorSavesTestsAndRollsBack(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	before := snapshot(t, sb.ConfigDir)
	// Parses, but fails fail2ban's test (a missing reference).
	res, err := c.SaveRaw(ctx, models.LocalHost, "jail.d/gamma.local", "[gamma]\nmaxretry = %(nope)s\n")
	if err != nil || res.OK || !res.RolledBack {
		t.Fatalf("broken reference: %+v, %v", res, err)
	}
	if got := changedFiles(before, snapshot(t, sb.ConfigDir)); len(got) != 0 {
		t.Fatalf("files differ after the rollback: %q", got)
	}
	_, err = c.SaveRaw(ctx, models.LocalHost, "jail.d/gamma.local", "maxretry = 3\n")
	var verr *services.ValidationError
	if !errors.As(err, &verr) || !strings.Contains(verr.In(lang.Get("en"))[FieldRawContent][0], "section header") {
		t.Fatalf("unparsable text: %v", err)
	}
	res, err = c.SaveRaw(ctx, models.LocalHost, "jail.d/new.local", "[alpha]\nmaxretry = 11\n")
	if err != nil || !res.OK {
		t.Fatalf("save: %+v, %v", res, err)
	}
	f, err := c.ReadRaw(context.Background(), models.LocalHost, "jail.d/new.local")
	if err != nil || !f.Exists || f.Content != "[alpha]\nmaxretry = 11\n" {
		t.Fatalf("read back: %+v, %v", f, err)
	}
	files, err := c.RawFiles(context.Background(), models.LocalHost)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	if !slices.Contains(names, "jail.d/new.local") || !slices.Contains(names, "jail.local") || !slices.Contains(names, "filter.d/sshd.local") {
		t.Fatalf("raw files %q", names)
	}
}

func TestServerSettings(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	s, err := c.Server(ctx, models.LocalHost)
	if err != nil {
		t.Fatal(err)
	}
	if s.LogLevel != "INFO" || s.DBFile != sb.DBFile || s.DBPurgeAge != 24*time.Hour || s.DBMaxMatches != 10 {
		t.Fatalf("settings %+v", s)
	}
	form := ServerFormOf(s)
	form.LogLevel, form.DBPurgeAge, form.DBMaxMatches = "NOTICE", "2d", "20"
	res, err := c.SaveServer(ctx, models.LocalHost, form)
	if err != nil || !res.OK {
		t.Fatalf("save: %+v, %v", res, err)
	}
	if get(t, sb, "get", "loglevel") != "NOTICE" || get(t, sb, "get", "dbpurgeage") != int64(172800) || get(t, sb, "get", "dbmaxmatches") != int64(20) {
		t.Fatal("fail2ban does not run with the new settings")
	}
	b, _ := os.ReadFile(filepath.Join(sb.ConfigDir, "fail2ban.local"))
	if string(b) != "[Definition]\nloglevel = NOTICE\ndbpurgeage = 2d\ndbmaxmatches = 20\n" {
		t.Fatalf("fail2ban.local = %q", b)
	}
	form.DBPurgeAge = "1d + 1"
	_, err = c.SaveServer(ctx, models.LocalHost, form)
	var verr *services.ValidationError
	if !errors.As(err, &verr) || len(verr.In(lang.Get("en"))[FieldDBPurgeAge]) == 0 {
		t.Fatalf("arithmetic purge age: %v", err)
	}
}

func TestLogViewerReadsOnlyAllowedFiles(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	v, err := c.Log(ctx, models.LocalHost, 5, "")
	if err != nil || !v.Error.IsZero() || v.Path != sb.LogFile || len(v.Lines) != 5 || !v.Truncated {
		t.Fatalf("log view %+v", v)
	}
	v, err = c.Log(ctx, models.LocalHost, 1000, "reloaded")
	if err != nil || !v.Error.IsZero() || len(v.Lines) == 0 {
		t.Fatalf("filtered view %+v", v)
	}
	for _, l := range v.Lines {
		if !strings.Contains(strings.ToLower(l.Text), "reloaded") || l.Level != "info" {
			t.Fatalf("line %+v", l)
		}
	}
	strict := New(servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir}), nil, Options{})
	if v, err := strict.Log(ctx, models.LocalHost, 10, ""); err != nil || v.Error.IsZero() || !strings.Contains(v.Error.Error(), "--log-dirs") || len(v.Lines) != 0 {
		t.Fatalf("log outside /var/log: %+v", v)
	}
}

func TestRegexTesterOnPastedLinesAndLogFiles(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	rep, err := c.TestRegex(ctx, models.LocalHost, models.RegexForm{
		FailRegex: `Failed password for \S+ from <HOST>`,
		Lines:     "Jan  2 03:04:05 host sshd[1]: Failed password for root from 192.0.2.1 port 22\nsomething else\n",
	})
	if err != nil || rep.Matched != 1 || rep.Missed != 1 || rep.Lines[0].Host != "192.0.2.1" {
		t.Fatalf("pasted: %+v, %v", rep, err)
	}
	logFile := sb.LogPath("alpha")
	if err := os.WriteFile(logFile, []byte("2024-01-02 03:04:05 sshd[1]: Failed password for root from 192.0.2.9 port 22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err = c.TestRegex(ctx, models.LocalHost, models.RegexForm{FailRegex: `Failed password for \S+ from <HOST>`, LogFile: logFile, LogLines: "10"})
	if err != nil || rep.Matched != 1 || rep.Lines[0].Host != "192.0.2.9" {
		t.Fatalf("log file: %+v, %v", rep, err)
	}
	_, err = c.TestRegex(ctx, models.LocalHost, models.RegexForm{FailRegex: `<HOST>`, LogFile: "/etc/passwd"})
	var verr *services.ValidationError
	if !errors.As(err, &verr) || len(verr.In(lang.Get("en"))[FieldRegexLogFile]) == 0 {
		t.Fatalf("/etc/passwd: %v", err)
	}
	_, err = c.TestRegex(ctx, models.LocalHost, models.RegexForm{FailRegex: `Failed (`, Lines: "x"})
	if !errors.As(err, &verr) || !strings.Contains(verr.In(lang.Get("en"))[FieldFailRegex][0], "Unable to compile") {
		t.Fatalf("broken regex: %v", err)
	}
}

func TestRestartWithConfiguredCommand(t *testing.T) {
	_, sb := configSandbox(t)
	ok := New(servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir, RestartCommand: []string{"true"}}),
		nil, Options{RestartWait: 2 * time.Second})
	if took, err := ok.Restart(context.Background(), models.LocalHost); err != nil || took > 2*time.Second {
		t.Fatalf("restart: %v, %v", took, err)
	}
	bad := New(servicetest.LocalHosts(hosts.LocalOptions{Socket: filepath.Join(sb.Dir, "gone.sock"), ConfigDir: sb.ConfigDir, RestartCommand: []string{"true"}}),
		nil, Options{RestartWait: 500 * time.Millisecond})
	de := lang.Get("de")
	if _, err := bad.Restart(context.Background(), models.LocalHost); !errors.Is(err, ErrRestartNoAnswer) ||
		lang.Of(err).In(de) != "fail2ban hat nach dem Neustart nicht innerhalb von 500ms geantwortet" {
		t.Fatalf("no answer: %v (in German: %q)", err, lang.Of(err).In(de))
	}
	failing := New(servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir, RestartCommand: []string{"false"}}), nil, Options{})
	_, err := failing.Restart(context.Background(), models.LocalHost)
	var cmdErr *hosts.RestartCommandError
	if err == nil || !strings.Contains(err.Error(), "restart command false failed") || !errors.As(err, &cmdErr) {
		t.Fatalf("failing command: %v", err)
	}
	if got := lang.Of(err).In(de); !strings.HasPrefix(got, "der Neustart-Befehl false ist fehlgeschlagen: ") {
		t.Fatalf("failing command in German: %q", got)
	}
}

// TestConcurrentEditsAreSerialised: two edits of different jails at the
// same time both apply (the directory lock orders them) and each jail
// ends with its own value.
func TestConcurrentEditsAreSerialised(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	errs := make(chan error, 2)
	for name, n := range map[string]string{"alpha": "11", "gamma": "12"} {
		go func() {
			form := jailFormOf(t, c, name)
			form.MaxRetry = n
			res, err := c.SaveJail(ctx, models.LocalHost, name, form)
			if err == nil && !res.OK {
				err = errors.New(name + ": " + res.Failure.Error())
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if get(t, sb, "get", "alpha", "maxretry") != int64(11) || get(t, sb, "get", "gamma", "maxretry") != int64(12) {
		t.Fatal("an edit was lost")
	}
}
