package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
)

// loggedInWithFail2ban starts a real fail2ban sandbox and a panel set up
// against it, and returns a logged-in browser.
func loggedInWithFail2ban(t *testing.T) (*testApp, *browser, *sandbox.Sandbox) {
	return loggedInWithFail2banTB(t)
}

func loggedInWithFail2banTB(t testing.TB) (*testApp, *browser, *sandbox.Sandbox) {
	t.Helper()
	sb := sandboxtest.Start(t)
	a := newTestApp(t, t.TempDir(), withSocket(sb.SocketPath), withConfigDir(sb.ConfigDir))
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	a.s.status.Refresh(context.Background())
	return a, b, sb
}

func bannedIPs(t testing.TB, sb *sandbox.Sandbox, jail string) []string {
	t.Helper()
	v, err := sb.Client().Call(context.Background(), "get", jail, "banned")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ip := range v.([]any) {
		out = append(out, ip.(string))
	}
	return out
}

func TestJailsPageBanUnbanAgainstRealFail2ban(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)

	doc := parse(t, b.get("/jails"))
	if doc.Find(`tr[data-jail="sshd"]`).Length() != 1 {
		t.Fatalf("sshd missing from the jails table: %s", doc.Find("[data-testid=jails-table]").Text())
	}
	if bar := doc.Find("[data-testid=status-bar]").Text(); !strings.Contains(bar, "Online") || !strings.Contains(bar, "fail2ban 1.") {
		t.Fatalf("status bar = %q", bar)
	}

	// Ban two addresses in one form.
	rec := b.postForm("/jails/ban", "/jails", url.Values{"target": {"203.0.113.7, 198.51.100.0/24"}, "jail": {"sshd"}})
	assertRedirect(t, rec, "/jails")
	doc = parse(t, b.get("/jails"))
	if msg := doc.Find("#flash").Text(); !strings.Contains(msg, "Banned 203.0.113.7, 198.51.100.0/24 in sshd") {
		t.Fatalf("flash after ban = %q", msg)
	}
	if doc.Find(`#active-bans tr[data-ip="203.0.113.7"]`).Length() != 1 {
		t.Fatal("banned IP not in the active bans table")
	}
	jail := parse(t, b.get("/jails/sshd"))
	if jail.Find(`#jail-bans tr[data-ip="203.0.113.7"]`).Length() != 1 || jail.Find(`#jail-bans tr[data-ip="198.51.100.0/24"]`).Length() != 1 {
		t.Fatal("banned addresses not on the jail page")
	}
	if got := bannedIPs(t, sb, "sshd"); len(got) != 2 {
		t.Fatalf("fail2ban bans %v", got)
	}

	// Unban one from its row.
	rec = b.postForm("/jails/unban", "/jails", url.Values{"target": {"203.0.113.7"}, "jail": {"sshd"}, "back": {"/jails/sshd"}})
	assertRedirect(t, rec, "/jails/sshd")
	jail = parse(t, b.get("/jails/sshd"))
	if jail.Find(`#jail-bans tr[data-ip="203.0.113.7"]`).Length() != 0 {
		t.Fatal("unbanned IP still listed")
	}
	if !strings.Contains(jail.Find("#flash").Text(), "Unbanned 203.0.113.7 from sshd") {
		t.Fatalf("flash after unban = %q", jail.Find("#flash").Text())
	}

	// Lookup says where an address is banned.
	doc = parse(t, b.get("/jails?lookup=198.51.100.0/24"))
	if got := doc.Find("[data-testid=lookup-result]").Text(); !strings.Contains(got, "sshd") {
		t.Fatalf("lookup = %q", got)
	}

	// The panel's own bans and unbans are in the archive, though fail2ban
	// deleted the unbanned rows from its database.
	for _, want := range []struct{ ip, action string }{{"203.0.113.7", "ban"}, {"198.51.100.0/24", "ban"}, {"203.0.113.7", "unban"}} {
		n, err := a.db.NewSelect().Table("history_archive").
			Where("ip = ? AND jail = 'sshd' AND action = ? AND origin = 'manual'", want.ip, want.action).Count(context.Background())
		if err != nil || n != 1 {
			t.Errorf("archive rows for %s %s: %d, %v", want.action, want.ip, n, err)
		}
	}

	// Unban all, behind a confirmation that names the count.
	doc = parse(t, b.get("/jails"))
	form := doc.Find(`form[action="/jails/unban-all"]`)
	if c, _ := form.Attr("hx-confirm"); !strings.Contains(c, "Unban all 1 addresses") {
		t.Fatalf("unban-all confirmation = %q", c)
	}
	assertRedirect(t, b.postForm("/jails/unban-all", "/jails", nil), "/jails")
	if got := bannedIPs(t, sb, "sshd"); len(got) != 0 {
		t.Fatalf("after unban all fail2ban still bans %v", got)
	}
}

func TestBadInputIsRefusedBeforeFail2banSeesIt(t *testing.T) {
	_, b, sb := loggedInWithFail2ban(t)
	for _, tc := range []struct{ target, jail, field, want string }{
		{"10.0.0.999", "sshd", "target", "10.0.0.999"},
		{"not-an-ip", "sshd", "target", "not-an-ip"},
		{"192.0.2.0/33", "sshd", "target", "192.0.2.0/33"},
		{"", "sshd", "target", ""},
		{"192.0.2.1", "nosuch", "jail", "no running jail"},
		{"192.0.2.1", "../etc", "jail", ""},
	} {
		rec := b.postForm("/jails/ban", "/jails", url.Values{"target": {tc.target}, "jail": {tc.jail}})
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("ban %q in %q: status %d, want 422", tc.target, tc.jail, rec.Code)
			continue
		}
		errs := parse(t, rec).Find("#ban-" + tc.field + "-error").Text()
		if errs == "" || !strings.Contains(errs, tc.want) {
			t.Errorf("ban %q in %q: %s errors %q", tc.target, tc.jail, tc.field, errs)
		}
	}
	if got := bannedIPs(t, sb, "sshd"); len(got) != 0 {
		t.Fatalf("garbage reached fail2ban: %v", got)
	}
}

func TestJailBansPaginateAsFragments(t *testing.T) {
	_, b, sb := loggedInWithFail2ban(t)
	ips := make([]string, 0, 120)
	for i := 0; i < 120; i++ {
		ips = append(ips, fmt.Sprintf("198.18.%d.%d", i/200, i%200+1))
	}
	if _, err := sb.Client().Call(context.Background(), append([]string{"set", "sshd", "banip"}, ips...)...); err != nil {
		t.Fatal(err)
	}
	doc := parse(t, b.get("/jails/sshd?page=2&size=50"))
	if n := doc.Find("#jail-bans tbody tr[data-ip]").Length(); n != 50 {
		t.Fatalf("page 2 at 50 per page has %d rows", n)
	}
	if !strings.Contains(doc.Find(".pager__info").Text(), "51–100 of 120") {
		t.Fatalf("pager info = %q", doc.Find(".pager__info").Text())
	}
	rec := b.do("GET", "/jails/sshd?page=3&size=50", nil, map[string]string{"HX-Request": "true"})
	body := rec.Body.String()
	if strings.Contains(body, "<html") || !strings.Contains(body, `id="jail-bans"`) || !strings.Contains(body, `data-page="3"`) {
		t.Fatalf("htmx page is not the table fragment: %.300s", body)
	}
	if n := parse(t, rec).Find("tbody tr[data-ip]").Length(); n != 20 {
		t.Fatalf("last page has %d rows, want 20", n)
	}
	// Search narrows the list; out-of-range pages are empty, not errors.
	// "198.18.0.1" matches .1, .10–.19 and .100–.120: 32 addresses.
	doc = parse(t, b.get("/jails/sshd?q=198.18.0.1"))
	if info := doc.Find(".pager__info").Text(); !strings.Contains(info, "of 32") {
		t.Fatalf("search pager info = %q", info)
	}
	if rec := b.get("/jails/sshd?page=999"); rec.Code != http.StatusOK || parse(t, rec).Find("#jail-bans tbody tr[data-ip]").Length() != 0 {
		t.Fatalf("page 999: %d", rec.Code)
	}
	if rec := b.get("/jails/sshd?page=-3&size=100000"); rec.Code != http.StatusOK {
		t.Fatalf("bad page numbers: %d", rec.Code)
	}
	if rec := b.get("/jails/nosuch"); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "no jail") {
		t.Fatalf("unknown jail page: %d", rec.Code)
	}
}

func TestFail2banStoppedThenBack(t *testing.T) {
	_, b, sb := loggedInWithFail2ban(t)
	if err := sb.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := b.get("/jails")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "fail2ban is not answering") {
		t.Fatalf("jails page while fail2ban is down: %d", rec.Code)
	}
	rec = b.postForm("/jails/ban", "/", url.Values{"target": {"192.0.2.1"}, "jail": {"sshd"}})
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "fail2ban did not answer") {
		t.Fatalf("ban while fail2ban is down: %d %.200s", rec.Code, rec.Body)
	}
	doc := parse(t, b.get("/"))
	if bar := doc.Find("[data-testid=status-bar]").Text(); !strings.Contains(bar, "Offline") || !strings.Contains(bar, "fail2ban is offline") {
		t.Fatalf("status bar while down = %q", bar)
	}
	if bar := doc.Find("[data-testid=status-bar]"); bar.AttrOr("hx-trigger", "") != "every 5s" {
		t.Errorf("status bar polls %q while fail2ban is down, want every 5s", bar.AttrOr("hx-trigger", ""))
	}
	if err := sb.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The bar's own poll notices, without waiting for the 30 s probe job.
	waitFor(t, "the status bar to say Online", func() bool {
		return strings.Contains(parse(t, b.do("GET", "/status", nil, map[string]string{"HX-Request": "true"})).Find("[data-testid=status-bar]").Text(), "Online")
	})
	doc = parse(t, b.get("/jails"))
	if doc.Find(`tr[data-jail="sshd"]`).Length() != 1 || !strings.Contains(doc.Find("[data-testid=status-bar]").Text(), "Online") {
		t.Fatal("the panel did not recover when fail2ban came back")
	}
}
