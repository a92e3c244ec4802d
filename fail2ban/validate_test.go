package fail2ban

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseTarget(t *testing.T) {
	good := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1/32"},
		{"  192.0.2.1\t", "192.0.2.1/32"},
		{"2001:DB8::1", "2001:db8::1/128"},
		{"2001:db8:0:0:0:0:0:1", "2001:db8::1/128"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"}, // as fail2ban does
		{"192.0.2.0/24", "192.0.2.0/24"},
		{"192.0.2.77/24", "192.0.2.0/24"},
		{"192.0.2.1/32", "192.0.2.1/32"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"::1", "::1/128"},
	}
	for _, tt := range good {
		p, err := ParseTarget(tt.in)
		if err != nil {
			t.Errorf("ParseTarget(%q): %v", tt.in, err)
			continue
		}
		if p.String() != tt.want {
			t.Errorf("ParseTarget(%q) = %v, want %s", tt.in, p, tt.want)
		}
	}
	bad := []string{
		"", "   ", "10.0.0.999", "1.2.3", "010.1.1.1", "192.0.2.1/33", "2001:db8::/129",
		"fe80::1%eth0", "fe80::1%eth0/64", "example.com", "192.0.2.1 192.0.2.2",
		"--all", "192.0.2.1/", "/24", "192.0.2.1/-1", "1.2.3.4\x00", "[2001:db8::1]",
		"0.0.0.0/0", "10.1.2.3/0", "::/0", // every address: fail2ban would ban 0.0.0.0
	}
	for _, in := range bad {
		_, err := ParseTarget(in)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != FieldIP {
			t.Errorf("ParseTarget(%q) err = %v, want *ValidationError for field ip", in, err)
		}
	}
	_, err := ParseTarget("10.0.0.999")
	if want := `"10.0.0.999" is not an IP address or CIDR range`; err == nil || err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
	if _, err := ParseTarget(strings.Repeat("1", 10000)); err == nil || len(err.Error()) > 200 {
		t.Errorf("huge input: error %q not refused or not shortened", err)
	}
}

func TestNormalizeTargets(t *testing.T) {
	got, err := NormalizeTargets([]string{" 192.0.2.1", "192.0.2.1/32", "", "2001:DB8::1", "192.0.2.9/24", "2001:db8::1", "192.0.2.0/24", "198.51.100.7"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"192.0.2.1", "2001:db8::1", "192.0.2.0/24", "198.51.100.7"}
	if !slices.Equal(got, want) {
		t.Errorf("NormalizeTargets = %q, want %q", got, want)
	}

	_, err = NormalizeTargets([]string{"192.0.2.1", "bogus", "also bad"})
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Message.Error(), `"bogus"`) || strings.Contains(ve.Message.Error(), "also bad") {
		t.Errorf("err = %v, want a ValidationError naming the first bad input", err)
	}
	for _, empty := range [][]string{nil, {}, {"", "  "}} {
		if _, err := NormalizeTargets(empty); !errors.As(err, &ve) {
			t.Errorf("NormalizeTargets(%q) err = %v, want ValidationError", empty, err)
		}
	}
}

func TestValidJailName(t *testing.T) {
	for _, name := range []string{"sshd", "nginx-http-auth", "a", "x.y_z@host+1", "A1", strings.Repeat("j", 64), "Loglevel-x"} {
		if err := ValidJailName(name); err != nil {
			t.Errorf("ValidJailName(%q): %v", name, err)
		}
	}
	for _, name := range []string{
		"", "-x", "--all", ".hidden", "has space", "tab\t", "semi;colon", "slash/x", "ümlaut",
		strings.Repeat("j", 65), "dbfile", "loglevel", "LogTarget", "dbpurgeage", "dbmaxmatches", "syslogsocket", "thread", "allowipv6",
	} {
		err := ValidJailName(name)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != FieldJail || ve.Message.IsZero() {
			t.Errorf("ValidJailName(%q) = %v, want *ValidationError for field jail", name, err)
		}
	}
}

func TestParseTimeSpec(t *testing.T) {
	good := []struct {
		in   string
		want time.Duration
	}{
		{"600", 10 * time.Minute},
		{" 600 ", 10 * time.Minute},
		{"0", 0},
		{"-1", -time.Second},
		{"10m", 10 * time.Minute},
		{"10 m", 10 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"1h 30m 15s", 90*time.Minute + 15*time.Second},
		{"2 days", 48 * time.Hour},
		{"1w", 7 * 24 * time.Hour},
		{"1mo", 2629800 * time.Second},
		{"1 month", 2629800 * time.Second},
		{"1y", 31557600 * time.Second},
		{"3H", 3 * time.Hour},
	}
	for _, tt := range good {
		got, err := ParseTimeSpec(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseTimeSpec(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{
		"", "   ", "-2", "-1m", "1.5h", "10x", "m", "5 mins", "1+1", "__import__('os').system('id')",
		"1e9", "0x10", "10m;", "99999999999999", "1000000000000y",
	} {
		_, err := ParseTimeSpec(in)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != FieldValue {
			t.Errorf("ParseTimeSpec(%q) err = %v, want *ValidationError", in, err)
		}
	}
	if got := secondsArg(90 * time.Minute); got != "5400" {
		t.Errorf("secondsArg = %q", got)
	}
	if got := secondsArg(-time.Second); got != "-1" {
		t.Errorf("secondsArg(-1s) = %q", got)
	}
}

func TestSmallValidators(t *testing.T) {
	if l, err := validLogLevel(" debug "); err != nil || l != "DEBUG" {
		t.Errorf("validLogLevel(debug) = %q, %v", l, err)
	}
	for _, bad := range []string{"", "BASIC_FORMAT", "root", "10"} {
		if _, err := validLogLevel(bad); err == nil {
			t.Errorf("validLogLevel(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{"stdout": "STDOUT", "SYSLOG": "SYSLOG", "/var/log/f2b.log": "/var/log/f2b.log", "systemd-journal": "SYSTEMD-JOURNAL"} {
		if got, err := validLogTarget(in); err != nil || got != want {
			t.Errorf("validLogTarget(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "relative.log", "/x\n/y", "file"} {
		if _, err := validLogTarget(bad); err == nil {
			t.Errorf("validLogTarget(%q) accepted", bad)
		}
	}
	for _, ok := range []string{"example.com", "host", "a-b.example.org.", "mail_1.example"} {
		if !validHostName(ok) {
			t.Errorf("validHostName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "-a.com", "a..b", "a b", "a;b", strings.Repeat("a", 64) + ".com", "--all"} {
		if validHostName(bad) {
			t.Errorf("validHostName(%q) = true", bad)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "2001:db8::1", "192.0.2.0/24", "fe80::1%eth0", "::ffff:1.2.3.4", " 10.0.0.1 ", "1.2.3.4/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseTarget(s)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if !p.IsValid() || p.Addr().Zone() != "" || p != p.Masked() || p.Addr().Is4In6() && p.IsSingleIP() {
			t.Fatalf("ParseTarget(%q) = %v: not canonical", s, p)
		}
		// The canonical text parses back to the same prefix and contains
		// nothing fail2ban could read as an option or separator.
		str := targetString(p)
		if strings.ContainsAny(str, " \t\n%") || strings.HasPrefix(str, "-") {
			t.Fatalf("canonical form %q", str)
		}
		q, err := ParseTarget(str)
		if err != nil || q != p {
			t.Fatalf("round trip %q -> %q -> %v, %v", s, str, q, err)
		}
		if _, err := netip.ParsePrefix(p.String()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestParseIgnoreEntry accepts what fail2ban's ignoreip accepts and
// refuses mistyped addresses and garbage with a message.
func TestParseIgnoreEntry(t *testing.T) {
	for in, want := range map[string]string{
		" 192.0.2.7 ":      "192.0.2.7",
		"192.0.2.7/24":     "192.0.2.0/24",
		"2001:DB8::1":      "2001:db8::1",
		"Monitor.Example.": "monitor.example",
		"office-gw":        "office-gw",
	} {
		if got, err := ParseIgnoreEntry(in); err != nil || got != want {
			t.Errorf("ParseIgnoreEntry(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "192.0.2.300", "10.1.1", "0.0.0.0/0", "a;b", "-x.example", "fe80::1%eth0", "<b>x</b>", "1.2.3.4/33"} {
		if got, err := ParseIgnoreEntry(in); err == nil {
			t.Errorf("ParseIgnoreEntry(%q) = %q, want an error", in, got)
		} else if ve, ok := err.(*ValidationError); !ok || ve.Message.IsZero() {
			t.Errorf("ParseIgnoreEntry(%q) error %T %v", in, err, err)
		}
	}
}
