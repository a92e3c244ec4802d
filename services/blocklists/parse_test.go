package blocklists

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"bangui/models"
)

func TestParseBlocklistLine(t *testing.T) {
	cases := []struct {
		line string
		want string // canonical target, "" when none
		kind LineKind
	}{
		{"", "", LineBlank},
		{"   \t\r\n", "", LineBlank},
		{"# a comment", "", LineComment},
		{"  ; also a comment", "", LineComment},
		{"192.0.2.1", "192.0.2.1", LineIPv4},
		{"192.0.2.1\r\n", "192.0.2.1", LineIPv4},
		{"\ufeff192.0.2.1", "192.0.2.1", LineIPv4},
		{"192.0.2.1 # trailing comment", "192.0.2.1", LineIPv4},
		{"192.0.2.1;SBL123", "192.0.2.1", LineIPv4},
		{"198.51.100.0/24 ; SBL256894", "198.51.100.0/24", LineCIDR},
		{"198.51.100.7/24", "198.51.100.0/24", LineCIDR},
		{"192.0.2.1/32", "192.0.2.1", LineIPv4},
		{"2001:DB8::1", "2001:db8::1", LineIPv6},
		{"2001:db8::/32", "2001:db8::/32", LineCIDR},
		{"::ffff:192.0.2.9", "192.0.2.9", LineIPv4},
		{"192.0.2.1 extra", "", LineInvalid},
		{"192.0.2.1:80", "", LineInvalid},
		{"192.0.2.256", "", LineInvalid},
		{"010.0.0.1", "", LineInvalid},
		{"fe80::1%eth0", "", LineInvalid},
		{"<html>", "", LineInvalid},
		{"example.com", "", LineInvalid},
		{"192.0.2.0/33", "", LineInvalid},
	}
	for _, c := range cases {
		p, kind := ParseLine(c.line)
		got := ""
		if p.IsValid() {
			got = TargetString(p)
		}
		if kind != c.kind || got != c.want {
			t.Errorf("ParseLine(%q) = %q, %d; want %q, %d", c.line, got, kind, c.want, c.kind)
		}
	}
}

func TestParseBlocklistCountsEverySkip(t *testing.T) {
	list := strings.Join([]string{
		"# header",
		"; another header",
		"",
		"192.0.2.1",
		"192.0.2.1",                        // duplicate
		"192.0.2.1/32",                     // the same address written differently
		"2001:db8::1 # v6",                 // IPv6
		"198.51.100.0/24",                  // CIDR
		"10.0.0.5",                         // inside an ignore list
		"10.0.0.0/8",                       // overlaps an ignore list
		"127.0.0.1",                        // loopback: reserved
		"0.0.0.0/0",                        // every address: invalid
		"224.0.0.1",                        // multicast: reserved
		"not an address",                   // invalid
		strings.Repeat("x", maxLineLen+10), // far too long
		"203.0.113.9",                      // last line without newline
	}, "\n")
	got, err := Parse(strings.NewReader(list), []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}, 3)
	if err != nil {
		t.Fatal(err)
	}
	wantTargets := []string{"192.0.2.1", "2001:db8::1", "198.51.100.0/24", "203.0.113.9"}
	if !slices.Equal(got.Targets, wantTargets) {
		t.Errorf("targets = %q, want %q", got.Targets, wantTargets)
	}
	want := models.BlocklistCounts{Lines: 16, IPv4: 7, IPv6: 1, CIDR: 2, Comments: 2, Blank: 1,
		Invalid: 3, Duplicates: 2, Ignored: 2, Reserved: 2}
	if got.Counts != want {
		t.Errorf("counts = %+v\nwant     %+v", got.Counts, want)
	}
	if got.Counts.Skipped() != 9 {
		t.Errorf("skipped = %d, want 9", got.Counts.Skipped())
	}
	if !slices.Equal(got.Sample, []string{"# header", "; another header", ""}) {
		t.Errorf("sample = %q", got.Sample)
	}
	if got.Bytes != int64(len(list)) {
		t.Errorf("bytes = %d, want %d", got.Bytes, len(list))
	}
}

func TestParseBlocklistVeryLongLine(t *testing.T) {
	list := "192.0.2.1\n" + strings.Repeat("9", 200<<10) + "\n192.0.2.2\n"
	got, err := Parse(strings.NewReader(list), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Targets, []string{"192.0.2.1", "192.0.2.2"}) || got.Counts.Invalid != 1 || got.Counts.Lines != 3 {
		t.Fatalf("targets %q counts %+v", got.Targets, got.Counts)
	}
}

// FuzzParseBlocklistLine checks that any line parses without panicking,
// that an accepted entry is canonical (its text parses to itself) and that
// a list's counts always add up.
func FuzzParseBlocklistLine(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "# c", "2001:db8::/32 ; x", "", "1.2.3.4/24", "::ffff:1.2.3.4", "\ufeff10.0.0.1\r",
		"fe80::1%lo", "1.2.3.4 5.6.7.8", "0.0.0.0/0", "::", "1.2.3.4#", ";"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p, kind := ParseLine(line)
		switch kind {
		case LineIPv4, LineIPv6, LineCIDR:
			if !p.IsValid() {
				t.Fatalf("%q: kind %d without a prefix", line, kind)
			}
			s := TargetString(p)
			again, kind2 := ParseLine(s)
			if again != p || kind2 != kind {
				t.Fatalf("%q → %q → %v (%d), not stable", line, s, again, kind2)
			}
			if kind == LineCIDR && p.IsSingleIP() || kind != LineCIDR && !p.IsSingleIP() {
				t.Fatalf("%q: kind %d for %v", line, kind, p)
			}
		default:
			if p.IsValid() {
				t.Fatalf("%q: kind %d with prefix %v", line, kind, p)
			}
		}
		got, err := Parse(strings.NewReader(line+"\n"+line), nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		c := got.Counts
		if c.Lines != c.Blank+c.Comments+c.Valid()+c.Invalid {
			t.Fatalf("%q: counts do not add up: %+v", line, c)
		}
		if int64(len(got.Targets)) != c.Valid()-c.Duplicates-c.Ignored-c.Reserved {
			t.Fatalf("%q: %d targets for counts %+v", line, len(got.Targets), c)
		}
	})
}
