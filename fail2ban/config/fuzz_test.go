package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseINI feeds arbitrary text to the parser. It must never panic, and
// whatever parses must survive an edit: the edited text parses again, holds
// the new value and keeps every other option as it was.
func FuzzParseINI(f *testing.F) {
	for _, s := range []string{
		"[sshd]\nenabled = true\nfailregex = ^a <HOST>$\n  ^b <HOST>$\n",
		"[DEFAULT]\na: 1 ; comment\n\n[x]\nb = %(a)s\n[DEFAULT]\nc = 2\n",
		"# c\n; c\n[Init]\n  port = ssh\r\nname = x",
		"[x]\na = 1\na = 2\n",
		"no header\n",
		"[Definition?family=inet6]\nx = 1\n",
		"[x]\na =\n\n   b\n#c\n   d\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		file, err := Parse("fuzz.local", []byte(text))
		if err != nil {
			return
		}
		before := map[[2]string]string{}
		for _, s := range file.Sections {
			for _, o := range s.Options {
				before[[2]string{s.Name, o.Name}] = o.Value
			}
		}
		out, err := Edit("fuzz.local", []byte(text), []Change{{Section: "fuzzed", Option: "maxretry", Lines: []string{"3"}}})
		if err != nil {
			if strings.Contains(err.Error(), "section") {
				return // e.g. "[fuzzed]" already opened twice via DEFAULT-like tricks
			}
			t.Fatalf("edit of a parsed file failed: %v\n%q", err, text)
		}
		after, err := Parse("fuzz.local", out)
		if err != nil {
			t.Fatalf("edited file does not parse: %v\n%q", err, out)
		}
		for _, s := range after.Sections {
			for _, o := range s.Options {
				k := [2]string{s.Name, o.Name}
				if s.Name == "fuzzed" && o.Name == "maxretry" {
					if o.Value != "3" {
						t.Fatalf("maxretry = %q", o.Value)
					}
					continue
				}
				if v, ok := before[k]; !ok || v != o.Value {
					t.Fatalf("[%s] %s changed from %q to %q\nin %q\nout %q", s.Name, o.Name, v, o.Value, text, out)
				}
				delete(before, k)
			}
		}
		for k := range before {
			if k != [2]string{"fuzzed", "maxretry"} {
				t.Fatalf("[%s] %s lost by the edit\nin %q\nout %q", k[0], k[1], text, out)
			}
		}
	})
}

// FuzzMerge feeds arbitrary text to the merge reader as jail.local over a
// small jail.conf, then asks for every merged value: nothing may panic, and
// a value either comes out (bounded in size) or is an InterpolationError.
func FuzzMerge(f *testing.F) {
	base := "[INCLUDES]\nbefore = paths.conf\n[DEFAULT]\nbantime = 10m\nport = ssh\naction = %(banaction)s[port=\"%(port)s\"]\n" +
		"banaction = iptables\n[sshd]\nenabled = false\nlogpath = %(sshd_log)s\n"
	for _, s := range []string{
		"[sshd]\nenabled = true\nport = 2222\n",
		"[DEFAULT]\nsshd_log = /var/log/auth.log\n[sshd]\nbantime = %(known/bantime)s\n",
		"[x]\na = %(b)s\nb = %(a)s\n",
		"[x]\nfilter = sshd[mode=aggressive]\nv = %(default/port)s %(sshd/enabled)s %(__name__)s\n",
		"[INCLUDES]\nafter = jail.local\n[x]\na = 50%\n",
		"[x]\na0 = xx\na1 = %(a0)s%(a0)s%(a0)s\na2 = %(a1)s%(a1)s%(a1)s\n",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Load(dir, "jail", Options{Overlay: map[string][]byte{"jail.conf": []byte(base), "jail.local": []byte(text)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range append([]string{DefaultSection}, s.Sections()...) {
			for _, v := range s.Own(sec) {
				got, err := s.Get(sec, v.Name)
				var ie *InterpolationError
				if errors.Is(err, ErrNoOption) && strings.ToLower(v.Name) != v.Name {
					// "[x?A]" names its options "o?A"; Get lowers the name
					// as fail2ban's optionxform does, so neither finds them.
					continue
				}
				if err != nil && !errors.As(err, &ie) {
					t.Fatalf("Get(%q, %q): %v", sec, v.Name, err)
				}
				if len(got) > 2*maxValueLen {
					t.Fatalf("Get(%q, %q) is %d bytes", sec, v.Name, len(got))
				}
			}
		}
	})
}
