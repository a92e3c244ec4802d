package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func loadFixture(t *testing.T, stack string) *Set {
	t.Helper()
	s, err := Load(filepath.Join("testdata", "merge", "stack", "conf"), stack, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSourcesNameTheFileThatSetEachValue checks what the panel shows next
// to every value: the file and line that set it last and what it replaced.
func TestSourcesNameTheFileThatSetEachValue(t *testing.T) {
	s := loadFixture(t, "jail")
	cases := []struct {
		section, option string
		want            Source
		inherited       bool
		overrides       []Source
	}{
		{"sshd", "maxretry", Source{"jail.d/z.local", 2}, false,
			[]Source{{"jail.d/a.conf", 3}, {"jail.d/b.conf", 2}, {"jail.d/a.local", 2}}},
		{"sshd", "bantime", Source{"jail.local", 5}, false, nil},
		{"sshd", "findtime", Source{"jail.d/a.local", 3}, false, nil},
		{"sshd", "enabled", Source{"jail.d/a.conf", 2}, false, []Source{{"jail.conf", 35}}},
		{"apache-auth", "maxretry", Source{"jail-after.conf", 2}, false, nil},
		{"apache-auth", "bantime", Source{"jail.conf", 8}, true, nil},
		{"apache-auth", "banaction", Source{"jail.local", 2}, true, []Source{{"jail.conf", 15}}},
		{"sshd", "logpath", Source{"jail.conf", 37}, false, nil},
		{DefaultSection, "syslog_authpriv", Source{"paths-overrides.local", 6}, false, []Source{{"paths-common.conf", 5}}},
		{DefaultSection, "sshd_backend", Source{"paths-common.local", 2}, false, []Source{{"paths-common.conf", 7}}},
	}
	for _, c := range cases {
		v, inh, ok := s.Lookup(c.section, c.option)
		if !ok {
			t.Errorf("[%s] %s not found", c.section, c.option)
			continue
		}
		if v.Source != c.want || inh != c.inherited || !reflect.DeepEqual(v.Overrides, c.overrides) {
			t.Errorf("[%s] %s: source %v inherited %v overrides %v; want %v %v %v",
				c.section, c.option, v.Source, inh, v.Overrides, c.want, c.inherited, c.overrides)
		}
	}
	if got := s.SectionSource("new-jail"); got != (Source{"jail.d/z.local", 4}) {
		t.Errorf("new-jail opened at %v", got)
	}
}

func TestJailsListEverySectionWithEnabledAndFilter(t *testing.T) {
	s := loadFixture(t, "jail")
	var got []string
	for _, j := range s.Jails() {
		e := "off"
		if j.Enabled {
			e = "on"
		}
		if j.Err != nil {
			e = "error"
		}
		got = append(got, j.Name+":"+e+":"+j.Filter)
	}
	want := []string{"sshd:on:", "apache-auth:on:apache-auth", "missing-ref:error:", "bad-syntax:off:", "sect-ref:off:", "new-jail:on:sshd"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("jails\n got %q\nwant %q", got, want)
	}
}

func TestLoadOverlayChecksAChangeBeforeWriting(t *testing.T) {
	dir := filepath.Join("testdata", "merge", "stack", "conf")
	s, err := Load(dir, "jail", Options{Overlay: map[string][]byte{
		"jail.d/zz.local": []byte("[sshd]\nmaxretry = 9\n"),
		"jail.d/z.local":  nil, // as if deleted
	}})
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := s.Lookup("sshd", "maxretry")
	if v.Raw != "9" || v.Source.File != "jail.d/zz.local" {
		t.Fatalf("maxretry %q from %v", v.Raw, v.Source)
	}
	if s.HasSection("new-jail") {
		t.Fatal("the overlay's deleted file was read")
	}
}

func TestLoadSkipsBrokenFilesAndReportsThem(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("jail.conf", "[DEFAULT]\nmaxretry = 5\n[ok]\nenabled = true\n")
	write("jail.d/dup.conf", "[x]\na = 1\na = 2\n")
	write("jail.d/header.conf", "a = 1\n")
	write("jail.d/junk.conf", "[x]\njust words\n")
	write("jail.d/latin1.conf", "[x]\na = caf\xe9\n")
	write("jail.d/dupsect.local", "[x]\n[x]\n")
	s, err := Load(dir, "jail", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, p := range s.Problems {
		msgs = append(msgs, p.Error())
	}
	want := []string{
		`jail.d/dup.conf, line 3: option "a" appears twice in section [x]`,
		"jail.d/header.conf, line 1: the file does not start with a section header such as [Definition]",
		`jail.d/junk.conf, line 2: "just words" is neither a section header nor an option (name = value)`,
		"jail.d/latin1.conf: the file is not valid UTF-8 text",
		"jail.d/dupsect.local, line 2: section [x] appears twice",
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Fatalf("problems\n got %q\nwant %q", msgs, want)
	}
	if !reflect.DeepEqual(s.Files, []string{"jail.conf"}) {
		t.Fatalf("files read: %q", s.Files)
	}
	if v, err := s.Get("ok", "maxretry"); err != nil || v != "5" {
		t.Fatalf("ok maxretry = %q, %v", v, err)
	}
}

func TestGetErrors(t *testing.T) {
	s := loadFixture(t, "jail")
	if _, err := s.Get("nosuch", "x"); !errors.Is(err, ErrNoSection) {
		t.Errorf("missing section: %v", err)
	}
	if _, err := s.Get("sshd", "nosuch"); !errors.Is(err, ErrNoOption) {
		t.Errorf("missing option: %v", err)
	}
	_, err := s.Get("missing-ref", "enabled")
	var ie *InterpolationError
	if !errors.As(err, &ie) || ie.Kind != ErrMissingOption || ie.Detail != "nonexistent" {
		t.Fatalf("missing reference: %v", err)
	}
	if msg := err.Error(); msg != "[missing-ref] enabled refers to %(nonexistent)s, which is not set" {
		t.Errorf("message %q", msg)
	}
}

func TestSplitActions(t *testing.T) {
	in := "iptables-multiport[name=ssh, port=\"ssh,2222\", protocol=tcp]\n" +
		"sendmail-whois[name=ssh, dest=\"root, admin\"]  dummy\n" +
		"abuseipdb [abuseipdb_apikey=\"x y\"]"
	want := []string{
		`iptables-multiport[name=ssh, port="ssh,2222", protocol=tcp]`,
		`sendmail-whois[name=ssh, dest="root, admin"]`,
		"dummy",
		`abuseipdb [abuseipdb_apikey="x y"]`,
	}
	if got := SplitActions(in); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if got := OptionName(`abuseipdb [x="y"]`); got != "abuseipdb" {
		t.Fatalf("OptionName = %q", got)
	}
}

func TestEditChangesOnlyTheOptionsItTouches(t *testing.T) {
	orig := "# Written by the admin: keep me.\n" +
		"[DEFAULT]\n" +
		"bantime = 1h   ; admin's note\n" +
		"\n" +
		"[sshd]\n" +
		"enabled = true\n" +
		"failregex = ^a <HOST>$\n" +
		"            ^b <HOST>$\n" +
		"  # comment inside\n" +
		"            ^c <HOST>$\n" +
		"port = ssh\n" +
		"\n" +
		"# trailing comment\n"
	got, err := Edit("jail.d/x.local", []byte(orig), []Change{
		{Section: "sshd", Option: "maxretry", Lines: []string{"3"}},
		{Section: "sshd", Option: "failregex", Lines: []string{"^x <HOST>$", "^y <HOST>$"}},
		{Section: "sshd", Option: "port", Remove: true},
		{Section: "new", Option: "enabled", Lines: []string{"false"}},
		{Section: "new", Option: "filter", Lines: []string{"sshd"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "# Written by the admin: keep me.\n" +
		"[DEFAULT]\n" +
		"bantime = 1h   ; admin's note\n" +
		"\n" +
		"[sshd]\n" +
		"enabled = true\n" +
		"failregex = ^x <HOST>$\n" +
		"            ^y <HOST>$\n" +
		"maxretry = 3\n" +
		"\n" +
		"# trailing comment\n" +
		"\n" +
		"[new]\n" +
		"enabled = false\n" +
		"filter = sshd\n"
	if string(got) != want {
		t.Fatalf("edited file\n%s\nwant\n%s", got, want)
	}
}

func TestEditKeepsLineEndingsAndIndentation(t *testing.T) {
	orig := "[Init]\r\n  port = ssh\r\nname = x"
	got, err := Edit("a.local", []byte(orig), []Change{
		{Section: "Init", Option: "port", Lines: []string{"2222"}},
		{Section: "Init", Option: "extra", Lines: []string{""}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "[Init]\r\n  port = 2222\r\nname = x\r\nextra =\r\n"; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	got, err = Edit("new.local", nil, []Change{{Section: "sshd", Option: "enabled", Lines: []string{"true"}}})
	if err != nil || string(got) != "[sshd]\nenabled = true\n" {
		t.Fatalf("new file: %q, %v", got, err)
	}
}

func TestEditRefusesValuesThatWouldChangeTheFile(t *testing.T) {
	cases := map[string][]string{
		"newline":            {"3\nbantime = 1"},
		"carriage return":    {"3\rbantime = 1"},
		"NUL":                {"a\x00b"},
		"inline comment":     {"^foo ;bar$"},
		"leading semicolon":  {";x"},
		"comment line":       {"^a$", "# not a regex"},
		"blank line in list": {"^a$", "", "^b$"},
		"lone percent":       {"100% sure"},
		"bad reference":      {"%(name"},
		"outer white space":  {" x"},
		"no lines":           {},
	}
	for name, lines := range cases {
		_, err := Edit("a.local", []byte("[x]\n"), []Change{{Section: "x", Option: "v", Lines: lines}})
		var ve *ValueError
		if !errors.As(err, &ve) || ve.Message.IsZero() {
			t.Errorf("%s: %q accepted (err %v)", name, lines, err)
		}
	}
	for _, ok := range [][]string{{"^a;b$"}, {"%(known/failregex)s", "^x$"}, {"100%%"}, {"[brackets] = fine"}} {
		if _, err := Edit("a.local", []byte("[x]\n"), []Change{{Section: "x", Option: "v", Lines: ok}}); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	if _, err := Edit("a.local", []byte("[x]\n"), []Change{{Section: "x]\n[y", Option: "v", Lines: []string{"1"}}}); err == nil {
		t.Error("a section name with a line break was accepted")
	}
	if _, err := Edit("a.local", []byte("[x]\n"), []Change{{Section: "x", Option: "v = 1\nw", Lines: []string{"1"}}}); err == nil {
		t.Error("an option name with a line break was accepted")
	}
	if _, err := Edit("a.local", []byte("not ini\n"), []Change{{Section: "x", Option: "v", Lines: []string{"1"}}}); err == nil {
		t.Error("a broken file was edited")
	}
}

func TestCleanEditableRefusesPathTricks(t *testing.T) {
	good := []string{"jail.local", "fail2ban.local", "jail.d/sshd.local", "filter.d/my-filter.local", "action.d/a_b.c.local"}
	for _, n := range good {
		if _, err := CleanEditable(n); err != nil {
			t.Errorf("%q refused: %v", n, err)
		}
	}
	bad := []string{
		"", "../jail.local", "jail.d/../jail.conf", "/etc/fail2ban/jail.local", "jail.d/sshd.local\x00.png",
		"jail.d%2Fsshd.local", "..%2Fjail.local", "..%252Fjail.local", `jail.d\sshd.local`, "jail.d/sub/x.local",
		"jail.conf", "jail.d/sshd.conf", "jail.d/.hidden.local", "paths-debian.conf", "other.d/x.local",
		"jail.d/", "jail.d/x.local.bak", "jail.d/a b.local", "jail.d/x\n.local", strings.Repeat("a", 300) + ".local",
	}
	for _, n := range bad {
		_, err := CleanEditable(n)
		var pe *PathError
		if !errors.As(err, &pe) || pe.Message.IsZero() {
			t.Errorf("%q accepted (err %v)", n, err)
		}
	}
}

func TestResolveEditableRefusesSymlinksOut(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	for _, d := range []string{"jail.d", "filter.d"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret.local"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "jail.conf"), []byte("[x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(outside, "secret.local"), filepath.Join(dir, "jail.d", "out.local")))
	must(os.Symlink("../jail.conf", filepath.Join(dir, "jail.d", "conf.local")))
	must(os.Symlink("missing.local", filepath.Join(dir, "jail.d", "dangling.local")))
	must(os.Symlink(outside, filepath.Join(dir, "action.d")))
	must(os.WriteFile(filepath.Join(dir, "jail.d", "real.local"), []byte("[x]\n"), 0o644))
	must(os.Symlink("real.local", filepath.Join(dir, "jail.d", "alias.local")))
	for _, n := range []string{"jail.d/out.local", "jail.d/conf.local", "jail.d/dangling.local", "action.d/secret.local"} {
		if p, err := ResolveEditable(dir, n); err == nil {
			t.Errorf("%s resolved to %s", n, p)
		}
	}
	real, _ := filepath.EvalSymlinks(filepath.Join(dir, "jail.d", "real.local"))
	if p, err := ResolveEditable(dir, "jail.d/alias.local"); err != nil || p != real {
		t.Errorf("alias inside the directory: %q, %v", p, err)
	}
	if p, err := ResolveEditable(dir, "filter.d/new.local"); err != nil || filepath.Base(p) != "new.local" {
		t.Errorf("new file: %q, %v", p, err)
	}
}

func TestWriteAtomicKeepsABackupAndRestores(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "jail.d", "x.local")
	prev, err := WriteAtomic(p, []byte("one\n"), true)
	if err != nil || prev.Existed {
		t.Fatalf("first write: %+v, %v", prev, err)
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	prev, err = WriteAtomic(p, []byte("two\n"), true)
	if err != nil || !prev.Existed || string(prev.Data) != "one\n" {
		t.Fatalf("second write: %+v, %v", prev, err)
	}
	if b, _ := os.ReadFile(p + BackupSuffix); string(b) != "one\n" {
		t.Fatalf("backup holds %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v not kept", fi.Mode())
	}
	prev3, err := WriteAtomic(p, []byte("three\n"), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := Restore(prev3); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two\n" {
		t.Fatalf("restored %q", b)
	}
	if b, _ := os.ReadFile(p + BackupSuffix); string(b) != "one\n" {
		t.Fatalf("backup after restore holds %q, want the one before the write", b)
	}
	if err := Restore(prev); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one\n" {
		t.Fatalf("restored %q", b)
	}
	if _, err := os.Stat(p + BackupSuffix); !os.IsNotExist(err) {
		t.Fatal("restoring the first write left a backup that did not exist before it")
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".bangui-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	if err := Restore(Previous{Path: p}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatal("restoring a file that did not exist did not remove it")
	}
}

func TestLockSerialisesEdits(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx, dir); err == nil {
		t.Fatal("a second lock was granted while the first was held")
	} else if !errors.Is(err, ErrEditRunning) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the refused lock's error %v matches neither ErrEditRunning nor the deadline", err)
	}
	unlock()
	unlock2, err := Lock(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}

func TestNamesAndLocalFiles(t *testing.T) {
	dir := filepath.Join("testdata", "merge", "stack", "conf")
	names, err := Names(dir, "filter.d")
	if err != nil || !reflect.DeepEqual(names, []string{"common", "test"}) {
		t.Fatalf("filters %q, %v", names, err)
	}
	files, err := LocalFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"jail.local", "fail2ban.local", "jail.d/a.local", "jail.d/z.local", "filter.d/common.local", "filter.d/test.local", "action.d/act.local"}
	if !reflect.DeepEqual(files, want) {
		t.Fatalf("local files\n got %q\nwant %q", files, want)
	}
}

// TestInterpolationCannotExplode checks that options referring to each
// other many times ("billion laughs") give an error instead of gigabytes.
func TestInterpolationCannotExplode(t *testing.T) {
	var b strings.Builder
	b.WriteString("[x]\na0 = " + strings.Repeat("x", 10) + "\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "a%d = %s\n", i, strings.Repeat(fmt.Sprintf("%%(a%d)s", i-1), 10))
	}
	s, err := Load(t.TempDir(), "jail", Options{Overlay: map[string][]byte{"jail.local": []byte(b.String())}})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get("x", "a4"); err != nil || len(v) != 100_000 {
		t.Fatalf("a4: %d bytes, %v", len(v), err)
	}
	_, err = s.Get("x", "a9")
	var ie *InterpolationError
	if !errors.As(err, &ie) || ie.Kind != ErrTooLong || !strings.Contains(err.Error(), "grows past") {
		t.Fatalf("a9 (10^10 bytes): %v", err)
	}
}
