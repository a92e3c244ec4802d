package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/fail2ban/sandbox"
)

// TestJailsOfEveryHost: the jails page of a panel with several hosts groups
// the jails by host and names the host that did not answer; a host's page,
// its jail page and its forms act on that host only; a ban and an unban on
// every host land in each fail2ban and list one result per host.
func TestJailsOfEveryHost(t *testing.T) {
	f := fleetApp(t, []string{"web2"}, true)
	b, sbs := f.b, map[string]*sandbox.Sandbox{"local": f.local, "web2": f.other["web2"]}

	// Every host, grouped; the dead one named.
	doc := parse(t, b.get("/jails"))
	for _, id := range []string{"local", "web2"} {
		g := doc.Find(`[data-host="` + id + `"]`)
		if g.Find(`tr[data-jail="sshd"]`).Length() != 1 {
			t.Fatalf("the group of %s lacks sshd: %q", id, g.Text())
		}
		if href, _ := g.Find(`tr[data-jail="sshd"] a`).Attr("href"); href != "/jails/sshd?host="+id {
			t.Errorf("the jail link of %s is %q", id, href)
		}
	}
	if msg := doc.Find(`[data-host="gone"] [data-testid="host-error"]`).Text(); !strings.Contains(msg, "Gone host: did not answer") {
		t.Fatalf("the dead host's group says %q", msg)
	}
	if checked, _ := doc.Find(`#ban-where-all`).Attr("checked"); checked != "checked" && !doc.Find(`#ban-where-all[checked]`).Is("input") {
		t.Error("the page of every host does not offer to ban on every host by default")
	}

	// One host's page: its forms carry the host.
	doc = parse(t, b.get("/jails?host=web2"))
	if action, _ := doc.Find(`form[action^="/jails/ban"]`).Attr("action"); action != "/jails/ban?host=web2" {
		t.Fatalf("ban form action on web2's page: %q", action)
	}
	if doc.Find(`#ban-where-host[checked]`).Length() != 1 || !strings.Contains(doc.Find(`[data-testid="ban-where"]`).Text(), "This host (web2)") {
		t.Fatalf("web2's ban form: %q", doc.Find(`[data-testid="ban-where"]`).Text())
	}

	// A ban on one host lands only there.
	rec := b.postForm("/jails/ban?host=web2", "/jails?host=web2", url.Values{"target": {"192.0.2.50"}, "jail": {"sshd"}, "where": {"host"}})
	assertRedirect(t, rec, "/jails?host=web2")
	if got := bannedIPs(t, sbs["web2"], "sshd"); !slices.Equal(got, []string{"192.0.2.50"}) {
		t.Fatalf("web2 bans %v", got)
	}
	if got := bannedIPs(t, sbs["local"], "sshd"); len(got) != 0 {
		t.Fatalf("the local host bans %v after a ban on web2", got)
	}
	doc = parse(t, b.get("/jails?host=web2"))
	if msg := doc.Find("#flash").Text(); !strings.Contains(msg, "web2: Banned 192.0.2.50 in sshd") {
		t.Fatalf("flash after the ban on web2: %q", msg)
	}
	if doc.Find(`#active-bans tr[data-ip="192.0.2.50"]`).Length() != 1 {
		t.Fatal("web2's page does not list its ban")
	}
	if action, _ := doc.Find(`#active-bans tr[data-ip="192.0.2.50"] form`).Attr("action"); action != "/jails/unban?host=web2" {
		t.Fatalf("the row's unban acts on %q", action)
	}
	if doc := parse(t, b.get("/jails?host=local")); doc.Find(`#active-bans tr[data-ip="192.0.2.50"]`).Length() != 0 {
		t.Fatal("the local host's page lists web2's ban")
	}

	// The jail page and its controls act on the selected host.
	doc = parse(t, b.get("/jails/sshd?host=web2"))
	if doc.Find(`#jail-bans tr[data-ip="192.0.2.50"]`).Length() != 1 {
		t.Fatal("web2's sshd page does not list its ban")
	}
	if got := doc.Find(`[data-testid="jail-host"]`).Text(); got != "web2" {
		t.Errorf("web2's sshd page names the host %q", got)
	}
	rec = b.postForm("/jails/sshd/stop?host=web2", "/jails/sshd?host=web2", nil)
	assertRedirect(t, rec, "/jails?host=web2")
	if st, err := sbs["web2"].Client().Status(context.Background()); err != nil || slices.Contains(st.Jails, "sshd") {
		t.Fatalf("web2 runs %v after the stop, %v", st.Jails, err)
	}
	if st, err := sbs["local"].Client().Status(context.Background()); err != nil || !slices.Contains(st.Jails, "sshd") {
		t.Fatalf("the local host runs %v after web2's stop, %v", st.Jails, err)
	}
	rec = b.postForm("/jails/sshd/start?host=web2", "/jails?host=web2", url.Values{"from": {"detail"}})
	assertRedirect(t, rec, "/jails/sshd?host=web2")
	if st, err := sbs["web2"].Client().Status(context.Background()); err != nil || !slices.Contains(st.Jails, "sshd") {
		t.Fatalf("web2 runs %v after the start, %v", st.Jails, err)
	}
	rec = b.postForm("/jails/sshd/ignore?host=web2", "/jails/sshd?host=web2", url.Values{"target": {"203.0.113.99"}})
	assertRedirect(t, rec, "/jails/sshd?host=web2")
	if l, _ := sbs["web2"].Client().IgnoreIPs(context.Background(), "sshd"); !slices.Contains(l, "203.0.113.99") {
		t.Fatalf("web2's ignore list: %v", l)
	}
	if l, _ := sbs["local"].Client().IgnoreIPs(context.Background(), "sshd"); slices.Contains(l, "203.0.113.99") {
		t.Fatalf("the local ignore list got web2's entry: %v", l)
	}

	// Refused input on every host: the form again, nothing banned anywhere.
	rec = b.postForm("/jails/ban", "/jails", url.Values{"target": {"300.1.2.3"}, "jail": {"sshd"}, "where": {"all"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(parse(t, rec).Find("#ban-target-error").Text(), "300.1.2.3") {
		t.Fatalf("a bad address on every host: %d %q", rec.Code, parse(t, rec).Find("#ban-target-error").Text())
	}

	// Ban on every host: each fail2ban bans, the dead host is named.
	start := time.Now()
	rec = b.postForm("/jails/ban", "/jails", url.Values{"target": {"198.51.100.7"}, "jail": {"sshd"}, "where": {"all"}})
	took := time.Since(start)
	assertRedirect(t, rec, "/jails")
	if took > 4*time.Second {
		t.Errorf("the ban on every host took %v", took)
	}
	for id, sb := range sbs {
		if got := bannedIPs(t, sb, "sshd"); !slices.Contains(got, "198.51.100.7") {
			t.Fatalf("%s bans %v after the ban on every host", id, got)
		}
	}
	doc = parse(t, b.get("/jails"))
	items := doc.Find(`#flash [data-testid="host-results"] li`).Map(func(_ int, s *goquerySelection) string { return s.Text() })
	want := []string{"local: banned in sshd (1 new)", "web2: banned in sshd (1 new)", "Gone host: did not answer"}
	if len(items) != 3 {
		t.Fatalf("results per host: %q", items)
	}
	for i, w := range want {
		if !strings.HasPrefix(items[i], w) {
			t.Errorf("result %d is %q, want %q…", i, items[i], w)
		}
	}
	if !doc.Find("#flash .flash--warning").Is("div") || !strings.Contains(doc.Find("#flash").Text(), "1 of 3 hosts did not") {
		t.Errorf("the result does not warn that a host did not ban: %q", doc.Find("#flash").Text())
	}

	// Unban on every host, from every jail.
	rec = b.postForm("/jails/unban", "/jails", url.Values{"target": {"198.51.100.7 192.0.2.50"}, "where": {"all"}})
	assertRedirect(t, rec, "/jails")
	for id, sb := range sbs {
		if got := bannedIPs(t, sb, "sshd"); len(got) != 0 {
			t.Fatalf("%s still bans %v after the unban on every host", id, got)
		}
	}
	items = parse(t, b.get("/jails")).Find(`#flash [data-testid="host-results"] li`).Map(func(_ int, s *goquerySelection) string { return s.Text() })
	if len(items) != 3 || !strings.HasPrefix(items[1], "web2: unbanned from every jail (2 lifted)") {
		t.Fatalf("unban results: %q", items)
	}

	// An unknown host is a 404, for pages and forms.
	if rec := b.get("/jails?host=nope"); rec.Code != http.StatusNotFound {
		t.Fatalf("an unknown host answered %d", rec.Code)
	}
	if rec := b.postForm("/jails/ban?host=nope", "/jails", url.Values{"target": {"192.0.2.1"}, "jail": {"sshd"}}); rec.Code != http.StatusNotFound {
		t.Fatalf("a ban on an unknown host answered %d", rec.Code)
	}
}
