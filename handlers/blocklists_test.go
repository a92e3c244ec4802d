package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"bangui/models"
	"bangui/services/blocklists"
)

// blocklistServer serves lists at /<name>; unknown names answer 500.
type blocklistServer struct {
	*httptest.Server
	mu    sync.Mutex
	lists map[string]string
}

func newBlocklistServer(t *testing.T) *blocklistServer {
	s := &blocklistServer{lists: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body, ok := s.lists[strings.TrimPrefix(r.URL.Path, "/")]
		s.mu.Unlock()
		if !ok {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *blocklistServer) serve(name, body string) string {
	s.mu.Lock()
	s.lists[name] = body
	s.mu.Unlock()
	return s.URL + "/" + name
}

var htmxHeaders = map[string]string{"HX-Request": "true"}

// waitImport polls the progress fragment like the page does until the
// import is done, and returns the last fragment.
func waitImport(t *testing.T, b *browser) *goquery.Document {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec := b.do("GET", "/blocklists/progress?was=running", nil, htmxHeaders)
		doc := parse(t, rec)
		if state, _ := doc.Find("#import-status").Attr("data-state"); state == "done" {
			if rec.Header().Get("HX-Trigger") != "import-finished" {
				t.Errorf("finished progress without HX-Trigger: %q", rec.Header().Get("HX-Trigger"))
			}
			return doc
		}
		if time.Now().After(deadline) {
			t.Fatalf("import still running: %s", doc.Find("#import-status").Text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fieldErrors(doc *goquery.Document, id string) string {
	return strings.TrimSpace(doc.Find("#" + id + "-error").Text())
}

func TestBlocklistsPageAgainstRealFail2ban(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	lists := newBlocklistServer(t)
	goodURL := lists.serve("good.txt", "# test list\n192.0.2.61\n192.0.2.62\n2001:db8::61\n198.51.100.0/28 ; range\nbogus\n")

	doc := parse(t, b.get("/blocklists"))
	if h1 := doc.Find("h1#page-title").Text(); h1 != "Blocklists" {
		t.Fatalf("title %q", h1)
	}
	if empty := doc.Find("[data-testid=sources-table] .empty-row").Text(); !strings.Contains(empty, "No lists yet") {
		t.Errorf("empty state = %q", empty)
	}
	if s := doc.Find("[data-testid=schedule-info]").Text(); !strings.Contains(s, "Daily at 03:00 (Europe/Berlin)") {
		t.Errorf("schedule = %q", s)
	}
	if next := doc.Find("[data-testid=next-run] time").AttrOr("datetime", ""); next == "" {
		t.Error("no next run shown")
	}

	// Validation messages per field.
	rec := b.postForm("/blocklists/sources", "/blocklists", url.Values{"name": {""}, "url": {"ftp://example.org/x"}, "enabled": {"on"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad source: %d", rec.Code)
	}
	doc = parse(t, rec)
	if got := fieldErrors(doc, "add-name"); got != "Enter a name for the list." {
		t.Errorf("name error %q", got)
	}
	if got := fieldErrors(doc, "add-url"); got != "Only http:// and https:// addresses can be imported." {
		t.Errorf("url error %q", got)
	}
	if v := doc.Find("#add-url").AttrOr("value", ""); v != "ftp://example.org/x" {
		t.Errorf("the URL was not kept: %q", v)
	}

	// Add, with a name that must be escaped.
	name := `Test <b>list</b>`
	assertRedirect(t, b.postForm("/blocklists/sources", "/blocklists", url.Values{"name": {name}, "url": {goodURL}, "enabled": {"on"}}), "/blocklists")
	rec = b.get("/blocklists")
	if strings.Contains(rec.Body.String(), "<b>list</b>") {
		t.Fatal("the source name is not escaped")
	}
	doc = parse(t, rec)
	if msg := doc.Find("#flash").Text(); !strings.Contains(msg, "Added the list "+name) {
		t.Errorf("flash = %q", msg)
	}
	row := doc.Find(`[data-testid=sources-table] tr[data-source="` + name + `"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), goodURL) || !strings.Contains(row.Text(), "Enabled") {
		t.Fatalf("source row: %q", row.Text())
	}
	href, _ := row.Find("a").First().Attr("href")
	id := strings.TrimPrefix(href, "/blocklists/sources/")

	// The same URL again is refused.
	rec = b.postForm("/blocklists/sources", "/blocklists", url.Values{"name": {"Other"}, "url": {goodURL}})
	if got := fieldErrors(parse(t, rec), "add-url"); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(got, "already has this address") {
		t.Errorf("duplicate URL: %d %q", rec.Code, got)
	}

	// Preview: the full page without JavaScript, the fragment with htmx.
	doc = parse(t, b.get(href+"/preview"))
	counts := doc.Find("[data-testid=preview-counts]").Text()
	for _, want := range []string{"IPv4 addresses2", "IPv6 addresses1", "CIDR ranges1", "Comments1", "Invalid lines1"} {
		if !strings.Contains(strings.ReplaceAll(counts, "\n", ""), want) {
			t.Errorf("preview counts %q lack %q", counts, want)
		}
	}
	if sample := doc.Find("[data-testid=preview-sample]").Text(); !strings.HasPrefix(sample, "# test list\n192.0.2.61") {
		t.Errorf("sample = %q", sample)
	}
	rec = b.do("GET", href+"/preview", nil, htmxHeaders)
	if frag := parse(t, rec); frag.Find("#preview").Length() != 1 || frag.Find("h1").Length() != 0 {
		t.Errorf("preview fragment: %.200s", rec.Body)
	}

	// Import now: progress, then the result per source.
	assertRedirect(t, b.postForm("/blocklists/import", "/blocklists", nil), "/blocklists")
	doc = waitImport(t, b)
	res := doc.Find(`[data-testid=import-results] tr[data-source="` + name + `"]`)
	if got := res.Find("[data-testid=result-imported]").Text(); got != "4" {
		t.Errorf("imported = %q (%s)", got, res.Text())
	}
	if got := res.Find("[data-testid=result-skipped]").Text(); got != "1" {
		t.Errorf("skipped = %q", got)
	}
	// The bans are in the blocklist jail.
	got := bannedIPs(t, sb, models.BlocklistJail)
	if len(got) != 4 {
		t.Fatalf("blocklist jail bans %v", got)
	}
	jail := parse(t, b.get("/jails/"+models.BlocklistJail))
	for _, ip := range []string{"192.0.2.61", "2001:db8::61", "198.51.100.0/28"} {
		if jail.Find(`#jail-bans tr[data-ip="`+ip+`"]`).Length() != 1 {
			t.Errorf("%s not on the jail page", ip)
		}
	}

	// The jail card, which reloads after an import, says the jail runs.
	rec = b.do("GET", "/blocklists/jail", nil, htmxHeaders)
	if card := parse(t, rec).Find("#blocklist-jail").Text(); !strings.Contains(card, "Running") || !strings.Contains(card, "bans 4 addresses") {
		t.Errorf("jail card = %q", card)
	}

	// Import the same list again: unchanged, nothing banned again.
	assertRedirect(t, b.postForm("/blocklists/import", "/blocklists", url.Values{"source": {id}}), "/blocklists")
	doc = waitImport(t, b)
	if txt := doc.Find("[data-testid=import-results]").Text(); !strings.Contains(txt, "Unchanged") {
		t.Errorf("second import: %q", txt)
	}

	// The log lists both runs; its pages come as fragments.
	doc = parse(t, b.get("/blocklists"))
	if n := doc.Find("#import-log tbody tr").Length(); n != 2 {
		t.Errorf("%d log rows, want 2", n)
	}
	rec = b.do("GET", "/blocklists?page=1", nil, htmxHeaders)
	if frag := parse(t, rec); frag.Find("#import-log").Length() != 1 || frag.Find("h1").Length() != 0 {
		t.Errorf("log fragment: %.200s", rec.Body)
	}

	// Edit: a bad URL is refused on the source's page, a good edit saved.
	rec = b.postForm(href, href, url.Values{"name": {"Renamed"}, "url": {"file:///etc/passwd"}})
	if got := fieldErrors(parse(t, rec), "edit-url"); rec.Code != http.StatusUnprocessableEntity || got == "" {
		t.Errorf("bad edit: %d %q", rec.Code, got)
	}
	assertRedirect(t, b.postForm(href, href, url.Values{"name": {"Renamed"}, "url": {goodURL}}), href)
	doc = parse(t, b.get(href))
	if h1 := doc.Find("h1#page-title").Text(); h1 != "Renamed" {
		t.Errorf("after the edit the title is %q", h1)
	}
	if doc.Find("#edit-enabled").AttrOr("checked", "none") != "none" {
		t.Error("the source is still enabled (the edit left the box unticked)")
	}

	// Enable again from the list, then delete: the log stays readable.
	assertRedirect(t, b.postForm(href+"/enabled", "/blocklists", url.Values{"enabled": {"on"}}), "/blocklists")
	assertRedirect(t, b.postForm(href+"/delete", "/blocklists", nil), "/blocklists")
	doc = parse(t, b.get("/blocklists"))
	if msg := doc.Find("#flash").Text(); !strings.Contains(msg, "Deleted the list Renamed") {
		t.Errorf("flash after delete = %q", msg)
	}
	if doc.Find("[data-testid=sources-table] tr[data-source]").Length() != 0 {
		t.Error("the source is still listed")
	}
	if logTxt := doc.Find("#import-log").Text(); strings.Count(logTxt, "(deleted)") != 2 {
		t.Errorf("log after delete: %q", logTxt)
	}
	if b.get(href).Code != http.StatusNotFound {
		t.Error("the deleted source's page does not answer 404")
	}

	// Schedule: refused input keeps the form, a weekly schedule is saved.
	rec = b.postForm("/blocklists/schedule", "/blocklists", url.Values{"frequency": {"weekly"}, "time": {"25:00"}, "weekday": {"9"}})
	doc = parse(t, rec)
	if rec.Code != http.StatusUnprocessableEntity || fieldErrors(doc, "schedule-time") == "" || fieldErrors(doc, "schedule-weekday") == "" {
		t.Errorf("bad schedule: %d", rec.Code)
	}
	assertRedirect(t, b.postForm("/blocklists/schedule", "/blocklists", url.Values{"frequency": {"weekly"}, "time": {"05:45"}, "weekday": {"0"}}), "/blocklists")
	doc = parse(t, b.get("/blocklists"))
	if msg := doc.Find("#flash").Text(); !strings.Contains(msg, "every Sunday at 05:45") {
		t.Errorf("flash = %q", msg)
	}
	next, err := time.Parse(time.RFC3339, doc.Find("[data-testid=next-run] time").AttrOr("datetime", ""))
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if err != nil || next.In(berlin).Weekday() != time.Sunday || next.In(berlin).Hour() != 5 || next.In(berlin).Minute() != 45 {
		t.Errorf("next run %v (%v), want a Sunday 05:45 in Berlin", next.In(berlin), err)
	}
	if sel := doc.Find("#schedule-weekday option[selected]").AttrOr("value", ""); sel != "0" {
		t.Errorf("weekday selected: %q", sel)
	}
	_ = a
}

func TestBlocklistScheduledErrorsShowBadgeAndWarning(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	lists := newBlocklistServer(t)
	if _, err := a.s.blocklists.CreateSource(context.Background(), blocklists.SourceInput{Name: "Broken", URL: lists.URL + "/missing.txt", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	doc := parse(t, b.get("/blocklists"))
	if doc.Find("[data-testid=nav-alert]").Length() != 0 || doc.Find("[data-testid=schedule-warning]").Length() != 0 {
		t.Fatal("a warning before any scheduled run")
	}
	// fail2ban is not running here: the scheduled run fails for every source.
	a.s.blocklists.RunScheduled(context.Background())
	doc = parse(t, b.get("/jails"))
	badge := doc.Find(`#site-nav a[href="/blocklists"] [data-testid=nav-alert]`)
	if badge.Length() != 1 || !strings.Contains(badge.Text(), "the last scheduled import had errors") {
		t.Fatalf("nav badge: %q", badge.Text())
	}
	doc = parse(t, b.get("/blocklists"))
	if w := doc.Find("[data-testid=schedule-warning]").Text(); !strings.Contains(w, "Broken:") {
		t.Errorf("warning = %q", w)
	}
	if j := doc.Find("[data-testid=blocklist-jail]").Text(); !strings.Contains(j, "fail2ban is not answering") {
		t.Errorf("jail card = %q", j)
	}
	if l := doc.Find("[data-testid=last-run]").Text(); !strings.Contains(l, "1 with errors") {
		t.Errorf("last run = %q", l)
	}
}
