package rules

import (
	"reflect"
	"testing"
)

// TestParseFailures reads fail2ban's "Found" lines (IPv4 and IPv6) and
// nothing else.
func TestParseFailures(t *testing.T) {
	lines := []string{
		"2026-12-07 01:02:03,456 fail2ban.filter         [812]: INFO    [sshd] Found 192.0.2.7 - 2026-12-07 01:02:03",
		"2026-12-07 01:02:04,001 fail2ban.filter         [812]: INFO    [nginx-auth] Found 2001:db8::9 - 2026-12-07 01:02:04",
		"2026-12-07 01:02:05,000 fail2ban.actions        [812]: NOTICE  [sshd] Ban 192.0.2.7",
		"2026-12-07 01:02:06,000 fail2ban.filter         [812]: INFO    [sshd] Ignore 192.0.2.8 by ip",
	}
	got := parseFailures("edge", lines)
	want := []Failure{{Host: "edge", Jail: "sshd", IP: "192.0.2.7", Line: lines[0]}, {Host: "edge", Jail: "nginx-auth", IP: "2001:db8::9", Line: lines[1]}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseFailures = %+v, want %+v", got, want)
	}
}
