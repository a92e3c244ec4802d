package handlers

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
)

// namedHost is a real local fail2ban registered under another id, as a
// remote host would be: it hides hosts.Database, so the panel reads its
// events from the archive only.
type namedHost struct {
	hosts.Host
	id string
}

func (h namedHost) ID() string { return h.id }

func (h namedHost) Close() error { return h.Host.(*hosts.Local).Close() }

// fleet is a panel with several hosts: "local" and the others on their own
// fail2ban sandboxes, and optionally a host whose fail2ban is gone.
type fleet struct {
	app   *testApp
	b     *browser
	local *sandbox.Sandbox
	other map[string]*sandbox.Sandbox // by host id
}

// fleetApp starts a panel on a local sandbox plus one sandbox per id in
// others (named "Name of <id>" when named), and with dead a host "gone"
// whose socket does not exist; it returns a logged-in browser.
func fleetApp(t *testing.T, others []string, dead bool) *fleet {
	t.Helper()
	a, b, sb := loggedInWithFail2ban(t)
	f := &fleet{app: a, b: b, local: sb, other: map[string]*sandbox.Sandbox{}}
	for _, id := range others {
		osb := sandboxtest.Start(t)
		h := namedHost{Host: hosts.NewLocal(hosts.LocalOptions{Socket: osb.SocketPath, ConfigDir: osb.ConfigDir, ClientPath: "fail2ban-client"}), id: id}
		if err := a.s.hosts.Add(h); err != nil {
			t.Fatal(err)
		}
		f.other[id] = osb
	}
	if dead {
		dir := t.TempDir()
		h := namedHost{Host: hosts.NewLocal(hosts.LocalOptions{Socket: filepath.Join(dir, "gone.sock"), ConfigDir: dir}), id: "gone"}
		if err := a.s.hosts.Add(h); err != nil {
			t.Fatal(err)
		}
		a.s.hosts.SetName("gone", "Gone host")
	}
	a.s.status.Refresh(context.Background())
	return f
}

// hostOptions returns the host selector's options as "value=label".
func selectorOptions(doc *goquery.Document) []string {
	var out []string
	doc.Find(`[data-testid=host-select] select[name=host] option`).Each(func(_ int, o *goquery.Selection) {
		v, _ := o.Attr("value")
		label := o.Text()
		if _, sel := o.Attr("selected"); sel {
			label += " (selected)"
		}
		out = append(out, v+"="+label)
	})
	return out
}

func TestSingleHostHasNoSelectorAndNoHostColumn(t *testing.T) {
	_, b, _ := loggedInWithFail2ban(t)
	for _, p := range []string{"/", "/history", "/map", "/jails"} {
		doc := parse(t, b.get(p))
		if n := doc.Find("[data-testid=host-select]").Length(); n != 0 {
			t.Errorf("%s shows a host selector with one host", p)
		}
		if n := doc.Find(`th:contains("Host")`).Length(); n != 0 {
			t.Errorf("%s shows a host column with one host", p)
		}
		if href, _ := doc.Find(`#site-nav a[href="/history"]`).Attr("href"); href != "/history" {
			t.Errorf("%s: nav link to history = %q", p, href)
		}
	}
	bar := parse(t, b.get("/")).Find("[data-testid=status-bar]").Text()
	if !strings.Contains(bar, "Online") || strings.Contains(bar, "hosts online") {
		t.Fatalf("single-host status bar = %q", bar)
	}
}

func TestHostSelectorKeepsTheHostInEveryLink(t *testing.T) {
	f := fleetApp(t, []string{"web2"}, false)
	f.app.s.hosts.SetName("web2", "Web two")
	b := f.b

	doc := parse(t, b.get("/history?range=7d&page=2"))
	want := []string{"=All hosts (selected)", "local=local", "web2=Web two"}
	if got := selectorOptions(doc); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("selector options = %q, want %q", got, want)
	}
	// The selector goes back to the same page with its filters, at page 1.
	form := doc.Find("[data-testid=host-select]")
	if action, _ := form.Attr("action"); action != "/history" {
		t.Fatalf("selector action = %q", action)
	}
	if v, _ := form.Find(`input[name=range]`).Attr("value"); v != "7d" || form.Find(`input[name=page]`).Length() != 0 {
		t.Fatalf("selector keeps range %q and page %d", v, form.Find(`input[name=page]`).Length())
	}

	doc = parse(t, b.get("/history?host=web2&range=7d"))
	if got := selectorOptions(doc); len(got) != 3 || got[2] != "web2=Web two (selected)" {
		t.Fatalf("selector with web2 chosen = %q", got)
	}
	// Navigation, filter links, the CSV link, the status bar's poll and the
	// filter form all keep the host.
	checks := map[string]string{
		`#site-nav a[aria-current]`:     "href",
		`#site-nav a[href^="/jails"]`:   "href",
		`[data-filter="origin-manual"]`: "href",
		`a[download]`:                   "href",
		`[data-testid=status-bar]`:      "hx-get",
		`form[action^="/logout"]`:       "action",
		`#history-bans [data-pager]`:    "href",
	}
	for sel, attr := range checks {
		s := doc.Find(sel).First()
		if s.Length() == 0 {
			if sel == `#history-bans [data-pager]` {
				continue // one page only
			}
			t.Errorf("no %s on the page", sel)
			continue
		}
		v, _ := s.Attr(attr)
		u, err := url.Parse(v)
		if err != nil || u.Query().Get("host") != "web2" {
			t.Errorf("%s %s = %q: does not keep host=web2", sel, attr, v)
		}
	}
	if v, _ := doc.Find(`form[role=search] input[name=host]`).Attr("value"); v != "web2" {
		t.Errorf("the history filter form does not carry the host (%q)", v)
	}

	// An unknown host is a 404 that says so.
	rec := b.get("/history?host=nope")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "Unknown host") {
		t.Fatalf("unknown host: status %d body %.300s", rec.Code, rec.Body)
	}
}

func TestStatusBarSumsHostsAndNamesTheOfflineOne(t *testing.T) {
	f := fleetApp(t, []string{"web2"}, true)
	b := f.b
	banIn(t, f.local, "sshd", "192.0.2.1", "192.0.2.2")
	banIn(t, f.other["web2"], "sshd", "192.0.2.3")
	f.app.s.status.Refresh(context.Background())

	start := time.Now()
	rec := b.do("GET", "/status", nil, map[string]string{"HX-Request": "true"})
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the status bar took %s with a host down", took)
	}
	doc := parse(t, rec)
	if got := doc.Find("[data-testid=status-hosts]").Text(); got != "2 of 3 hosts online" {
		t.Fatalf("hosts badge = %q", got)
	}
	if got := doc.Find("[data-testid=status-banned]").Text(); got != "3" {
		t.Fatalf("banned now = %q, want 3 (2 + 1)", got)
	}
	if got := doc.Find("[data-testid=status-jails]").Text(); got != "2" {
		t.Fatalf("active jails = %q, want 2", got)
	}
	if got := doc.Find("[data-testid=status-offline]").Text(); !strings.Contains(got, "Gone host did not answer:") || !strings.Contains(got, "fail2ban") {
		t.Fatalf("offline hosts = %q", got)
	}
	// One host selected: its own bar.
	doc = parse(t, b.get("/status?host=web2"))
	if got := doc.Find("[data-testid=status-banned]").Text(); got != "1" {
		t.Fatalf("web2's banned now = %q, want 1", got)
	}
	if doc.Find("[data-testid=status-hosts]").Length() != 0 {
		t.Fatal("one selected host shows a fleet badge")
	}
}

// banIn bans ips in a sandbox's jail directly.
func banIn(t testing.TB, sb *sandbox.Sandbox, jail string, ips ...string) {
	t.Helper()
	if _, err := sb.Client().Call(context.Background(), append([]string{"set", jail, "banip"}, ips...)...); err != nil {
		t.Fatal(err)
	}
}
