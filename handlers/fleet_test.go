package handlers

import (
	"context"
	"encoding/csv"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/services"
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

// fleetPanel is a panel with several hosts: "local" and the others on their own
// fail2ban sandboxes, and optionally a host whose fail2ban is gone.
type fleetPanel struct {
	app   *testApp
	b     *browser
	local *sandbox.Sandbox
	other map[string]*sandbox.Sandbox // by host id
}

// fleetApp starts a panel on a local sandbox plus one sandbox per id in
// others (named "Name of <id>" when named), and with dead a host "gone"
// whose socket does not exist; it returns a logged-in browser.
func fleetApp(t *testing.T, others []string, dead bool) *fleetPanel {
	t.Helper()
	a, b, sb := loggedInWithFail2ban(t)
	f := &fleetPanel{app: a, b: b, local: sb, other: map[string]*sandbox.Sandbox{}}
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
	// Before login the host is not checked: a stranger cannot tell which
	// host ids exist, every one leads to the login page.
	for _, id := range []string{"web2", "nope"} {
		if rec := f.app.browser().get("/history?host=" + id); rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "/login") {
			t.Errorf("logged out, host %s: status %d, Location %q", id, rec.Code, rec.Header().Get("Location"))
		}
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
	// In German, the reason too.
	doc = parse(t, b.do("GET", "/status", nil, map[string]string{"HX-Request": "true", "Accept-Language": "de"}))
	if got := doc.Find("[data-testid=status-offline]").Text(); !strings.Contains(got, "Gone host hat nicht geantwortet: Der Socket von fail2ban antwortet nicht: fail2ban ist angehalten oder startet neu.") {
		t.Fatalf("offline hosts in German = %q", got)
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

// bannedOnFleet bans addresses on the local host and web2 and syncs the
// archive until it holds all four bans (the dead host's sync fails and is
// ignored).
func bannedOnFleet(t *testing.T, f *fleetPanel) {
	t.Helper()
	banIn(t, f.local, "sshd", "192.0.2.1", "192.0.2.2")
	banIn(t, f.other["web2"], "sshd", "192.0.2.1", "192.0.2.3")
	ctx := context.Background()
	waitFor(t, "both hosts' bans in the archive", func() bool {
		f.app.sync.Run(ctx) // fails for the dead host after syncing the others
		var n int
		err := f.app.db.NewSelect().Table("history_archive").ColumnExpr("count(*)").Where("action = 'ban'").Scan(ctx, &n)
		return err == nil && n >= 4
	})
	f.app.s.status.Refresh(ctx)
}

// rowsByHost returns a table's rows as "host ip", sorted.
func rowsByHost(doc *goquery.Document, table string) []string {
	var out []string
	doc.Find(table + " tbody tr[data-ip]").Each(func(_ int, tr *goquery.Selection) {
		ip, _ := tr.Attr("data-ip")
		host := strings.TrimSpace(tr.Find(`td[data-label=Host]`).Text())
		out = append(out, strings.TrimSpace(host+" "+ip))
	})
	slices.Sort(out)
	return out
}

func TestCombinedPagesAddUpEveryHost(t *testing.T) {
	f := fleetApp(t, []string{"web2"}, true)
	f.app.s.hosts.SetName("web2", "Web two")
	bannedOnFleet(t, f)
	b := f.b
	all := []string{"Web two 192.0.2.1", "Web two 192.0.2.3", "local 192.0.2.1", "local 192.0.2.2"}

	// Dashboard: the table, the trend and the per-jail bars add up hosts.
	doc := parse(t, b.get("/"))
	if got := rowsByHost(doc, "#dash-bans"); !slices.Equal(got, all) {
		t.Fatalf("combined dashboard rows = %q, want %q", got, all)
	}
	if doc.Find(`#dash-bans th:contains("Host")`).Length() != 1 {
		t.Fatal("the combined dashboard has no host column")
	}
	if got := doc.Find("#trend desc").Text(); !strings.HasPrefix(got, "4 bans in 24 buckets") {
		t.Fatalf("combined trend = %q", got)
	}
	if got := doc.Find("#per-jail desc").Text(); got != "4 bans in 1 jails." {
		t.Fatalf("combined per-jail = %q", got)
	}
	if got := doc.Find("[data-testid=status-offline]").Text(); !strings.Contains(got, "Gone host did not answer") {
		t.Fatalf("the dashboard does not name the offline host: %q", got)
	}
	// One host selected: its bans only, without a host column.
	doc = parse(t, b.get("/?host=web2"))
	if got := rowsByHost(doc, "#dash-bans"); !slices.Equal(got, []string{"192.0.2.1", "192.0.2.3"}) {
		t.Fatalf("web2's dashboard rows = %q", got)
	}
	if doc.Find(`th:contains("Host")`).Length() != 0 {
		t.Fatal("one selected host still shows a host column")
	}
	if got := doc.Find("#trend desc").Text(); !strings.HasPrefix(got, "2 bans in 24 buckets") {
		t.Fatalf("web2's trend = %q", got)
	}
	// The dashboard's table pages (htmx) keep the host too.
	frag := parse(t, b.do("GET", "/?host=local", nil, map[string]string{"HX-Request": "true"}))
	if got := rowsByHost(frag, "#dash-bans"); !slices.Equal(got, []string{"192.0.2.1", "192.0.2.2"}) {
		t.Fatalf("local's dashboard fragment rows = %q", got)
	}

	// History and its CSV.
	doc = parse(t, b.get("/history"))
	if got := rowsByHost(doc, "#history-bans"); !slices.Equal(got, all) {
		t.Fatalf("combined history rows = %q", got)
	}
	if got := rowsByHost(parse(t, b.get("/history?host=web2")), "#history-bans"); !slices.Equal(got, []string{"192.0.2.1", "192.0.2.3"}) {
		t.Fatalf("web2's history rows = %q", got)
	}
	rec := b.get("/history.csv")
	rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil || len(rows) != 5 {
		t.Fatalf("CSV: %d rows %v\n%s", len(rows), err, rec.Body)
	}
	if last := rows[0][len(rows[0])-1]; last != "host" {
		t.Fatalf("CSV header ends with %q, want host", last)
	}
	var csvRows []string
	for _, r := range rows[1:] {
		csvRows = append(csvRows, r[len(r)-1]+" "+r[1])
	}
	slices.Sort(csvRows)
	if want := []string{"local 192.0.2.1", "local 192.0.2.2", "web2 192.0.2.1", "web2 192.0.2.3"}; !slices.Equal(csvRows, want) {
		t.Fatalf("CSV rows = %q, want %q", csvRows, want)
	}
	rows, _ = csv.NewReader(strings.NewReader(b.get("/history.csv?host=web2").Body.String())).ReadAll()
	if len(rows) != 3 {
		t.Fatalf("web2's CSV has %d rows, want a header and 2", len(rows))
	}

	// The world map's table.
	doc = parse(t, b.get("/map"))
	if got := rowsByHost(doc, "#map-bans"); !slices.Equal(got, all) {
		t.Fatalf("combined map rows = %q", got)
	}
	if got := rowsByHost(parse(t, b.get("/map?host=local")), "#map-bans"); !slices.Equal(got, []string{"192.0.2.1", "192.0.2.2"}) {
		t.Fatalf("local's map rows = %q", got)
	}
}

func TestIPPageShowsTheAddressOnEveryHost(t *testing.T) {
	f := fleetApp(t, []string{"web2"}, true)
	bannedOnFleet(t, f)
	b := f.b

	start := time.Now()
	doc := parse(t, b.get("/history/192.0.2.1"))
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the per-IP page took %s with a host down", took)
	}
	if got := doc.Find("[data-testid=ip-bans]").Text(); got != "2" {
		t.Fatalf("bans of 192.0.2.1 on every host = %q, want 2", got)
	}
	state := map[string]string{}
	doc.Find("[data-testid=ip-host]").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-host")
		state[id] = strings.Join(strings.Fields(s.Text()), " ")
	})
	if len(state) != 3 {
		t.Fatalf("per-host sections = %q, want local, web2 and gone", state)
	}
	for _, id := range []string{"local", "web2"} {
		if !strings.Contains(state[id], "Banned in sshd") {
			t.Errorf("%s: %q, want banned in sshd", id, state[id])
		}
	}
	if !strings.Contains(state["gone"], "Gone host did not answer") {
		t.Errorf("gone: %q, want it named as not answering", state["gone"])
	}
	// Each host's forms act on that host and come back to every host.
	form := doc.Find(`[data-host=web2] form[action^="/jails/unban"]`)
	if action, _ := form.Attr("action"); action != "/jails/unban?host=web2" {
		t.Fatalf("web2's unban form posts to %q", action)
	}
	if back, _ := form.Find(`input[name=back]`).Attr("value"); back != "/history/192.0.2.1?host=" {
		t.Fatalf("web2's unban form comes back to %q", back)
	}
	if got := doc.Find("[data-testid=ip-timeline]").Text(); !strings.Contains(got, "on web2") || !strings.Contains(got, "on local") {
		t.Fatalf("timeline does not name the hosts: %q", got)
	}

	// One host selected: its events and state only.
	doc = parse(t, b.get("/history/192.0.2.3?host=web2"))
	if got := doc.Find("[data-testid=ip-bans]").Text(); got != "1" {
		t.Fatalf("bans of 192.0.2.3 on web2 = %q", got)
	}
	if n := doc.Find("[data-testid=ip-host]").Length(); n != 1 {
		t.Fatalf("%d host sections with one host selected", n)
	}
	if rec := b.get("/history/192.0.2.3?host=local"); rec.Code != http.StatusNotFound {
		t.Fatalf("192.0.2.3 on local (never seen there): status %d, want 404", rec.Code)
	}
}

// slowHost registers a host "slow" whose socket accepts connections and
// never answers, as a hung fail2ban or agent would.
func slowHost(t *testing.T, a *testApp) {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "hung.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // read nothing, answer nothing
		}
	}()
	h := namedHost{Host: hosts.NewLocal(hosts.LocalOptions{Socket: sock, ConfigDir: dir}), id: "slow"}
	if err := a.s.hosts.Add(h); err != nil {
		t.Fatal(err)
	}
}

func TestHungHostHoldsNoPageLongerThanItsDeadline(t *testing.T) {
	f := fleetApp(t, []string{"web2"}, false)
	bannedOnFleet(t, f)
	slowHost(t, f.app)
	b := f.b
	limit := services.HostDeadline + time.Second

	start := time.Now()
	doc := parse(t, b.do("GET", "/status", nil, map[string]string{"HX-Request": "true"}))
	if took := time.Since(start); took > limit {
		t.Fatalf("the status bar took %s with a hung host", took)
	}
	if got := doc.Find("[data-testid=status-offline]").Text(); !strings.Contains(got, "slow did not answer") {
		t.Fatalf("the status bar does not name the hung host: %q", got)
	}
	if got := doc.Find("[data-testid=status-banned]").Text(); got != "4" {
		t.Fatalf("banned now = %q, want the other hosts' 4", got)
	}

	start = time.Now()
	rec := b.get("/history/192.0.2.1")
	if took := time.Since(start); took > limit {
		t.Fatalf("the per-IP page took %s with a hung host", took)
	}
	doc = parse(t, rec)
	if got := doc.Find(`[data-host=slow] [data-testid=ip-offline]`).Text(); !strings.Contains(got, "slow did not answer") {
		t.Fatalf("the per-IP page does not name the hung host: %q", got)
	}
	if got := doc.Find(`[data-host=web2] [data-testid=ip-state]`).Text(); !strings.Contains(got, "Banned in sshd") {
		t.Fatalf("web2's state = %q", got)
	}

	// Archive-backed pages do not ask hosts at all.
	for _, p := range []string{"/", "/history", "/map", "/history.csv"} {
		start = time.Now()
		if rec := b.get(p); rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", p, rec.Code)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s took %s with a hung host", p, took)
		}
	}
}
