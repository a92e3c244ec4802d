package config

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// dumpValue and dump are the shape of testdata/reference.py's output.
type dumpValue struct {
	Raw   string `json:"raw"`
	Value string `json:"value,omitempty"`
	Error string `json:"error,omitempty"`
}

type dump struct {
	Files    []string                        `json:"files"`
	Order    []string                        `json:"order"`
	Defaults map[string]dumpValue            `json:"defaults"`
	Sections map[string]map[string]dumpValue `json:"sections"`
}

// dumpSet renders a Set the way reference.py renders fail2ban's parser.
func dumpSet(t *testing.T, s *Set) dump {
	t.Helper()
	val := func(sec string, v Value) dumpValue {
		d := dumpValue{Raw: v.Raw}
		got, err := s.Get(sec, v.Name)
		if ie, ok := err.(*InterpolationError); ok {
			d.Error = ie.Kind
		} else if err != nil {
			t.Fatalf("Get(%s, %s): %v", sec, v.Name, err)
		} else {
			d.Value = got
		}
		return d
	}
	d := dump{Files: s.Files, Order: []string{}, Defaults: map[string]dumpValue{}, Sections: map[string]map[string]dumpValue{}}
	if d.Files == nil {
		d.Files = []string{}
	}
	for _, v := range s.Own(DefaultSection) {
		d.Defaults[v.Name] = val(DefaultSection, v)
	}
	for _, name := range s.order {
		d.Order = append(d.Order, name)
		m := map[string]dumpValue{}
		for _, v := range s.Own(name) {
			m[v.Name] = val(name, v)
		}
		d.Sections[name] = m
	}
	return d
}

func readDump(t *testing.T, file string) dump {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var d dump
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d
}

// fixtureStacks are the stacks of testdata/merge/stack/conf with the merged
// result fail2ban computes for each, in testdata/merge/stack/<stack>.json.
var fixtureStacks = []string{"jail", "fail2ban", "filter.d/test", "filter.d/common", "action.d/act"}

func goldenFile(stack string) string {
	return filepath.Join("testdata", "merge", "stack", strings.ReplaceAll(stack, "/", "_")+".json")
}

func compareDumps(t *testing.T, what string, got, want dump) {
	t.Helper()
	if !reflect.DeepEqual(got.Files, want.Files) {
		t.Errorf("%s: files\n got %q\nwant %q", what, got.Files, want.Files)
	}
	if !reflect.DeepEqual(got.Order, want.Order) {
		t.Errorf("%s: section order\n got %q\nwant %q", what, got.Order, want.Order)
	}
	cmp := func(where string, g, w map[string]dumpValue) {
		for k, wv := range w {
			if gv, ok := g[k]; !ok {
				t.Errorf("%s: %s: option %q missing", what, where, k)
			} else if gv != wv {
				t.Errorf("%s: %s: option %q\n got %+v\nwant %+v", what, where, k, gv, wv)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				t.Errorf("%s: %s: unexpected option %q", what, where, k)
			}
		}
	}
	cmp("[DEFAULT]", got.Defaults, want.Defaults)
	for name, w := range want.Sections {
		cmp("["+name+"]", got.Sections[name], w)
	}
	for name := range got.Sections {
		if _, ok := want.Sections[name]; !ok {
			t.Errorf("%s: unexpected section [%s]", what, name)
		}
	}
}

// TestMergeMatchesFixtures checks the reader against merged results that
// fail2ban's own reader produced for the fixture directory (see
// TestFixturesAreFail2bansResult).
func TestMergeMatchesFixtures(t *testing.T) {
	dir := filepath.Join("testdata", "merge", "stack", "conf")
	for _, stack := range fixtureStacks {
		t.Run(stack, func(t *testing.T) {
			s, err := Load(dir, stack, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Problems) > 0 {
				t.Fatalf("problems: %v", s.Problems)
			}
			compareDumps(t, stack, dumpSet(t, s), readDump(t, goldenFile(stack)))
		})
	}
}

// reference runs testdata/reference.py (fail2ban's own reader) on some
// stacks, or skips the test when python3 or fail2ban's Python package is
// missing.
func reference(t *testing.T, dir string, stacks ...string) map[string]dump {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if _, err := os.Stat("/usr/lib/python3/dist-packages/fail2ban/client/configreader.py"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("fail2ban's Python package is missing (install the Debian package fail2ban)")
		}
		t.Skip("fail2ban's Python package is not installed")
	}
	args := append([]string{filepath.Join("testdata", "reference.py"), dir}, stacks...)
	out, err := exec.Command(py, args...).Output()
	if err != nil {
		t.Fatalf("reference.py %s: %v", dir, err)
	}
	if len(stacks) == 1 {
		var d dump
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatal(err)
		}
		return map[string]dump{stacks[0]: d}
	}
	var m map[string]dump
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFixturesAreFail2bansResult proves that the committed merged results
// are what the installed fail2ban computes, so the fixtures cannot drift
// from fail2ban's behaviour.
func TestFixturesAreFail2bansResult(t *testing.T) {
	dir := filepath.Join("testdata", "merge", "stack", "conf")
	ref := reference(t, dir, fixtureStacks...)
	for _, stack := range fixtureStacks {
		compareDumps(t, "fail2ban vs "+goldenFile(stack), readDump(t, goldenFile(stack)), ref[stack])
	}
}

// TestMergeMatchesFail2banOnStockConfig compares the reader with fail2ban's
// on the host's real configuration (/etc/fail2ban): every jail, filter and
// action the package ships.
func TestMergeMatchesFail2banOnStockConfig(t *testing.T) {
	const dir = "/etc/fail2ban"
	if _, err := os.Stat(filepath.Join(dir, "jail.conf")); err != nil {
		t.Skip("no /etc/fail2ban/jail.conf")
	}
	stacks := []string{"jail", "fail2ban"}
	for _, sub := range []string{"filter.d", "action.d"} {
		names, err := Names(dir, sub)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			stacks = append(stacks, sub+"/"+n)
		}
	}
	if len(stacks) < 50 {
		t.Fatalf("only %d stacks found in %s", len(stacks), dir)
	}
	ref := reference(t, dir, stacks...)
	for _, stack := range stacks {
		want := ref[stack]
		s, err := Load(dir, stack, Options{})
		if err != nil {
			t.Fatal(err)
		}
		compareDumps(t, stack, dumpSet(t, s), want)
	}
	t.Logf("compared %d stacks of %s with fail2ban's reader", len(stacks), dir)
}

// BenchmarkLoadStockJails measures reading the host's stock jail
// configuration (jail.conf with its includes) and interpolating the enabled
// and filter options of every jail, as the Jails tab does.
func BenchmarkLoadStockJails(b *testing.B) {
	const dir = "/etc/fail2ban"
	if _, err := os.Stat(filepath.Join(dir, "jail.conf")); err != nil {
		b.Skip("no /etc/fail2ban/jail.conf")
	}
	for b.Loop() {
		s, err := Load(dir, "jail", Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Jails()) < 50 {
			b.Fatal("too few jails")
		}
	}
}
