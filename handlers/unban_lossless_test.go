package handlers

import (
	"net/url"
	"strings"
	"testing"
)

// TestUnbanKeepsMatchedLinesOnTheIPPage bans attackers from failed logins
// in a real fail2ban and, as soon as fail2ban wrote each ban, lifts it from
// the panel before any archive sync ran: one address, every ban, and
// stopping the jail. fail2ban deletes the rows of the first two, yet each
// address's page still shows its ban with the matched log lines.
func TestUnbanKeepsMatchedLinesOnTheIPPage(t *testing.T) {
	_, b, sb := loggedInWithFail2ban(t)
	ban := func(ip string) {
		t.Helper()
		attack(t, sb, ip, 6)
		waitFor(t, "fail2ban to ban "+ip, func() bool { return fail2banRows(t, sb, ip) == 1 })
	}
	keeps := func(ip string, deleted bool) {
		t.Helper()
		if rows := fail2banRows(t, sb, ip); deleted && rows != 0 {
			t.Fatalf("fail2ban still has %d rows of %s", rows, ip)
		}
		page := parse(t, b.get("/history/"+ip))
		lines := page.Find("[data-testid=ip-timeline] .loglines").Text()
		if !strings.Contains(lines, "Failed password for root from "+ip) {
			t.Fatalf("the page of %s lost the matched lines; timeline: %q", ip, page.Find("[data-testid=ip-timeline]").Text())
		}
	}

	ban("203.0.113.81")
	assertRedirect(t, b.postForm("/jails/unban", "/jails", url.Values{"target": {"203.0.113.81"}, "jail": {"sshd"}}), "/jails")
	keeps("203.0.113.81", true)

	ban("203.0.113.82")
	assertRedirect(t, b.postForm("/jails/unban-all", "/jails", nil), "/jails")
	keeps("203.0.113.82", true)

	ban("203.0.113.83")
	rec := b.postForm("/jails/sshd/stop", "/jails", nil)
	if rec.Code >= 400 {
		t.Fatalf("stop the jail: %d %s", rec.Code, rec.Body.String())
	}
	keeps("203.0.113.83", false)
	if n := fail2banRows(t, sb, "203.0.113.83"); n != 1 {
		t.Errorf("fail2ban kept %d rows of the stopped jail's ban, want 1", n)
	}
}
