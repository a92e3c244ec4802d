package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"bangui/fail2ban/sandbox"
	"bangui/models"
	"bangui/repo"
)

// A ban for a chosen time from the jails page and from a jail's page: the
// forms offer the usual lengths, the jail's default and a custom time; the
// ban lands in fail2ban, its chosen end is kept, the tables show when it
// ends and who chose it, and the audit log says for how long.
func TestBanForAChosenTime(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	jail := parse(t, b.get("/jails/sshd"))
	var offered []string
	jail.Find(`#jail-ban-duration option`).Each(func(_ int, o *goquery.Selection) { offered = append(offered, o.Text()) })
	if got := strings.Join(offered, "|"); got != "The jail's ban time (10 min)|1 hour|24 hours|7 days|30 days|Permanent|Custom time (below)" {
		t.Fatalf("jail page offers %q", got)
	}
	if parse(t, b.get("/jails")).Find(`#ban-duration option[value="7d"]`).Length() != 1 {
		t.Fatal("the jails page's ban form offers no 7 days")
	}

	before := time.Now()
	rec := b.postForm("/jails/ban", "/jails/sshd", url.Values{"target": {"203.0.113.7"}, "jail": {"sshd"}, "duration": {"7d"}, "back": {"/jails/sshd"}})
	assertRedirect(t, rec, "/jails/sshd")
	jail = parse(t, b.get("/jails/sshd"))
	if msg := jail.Find("#flash").Text(); !strings.Contains(msg, "Banned 203.0.113.7 in sshd for 7 d") {
		t.Fatalf("flash = %q", msg)
	}
	row := jail.Find(`#jail-bans tr[data-ip="203.0.113.7"]`)
	if how := row.Find("[data-testid=ban-how]").Text(); !strings.HasPrefix(how, "time chosen by ") {
		t.Fatalf("the row says %q about its end", how)
	}
	end, _ := row.Find(`td[data-label="Expires"] time`).Attr("datetime")
	if at, err := time.Parse(time.RFC3339, end); err != nil || at.Before(before.Add(7*24*time.Hour-time.Second)) || at.After(time.Now().Add(7*24*time.Hour+2*time.Second)) {
		t.Fatalf("the row ends at %q (%v); want in 7 days", end, err)
	}
	if got := bannedIPs(t, sb, "sshd"); len(got) != 1 || got[0] != "203.0.113.7" {
		t.Fatalf("fail2ban bans %v", got)
	}
	rows, err := repo.NewTimedBans(a.db).All(context.Background())
	if err != nil || len(rows) != 1 || rows[0].Seconds != 7*24*3600 {
		t.Fatalf("chosen times = %+v, %v", rows, err)
	}

	// A custom time from the jails page; a ban by the jail's time says so.
	assertRedirect(t, b.postForm("/jails/ban", "/jails", url.Values{"target": {"203.0.113.8"}, "jail": {"sshd"}, "duration": {"custom"}, "custom": {"90m"}}), "/jails")
	assertRedirect(t, b.postForm("/jails/ban", "/jails", url.Values{"target": {"203.0.113.9"}, "jail": {"sshd"}}), "/jails")
	doc := parse(t, b.get("/jails"))
	if how := doc.Find(`#active-bans tr[data-ip="203.0.113.9"] [data-testid=ban-how]`).Text(); how != "jail's ban time" {
		t.Fatalf("a ban by the jail's time says %q", how)
	}
	ip := parse(t, b.get("/history/203.0.113.8"))
	if state := ip.Find("[data-testid=ip-state]").Text(); !strings.Contains(state, "time chosen by") {
		t.Fatalf("the IP page says %q", state)
	}
	entries, _, err := repo.NewAuditStore(a.db).List(context.Background(), models.AuditFilter{}, models.Page{Number: 1, Size: 10})
	found := false
	for _, e := range entries {
		found = found || (e.Action == models.AuditBan && e.Detail == "for 1 h 30 min" && e.Target == "203.0.113.8")
	}
	if err != nil || !found {
		t.Errorf("no audit entry of the 90-minute ban in %+v, %v", entries, err)
	}
}

// Bad ban times are refused with a message at their field, and nothing
// reaches fail2ban.
func TestBanForBadTimes(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	for _, tc := range []struct{ duration, custom, field, want string }{
		{"bogus", "", "ban-duration", "Choose a ban time from the list"},
		{"custom", "", "ban-duration-custom", "Enter a ban time"},
		{"custom", "soon", "ban-duration-custom", "is not a time"},
		{"custom", "1+1", "ban-duration-custom", "is not a time"},
		{"custom", "0", "ban-duration-custom", "bans nothing"},
		{"custom", "5s", "ban-duration-custom", "at least 10 s"},
		{"custom", "11y", "ban-duration-custom", "at most 10 years"},
		{"", "999999999y", "ban-duration-custom", "too long"},
	} {
		rec := b.postForm("/jails/ban", "/jails", url.Values{"target": {"192.0.2.1"}, "jail": {"sshd"}, "duration": {tc.duration}, "custom": {tc.custom}})
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("duration %q custom %q: status %d, want 422", tc.duration, tc.custom, rec.Code)
			continue
		}
		if errs := parse(t, rec).Find("#" + tc.field + "-error").Text(); !strings.Contains(errs, tc.want) {
			t.Errorf("duration %q custom %q: %s errors %q, want %q", tc.duration, tc.custom, tc.field, errs, tc.want)
		}
	}
	// From a jail's page, its own page comes back with the message.
	rec := b.postForm("/jails/ban", "/jails/sshd", url.Values{"target": {"192.0.2.1"}, "jail": {"sshd"}, "duration": {"custom"}, "custom": {"-5m"}, "back": {"/jails/sshd"}})
	doc := parse(t, rec)
	if rec.Code != http.StatusUnprocessableEntity || doc.Find("#jail-ban-duration-custom-error").Text() == "" || doc.Find("#jail-ban-title").Length() != 1 {
		t.Errorf("bad time from the jail page: status %d, errors %q", rec.Code, doc.Find("#jail-ban-duration-custom-error").Text())
	}
	if got := bannedIPs(t, sb, "sshd"); len(got) != 0 {
		t.Fatalf("a bad time reached fail2ban: %v", got)
	}
	// Each refused ban is in the audit log, with why.
	entries, _, err := repo.NewAuditStore(a.db).List(context.Background(), models.AuditFilter{}, models.Page{Number: 1, Size: 50})
	refused := 0
	for _, e := range entries {
		if e.Action == models.AuditBan && e.Result != "ok" && e.Result != "" {
			refused++
		}
	}
	if err != nil || refused != 9 {
		t.Errorf("refused bans in the audit log: %d, %v; want 9", refused, err)
	}
}

// A ban for a chosen time on every host: each fail2ban bans, each host
// keeps the chosen time, the dead host is named; an unban on every host
// forgets the times.
func TestBanForAChosenTimeOnEveryHost(t *testing.T) {
	f := fleetApp(t, []string{"web2"}, true)
	rec := f.b.postForm("/jails/ban", "/jails", url.Values{"target": {"198.51.100.8"}, "jail": {"sshd"}, "where": {"all"}, "duration": {"24h"}})
	assertRedirect(t, rec, "/jails")
	for _, sb := range []*sandbox.Sandbox{f.local, f.other["web2"]} {
		if got := bannedIPs(t, sb, "sshd"); len(got) != 1 || got[0] != "198.51.100.8" {
			t.Fatalf("fail2ban bans %v after the ban on every host", got)
		}
	}
	doc := parse(t, f.b.get("/jails"))
	items := doc.Find(`#flash [data-testid="host-results"] li`).Map(func(_ int, s *goquery.Selection) string { return s.Text() })
	if len(items) != 3 || items[0] != "local: banned" || items[1] != "web2: banned" || !strings.Contains(items[2], "Gone host: 198.51.100.8: not banned") {
		t.Fatalf("results per host: %q", items)
	}
	if msg := doc.Find("#flash").Text(); !strings.Contains(msg, "Ban of 198.51.100.8 in sshd for 1 d on every host") {
		t.Fatalf("flash = %q", msg)
	}
	store := repo.NewTimedBans(f.app.db)
	rows, err := store.All(context.Background())
	if err != nil || len(rows) != 2 || rows[0].Host != "local" || rows[1].Host != "web2" {
		t.Fatalf("chosen times = %+v, %v; want local's and web2's", rows, err)
	}
	assertRedirect(t, f.b.postForm("/jails/unban", "/jails", url.Values{"target": {"198.51.100.8"}, "where": {"all"}}), "/jails")
	if rows, err := store.All(context.Background()); err != nil || len(rows) != 0 {
		t.Fatalf("chosen times after the unban on every host = %+v, %v", rows, err)
	}
}
