package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"bangui/fail2ban/sandbox"
	"bangui/views"
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

// TestFleetUnbanKeepsEveryHostsLines bans one attacker on two hosts (the
// second read through the archive only, as a remote one) and unbans it on
// every host at once from the jails form: the address's page keeps the
// matched lines of both bans.
func TestFleetUnbanKeepsEveryHostsLines(t *testing.T) {
	f := fleetApp(t, []string{"web2"}, false)
	const ip = "203.0.113.91"
	for _, sb := range []*sandbox.Sandbox{f.local, f.other["web2"]} {
		attack(t, sb, ip, 6)
		waitFor(t, "fail2ban to ban "+ip, func() bool { return fail2banRows(t, sb, ip) == 1 })
	}
	rec := f.b.postForm("/jails/unban", "/jails", url.Values{"target": {ip}, "where": {views.WhereAll}})
	if rec.Code != http.StatusSeeOther && rec.Code != http.StatusFound {
		t.Fatalf("fleet-wide unban: %d %.300s", rec.Code, rec.Body.String())
	}
	for _, sb := range []*sandbox.Sandbox{f.local, f.other["web2"]} {
		if n := fail2banRows(t, sb, ip); n != 0 {
			t.Fatalf("fail2ban still has %d rows of %s", n, ip)
		}
	}
	doc := parse(t, f.b.get("/history/"+ip))
	kept := map[string]bool{}
	doc.Find("[data-testid=ip-timeline] li").Each(func(_ int, s *goquery.Selection) {
		if !strings.Contains(s.Find(".loglines").Text(), "Failed password for root from "+ip) {
			return
		}
		for _, host := range []string{"local", "web2"} {
			if strings.Contains(s.Text(), "on "+host) {
				kept[host] = true
			}
		}
	})
	if !kept["local"] || !kept["web2"] {
		t.Fatalf("matched lines kept for %v, want local and web2; timeline: %q", kept, doc.Find("[data-testid=ip-timeline]").Text())
	}
}
