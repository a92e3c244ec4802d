package handlers

// Hostile input at the HTTP level (issue 9, part 3): script payloads in
// everything the panel shows, SQL-meaningful characters in every filter,
// oversized requests, absurd page numbers, invalid addresses and settings,
// and bytes that are not UTF-8. Each case asserts what a user would see: the
// status, the message, and that nothing reached fail2ban or the database.

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"bangui/app"
	"bangui/fail2ban"
	"bangui/models"
	"bangui/repo"
	"bangui/services/blocklists"
)

// Script payloads, each distinctive so a failure names its source. They
// close attributes and elements in every way a template could get wrong.
const (
	xssJail    = `j"><img src=x onerror=alert('jail')>`
	xssLog     = `Failed password for root from 203.0.113.5 </td></tr><script>alert("log")</script><img src=x onerror=alert('log2')>`
	xssFilter  = `x"><img src=x onerror=alert('filter')>`
	xssSection = `s'><svg onload=alert('section')>`
	xssList    = `<script>alert('list')</script>"><img src=x onerror=alert('list2')>`
	xssListURL = `http://192.0.2.1/list.txt?a="><img/src=x/onerror=alert('url')>&b='><script>alert('url2')</script>`
	xssRunning = `r"><img src=x onerror=alert('running')>`
	xssQuery   = `q"'><script>alert('query')</script><img src=x onerror=alert('query2')>`
)

// assertInert fails when the HTML body contains markup that would run
// script: an inline <script>, a script from anywhere but our assets, any
// on* or hx-on* attribute, or a javascript: URL. A parse-level check, so
// it covers text, attribute values (value, href, hx-*, data-*) and raw text
// alike.
func assertInert(t testing.TB, what, body string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: not HTML: %v", what, err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				k := strings.ToLower(a.Key)
				if strings.HasPrefix(k, "on") || strings.HasPrefix(k, "hx-on") {
					t.Errorf("%s: <%s> carries the event handler %s=%q", what, n.Data, a.Key, a.Val)
				}
				if k == "href" || k == "src" || k == "action" || strings.HasPrefix(k, "hx-get") || strings.HasPrefix(k, "hx-post") {
					if strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
						t.Errorf("%s: <%s %s=%q>", what, n.Data, a.Key, a.Val)
					}
					// In-app links are built with escaping: no quote,
					// bracket or space survives into the URL.
					if strings.HasPrefix(a.Val, "/") && strings.ContainsAny(a.Val, "\"'<> ") {
						t.Errorf("%s: <%s %s=%q> is not escaped", what, n.Data, a.Key, a.Val)
					}
				}
			}
			if n.Data == "script" {
				src := ""
				for _, a := range n.Attr {
					if a.Key == "src" {
						src = a.Val
					}
				}
				if !strings.Contains(src, "/assets/") {
					t.Errorf("%s: a <script> that is not ours: src=%q body=%q", what, src, nodeText(n))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, raw := range []string{"<script>alert", "<img src=x", "<img/src=x", "<svg onload"} {
		if strings.Contains(body, raw) {
			i := strings.Index(body, raw)
			t.Errorf("%s: the raw payload %q is in the response: …%s…", what, raw, body[max(0, i-80):min(len(body), i+80)])
		}
	}
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// pageShows reports whether the page shows payload as data: in its text or
// as the whole or part of an attribute value (escaped in the source, so the
// parsed value is the payload itself).
func pageShows(doc *goquery.Document, payload string) bool {
	if strings.Contains(doc.Text(), payload) {
		return true
	}
	found := false
	doc.Find("*").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		for _, a := range s.Nodes[0].Attr {
			if strings.Contains(a.Val, payload) {
				found = true
				return false
			}
		}
		return true
	})
	return found
}

// writeFail2banBan inserts a ban into fail2ban's own database as fail2ban
// would (jail row first), with data as the raw JSON text of the data column.
func writeFail2banBan(t testing.TB, dbFile, jail, ip, data string, at int64) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbFile+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT OR IGNORE INTO jails(name, enabled) VALUES(?, 1)`, jail); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES(?, ?, ?, 600, 1, ?)`,
		jail, ip, at, data); err != nil {
		t.Fatal(err)
	}
}

func TestHostileXSSPayloadsAreShownEscaped(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	// fail2ban runs a jail whatever its section is called.
	for _, cmd := range [][]string{{"add", xssRunning, "polling"}, {"start", xssRunning}} {
		if _, err := sb.Client().Call(context.Background(), cmd...); err != nil {
			t.Fatal(err)
		}
	}
	a.s.status.Refresh(context.Background())
	now := time.Now().Unix()

	// From fail2ban's database: a jail name and a log line.
	writeFail2banBan(t, sb.DBFile, xssJail, "203.0.113.5",
		fmt.Sprintf(`{"matches": [%q], "failures": 5}`, xssLog), now-60)
	writeFail2banBan(t, sb.DBFile, "sshd", "203.0.113.6",
		fmt.Sprintf(`{"matches": [%q], "failures": 5}`, xssLog), now-30)
	// From the configuration directory: a filter file name and a jail
	// section (disabled; fail2ban does not reload during the test).
	if err := os.WriteFile(filepath.Join(sb.ConfigDir, "filter.d", xssFilter+".conf"),
		[]byte("[Definition]\nfailregex = ^x <HOST>$\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sb.ConfigDir, "jail.d", "hostile.local"),
		[]byte("["+xssSection+"]\nenabled = false\nfilter = sshd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Values and option names inside configuration files, and a .local
	// file with a hostile name.
	for name, content := range map[string]string{
		"filter.d/hostile-content.conf": "[Definition]\nfailregex = ^</textarea>" + xssQuery + " <HOST>$\n",
		"action.d/hostile-action.conf": "[Definition]\nactionban = echo '</textarea>" + xssQuery + "' <ip>\n\n[Init]\n" +
			xssSection + " = " + xssQuery + "\n",
		"jail.d/" + xssFilter + ".local": "# " + xssQuery + "\n",
	} {
		if err := os.WriteFile(filepath.Join(sb.ConfigDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// From a user: a blocklist with a hostile name and URL.
	rec := b.postForm("/blocklists/sources", "/blocklists", url.Values{"name": {xssList}, "url": {xssListURL}, "enabled": {"on"}})
	assertRedirect(t, rec, "/blocklists")
	rec = b.get("/blocklists") // with the flash that names the new list
	assertInert(t, "flash after adding a list", rec.Body.String())
	if msg := parse(t, rec).Find("#flash").Text(); !strings.Contains(msg, "Added the list "+xssList) {
		t.Errorf("flash %q", msg)
	}
	// A refused blocklist form echoes what was typed into value="…".
	rec = b.postForm("/blocklists/sources", "/blocklists", url.Values{"name": {xssQuery}, "url": {"ftp://" + xssQuery}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad blocklist form answered %d", rec.Code)
	}
	assertInert(t, "refused blocklist form", rec.Body.String())
	if v := parse(t, rec).Find("#add-name").AttrOr("value", ""); v != xssQuery {
		t.Errorf("refused form keeps the name as %q", v)
	}

	var srcID string
	parse(t, b.get("/blocklists")).Find(`[data-testid=sources-table] tr[data-source] a`).Each(func(_ int, s *goquery.Selection) {
		if h, _ := s.Attr("href"); strings.HasPrefix(h, "/blocklists/sources/") && srcID == "" {
			srcID = strings.TrimPrefix(h, "/blocklists/sources/")
		}
	})
	if srcID == "" {
		t.Fatal("the hostile blocklist is not listed")
	}

	tok := b.csrfFrom("/jails")
	q := url.QueryEscape(xssQuery)
	for _, tc := range []struct {
		page  string
		hdr   map[string]string
		shows []string // payloads the page must show as text or attribute data
	}{
		{page: "/?range=24h", shows: []string{xssJail, xssLog}},
		{page: "/?range=24h", hdr: htmxHeaders, shows: []string{xssJail, xssLog}},
		{page: "/history?range=all&source=fail2ban", shows: []string{xssJail, xssLog}},
		{page: "/history?range=all&source=fail2ban&ip=" + q + "&jail=" + q, shows: []string{xssQuery[:45]}}, // the IP filter keeps 45 characters
		{page: "/history/203.0.113.5", shows: []string{xssJail, xssLog}},
		{page: "/history/" + url.PathEscape(xssQuery)},
		{page: "/jails?q=" + q + "&lookup=" + q, shows: []string{xssQuery, xssRunning}},
		{page: "/jails", hdr: htmxHeaders},
		{page: "/status", hdr: htmxHeaders},
		{page: "/jails/sshd?q=" + q, shows: []string{xssQuery}},
		{page: "/jails/" + url.PathEscape(xssJail)},
		{page: "/map?range=24h&country=" + q},
		{page: "/config", shows: []string{xssSection, xssRunning}},
		{page: "/config/filters", shows: []string{xssFilter}},
		{page: "/config/filters?q=" + q, shows: []string{xssQuery}},
		{page: "/config/filters/" + url.PathEscape(xssFilter)},
		{page: "/config/filters/hostile-content", shows: []string{"</textarea>" + xssQuery}},
		{page: "/config/actions/hostile-action", shows: []string{"</textarea>" + xssQuery}},
		{page: "/config/raw"},
		{page: "/config/jails/" + url.PathEscape(xssSection)},
		{page: "/config/raw?file=" + q, shows: []string{xssQuery}},
		{page: "/config/log?q=" + q},
		{page: "/blocklists", shows: []string{xssList, xssListURL}},
		{page: "/blocklists/sources/" + srcID, shows: []string{xssList, xssListURL}},
	} {
		rec := b.do("GET", tc.page, nil, tc.hdr)
		what := fmt.Sprintf("GET %s (htmx %v)", tc.page, tc.hdr != nil)
		if rec.Code >= 500 {
			t.Errorf("%s: status %d", what, rec.Code)
		}
		assertInert(t, what, rec.Body.String())
		doc := parse(t, rec)
		for _, p := range tc.shows {
			if !pageShows(doc, p) {
				t.Errorf("%s: does not show %q (escaped)", what, p)
			}
		}
	}

	// The raw editor refuses a file name it would not create, and says so.
	rec = b.get("/config/raw?file=" + url.QueryEscape("jail.d/"+xssFilter+".local"))
	assertInert(t, "raw editor on a hostile name", rec.Body.String())
	if msg := parse(t, rec).Find(`[data-testid="raw-error"]`).Text(); rec.Code != http.StatusBadRequest || msg == "" {
		t.Errorf("raw editor on a hostile name: %d %q", rec.Code, msg)
	}

	// Forms that echo what was typed: an htmx error fragment, the regex
	// tester (fail2ban-regex's output too) and the raw editor's refusal.
	for _, tc := range []struct {
		target string
		form   url.Values
		hdr    map[string]string
		shows  string
	}{
		{"/jails/sshd/ignore", url.Values{"target": {xssQuery}}, htmxHeaders, ""},
		{"/jails/ban", url.Values{"target": {xssQuery}, "jail": {"sshd"}}, nil, xssQuery},
		{"/config/regex", url.Values{"failregex": {`Failed password for \S+ from <HOST>`}, "lines": {xssLog + "\n" + xssQuery}}, nil, xssQuery},
		{"/config/regex", url.Values{"failregex": {xssQuery}, "lines": {"x"}}, nil, xssQuery},
		{"/config/raw", url.Values{"file": {"jail.d/x.local"}, "content": {"no section </textarea>" + xssQuery}}, nil, xssQuery},
	} {
		tc.form.Set("_csrf", tok)
		rec := b.do("POST", tc.target, tc.form, tc.hdr)
		what := "POST " + tc.target
		if rec.Code >= 500 {
			t.Errorf("%s: status %d", what, rec.Code)
		}
		assertInert(t, what, rec.Body.String())
		if tc.shows != "" && !pageShows(parse(t, rec), tc.shows) {
			t.Errorf("%s: does not show what was typed", what)
		}
	}

	// CSV export: cells a spreadsheet would run as a formula (= + - @ and
	// tab or CR first) get a leading apostrophe, in every text column; the
	// log line keeps its text otherwise.
	writeFail2banBan(t, sb.DBFile, "@SUM(1+1)", "203.0.113.9",
		`{"matches": ["=HYPERLINK(\"http://evil.example/\",\"x\")"], "failures": 1}`, now-10)
	rec = b.get("/history.csv?source=fail2ban&range=all")
	records, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if rec.Code != http.StatusOK || err != nil {
		t.Fatalf("csv: %d %v", rec.Code, err)
	}
	var formula, plain []string
	for _, r := range records {
		switch r[1] {
		case "203.0.113.9":
			formula = r
		case "203.0.113.5":
			plain = r
		}
	}
	if formula == nil || formula[2] != "'@SUM(1+1)" || formula[9] != `'=HYPERLINK("http://evil.example/","x")` {
		t.Errorf("formula cells are not neutralised: %q", formula)
	}
	if plain == nil || plain[2] != xssJail || plain[9] != xssLog {
		t.Errorf("plain cells changed: %q", plain)
	}

	// The login page echoes next= into a hidden field.
	anon := a.browser()
	rec = anon.get("/login?next=" + q)
	assertInert(t, "login next=", rec.Body.String())
	if v := parse(t, rec).Find(`input[name="next"]`).AttrOr("value", ""); v != xssQuery {
		t.Errorf("login keeps next as %q", v)
	}
	// A redirect to login carries the original address safely.
	rec = anon.get("/history?ip=" + q)
	if loc := rec.Header().Get("Location"); strings.ContainsAny(loc, `"<>' `) {
		t.Errorf("login redirect carries unescaped characters: %q", loc)
	}
}

// sqlHostile are inputs that mean something to SQL, LIKE or a shell.
var sqlHostile = []string{
	`'`, `"`, `;`, `--`, `%`, `_`, `\`, "\x00", `' OR 1=1 --`, `" OR ""="`, `%' OR '1'='1`,
	`1; DROP TABLE history_archive; --`, `203.0.113.1_`, `203.0.113.%`, `*`, `[a-z]`, "203.0.113.1\x00",
}

func TestHostileSQLCharactersInEveryFilter(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	ctx := context.Background()
	// Two bans in fail2ban (and so in its database) and in the archive.
	if _, err := sb.Client().Call(ctx, "set", "sshd", "banip", "203.0.113.10", "203.0.113.11"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "fail2ban to record the bans", func() bool { return fail2banRows(t, sb, "203.0.113.11") == 1 })
	if res, err := a.sync.Run(ctx); err != nil || res.Inserted != 2 {
		t.Fatalf("archive sync: %+v %v", res, err)
	}
	archived := func() int {
		n, err := a.db.NewSelect().Table("history_archive").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	before := archived()

	rows := func(doc *goquery.Document, table string) int {
		return doc.Find("#" + table + " tbody tr[data-ip]").Length()
	}
	get := func(page string) *goquery.Document {
		t.Helper()
		rec := b.get(page)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %q: status %d, want 200", page, rec.Code)
		}
		return parse(t, rec)
	}
	// Controls: the plain prefix finds both addresses everywhere.
	for page, table := range map[string]string{
		"/history?source=fail2ban&range=all&ip=203.0.113.1": "history-bans",
		"/history?source=archive&range=all&ip=203.0.113.1":  "history-bans",
		"/jails?q=203.0.113.1":                              "active-bans",
		"/jails/sshd?q=203.0.113.1":                         "jail-bans",
	} {
		if n := rows(get(page), table); n != 2 {
			t.Fatalf("control %s: %d rows, want 2", page, n)
		}
	}
	for _, v := range sqlHostile {
		q := url.QueryEscape(v)
		// Search fields match literally: no wildcard, no injected clause
		// finds the two addresses.
		for page, table := range map[string]string{
			"/history?source=fail2ban&range=all&ip=" + q: "history-bans",
			"/history?source=archive&range=all&ip=" + q:  "history-bans",
			"/jails?q=" + q:      "active-bans",
			"/jails/sshd?q=" + q: "jail-bans",
		} {
			if n := rows(get(page), table); n != 0 {
				t.Errorf("%s: %d rows, want none", page, n)
			}
		}
		// Choice fields fall back to their defaults and still show the bans.
		for page, table := range map[string]string{
			"/?range=" + q + "&origin=" + q + "&source=" + q:     "dash-bans",
			"/history?range=all&source=" + q + "&origin=" + q:    "history-bans",
			"/map?range=" + q + "&origin=" + q + "&country=" + q: "map-bans",
		} {
			if n := rows(get(page), table); n != 2 {
				t.Errorf("%s: %d rows, want the 2 bans of the default view", page, n)
			}
		}
		// The jail filter (a select) matches a jail name exactly; a value
		// that cannot be a jail name is dropped, as a missing filter.
		want := 0
		if fail2ban.ValidJailName(v) != nil {
			want = 2
		}
		if n := rows(get("/history?range=all&jail="+q), "history-bans"); n != want {
			t.Errorf("jail filter %q: %d rows, want %d", v, n, want)
		}
		// The address lookup and the per-IP page refuse it with a message.
		doc := get("/jails?lookup=" + q)
		if msg := doc.Find("#lookup-answer .flash--error").Text(); !strings.Contains(msg, "not an IP address") {
			t.Errorf("lookup %q: %q", v, msg)
		}
		if rec := b.get("/history/" + url.PathEscape(v)); rec.Code != http.StatusNotFound ||
			!strings.Contains(parse(t, rec).Find("main").Text(), "not an IP address") {
			t.Errorf("per-IP page of %q: %d %q", v, rec.Code, parse(t, rec).Find("main").Text())
		}
		// Configuration searches and the log filter.
		if n := get("/config/filters?q=" + q).Find(`[data-testid="config-filters"] tr[data-item]`).Length(); n != 0 && v != "_" && v != "-" {
			t.Errorf("filter search %q lists %d filters", v, n)
		}
		get("/config/log?q=" + q)
		// Blocklist ids in the path.
		if rec := b.get("/blocklists/sources/" + url.PathEscape(v)); rec.Code != http.StatusNotFound {
			t.Errorf("source page %q: %d", v, rec.Code)
		}
	}
	// Blocklist names and addresses are stored and shown exactly.
	for i, name := range []string{`'; DROP TABLE blocklist_sources; --`, `%`, `_`, `" OR ""="`, "a\\b"} {
		u := fmt.Sprintf("http://192.0.2.1/%d.txt?q=%%27%%25_&x='--", i)
		assertRedirect(t, b.postForm("/blocklists/sources", "/blocklists", url.Values{"name": {name}, "url": {u}}), "/blocklists")
		doc := get("/blocklists")
		found := false
		doc.Find(`[data-testid=sources-table] tr[data-source]`).Each(func(_ int, r *goquery.Selection) {
			if r.AttrOr("data-source", "") == name && strings.Contains(r.Text(), u) {
				found = true
			}
		})
		if !found || doc.Find(`[data-testid=sources-table] tr[data-source]`).Length() != i+1 {
			t.Errorf("blocklist %q: not listed exactly once among %d", name, i+1)
		}
	}
	// "%" again is the same name, refused; "_" before it was not (no pattern match).
	rec := b.postForm("/blocklists/sources", "/blocklists", url.Values{"name": {"%"}, "url": {"http://192.0.2.1/other.txt"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(fieldErrors(parse(t, rec), "add-name"), "already called") {
		t.Errorf("the same name again: %d", rec.Code)
	}
	if n := archived(); n != before {
		t.Fatalf("the archive has %d rows, had %d", n, before)
	}
	if got := bannedIPs(t, sb, "sshd"); len(got) != 2 {
		t.Fatalf("fail2ban bans %v", got)
	}

	// A banned range links to its own page, "/" and all.
	if _, err := sb.Client().Call(ctx, "set", "sshd", "banip", "198.51.100.0/24"); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"/jails", "/jails/sshd", "/jails?lookup=198.51.100.0/24"} {
		doc := get(page)
		links := doc.Find(`tr[data-ip="198.51.100.0/24"] a[href^="/history/"], [data-testid=lookup-result] a[href^="/history/"]`)
		if links.Length() == 0 {
			t.Errorf("%s: no link to the range's page", page)
		}
		links.Each(func(_ int, l *goquery.Selection) {
			href := l.AttrOr("href", "")
			rec := b.get(href)
			if rec.Code != http.StatusOK || !strings.Contains(parse(t, rec).Find("h1").Text(), "198.51.100.0/24") {
				t.Errorf("%s: the link %s answers %d", page, href, rec.Code)
			}
		})
	}
}

// rawPost sends body as a form POST with the browser's cookies; chunked
// leaves the length unknown, as a streaming client would.
func (b *browser) rawPost(target, body string, chunked bool, hdr map[string]string) *httptest.ResponseRecorder {
	b.app.t.Helper()
	req := httptest.NewRequest("POST", target, strings.NewReader(body))
	if chunked {
		req.ContentLength = -1
		req.TransferEncoding = []string{"chunked"}
	}
	req.RemoteAddr = b.peer
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.app.e.ServeHTTP(rec, req)
	return rec
}

func mustRequest(t *testing.T, target, header, value string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	return req
}

func TestHostileOversizedRequests(t *testing.T) {
	a, b, sb := configApp(t)
	before := dirHash(t, sb.ConfigDir)
	tok := b.csrfFrom("/config/raw")
	big := url.Values{"_csrf": {tok}, "file": {"jail.d/big.local"}, "content": {"[x]\n" + strings.Repeat("# pad\n", 300_000)}}.Encode()

	// Bodies over the 1 MB limit: 413 with the page that says so, whether
	// the length is announced or not, for full pages and htmx alike.
	for _, tc := range []struct {
		name    string
		chunked bool
		hdr     map[string]string
	}{{"announced", false, nil}, {"chunked", true, nil}, {"htmx", false, htmxHeaders}} {
		rec := b.rawPost("/config/raw", big, tc.chunked, tc.hdr)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "larger than the panel accepts") {
			t.Errorf("%s: %d %.300s", tc.name, rec.Code, rec.Body.String())
		}
	}
	// A body that is not a form encoding: 400 with a message, not a
	// misleading "form has expired".
	rec := b.rawPost("/jails/ban", "_csrf="+url.QueryEscape(tok)+"&target=%zz", false, nil)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "The form could not be read") {
		t.Errorf("garbled form: %d %.200s", rec.Code, parse(t, rec).Find("main").Text())
	}
	rec = a.browser().rawPost("/login", "password="+strings.Repeat("A", 2<<20), true, nil)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MB login: %d", rec.Code)
	}
	if after := dirHash(t, sb.ConfigDir); after != before {
		t.Fatal("a refused request changed the configuration directory")
	}

	// Long form fields, each below the body limit: a message on the field.
	for _, tc := range []struct {
		target string
		form   url.Values
		errSel string
		want   string
	}{
		{"/blocklists/sources", url.Values{"name": {strings.Repeat("n", 5000)}, "url": {"http://192.0.2.1/l.txt"}}, "#add-name-error", "at most 100 characters"},
		{"/blocklists/sources", url.Values{"name": {"L"}, "url": {"http://192.0.2.1/" + strings.Repeat("u", 5000)}}, "#add-url-error", "too long"},
		{"/config/regex", url.Values{"failregex": {"<HOST>"}, "lines": {strings.Repeat("203.0.113.1\n", 6000)}}, "#rx-lines-error", "at most 5000 lines"},
		{"/config/regex", url.Values{"failregex": {strings.Repeat("(a|b)", 20_000) + "<HOST>"}, "lines": {"x"}}, "#rx-failregex-error", "longer than"},
		{"/config/filters", url.Values{"name": {strings.Repeat("f", 5000)}, "failregex": {"^<HOST>$"}}, "#new-item-name-error", "1 to 64"},
	} {
		page := tc.target
		if page == "/blocklists/sources" {
			page = "/blocklists"
		}
		rec := b.postForm(tc.target, page, tc.form)
		msg := parse(t, rec).Find(tc.errSel).Text()
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(msg, tc.want) {
			t.Errorf("POST %s: %d, %s = %q, want %q", tc.target, rec.Code, tc.errSel, msg, tc.want)
		}
	}

	// Long query strings (below net/http's header limit): the page works
	// and does not echo the whole text into every link.
	long := strings.Repeat("x'%<", 15_000)
	for _, page := range []string{"/jails?q=", "/jails?lookup=", "/jails/web?q=", "/history?ip=", "/history?jail=", "/?range=",
		"/map?country=", "/config/filters?q=", "/config/log?q=", "/blocklists?page="} {
		base := b.get(page + "x")
		rec := b.get(page + url.QueryEscape(long))
		if rec.Code != base.Code || rec.Code != http.StatusOK {
			t.Errorf("%s<60 KB>: status %d, with a short value %d", page, rec.Code, base.Code)
		}
		if grow := rec.Body.Len() - base.Body.Len(); grow > 10_000 {
			t.Errorf("%s<60 KB>: the page grew by %d bytes", page, grow)
		}
	}
	rec = b.get("/config/raw?file=" + url.QueryEscape(long))
	if rec.Code != http.StatusBadRequest || parse(t, rec).Find(`[data-testid="raw-error"]`).Text() == "" {
		t.Errorf("raw editor with a 60 KB name: %d", rec.Code)
	}
	if rec := b.get("/history/" + url.PathEscape(long)); rec.Code != http.StatusNotFound {
		t.Errorf("per-IP page of a 60 KB address: %d", rec.Code)
	}

	// A huge cookie next to the session is ignored; one in place of the
	// session is no session.
	b.cookies["junk"] = &http.Cookie{Name: "junk", Value: strings.Repeat("j", 60_000)}
	if rec := b.get("/"); rec.Code != http.StatusOK {
		t.Errorf("with a 60 KB cookie: %d", rec.Code)
	}
	delete(b.cookies, "junk")
	c := a.browser()
	c.cookies[cookieName] = &http.Cookie{Name: cookieName, Value: strings.Repeat("s", 60_000)}
	assertRedirect(t, c.get("/jails"), "/login?next=%2Fjails")

	// Through a real server configured as main.go's: a header block over
	// the limit is refused with 431 before the panel sees it.
	srv := httptest.NewUnstartedServer(a.e)
	srv.Config.MaxHeaderBytes = app.MaxHeaderBytes
	srv.Start()
	defer srv.Close()
	huge := strings.Repeat("h", app.MaxHeaderBytes+4096)
	for what, req := range map[string]*http.Request{
		"header":       mustRequest(t, srv.URL+"/healthz", "X-Junk", huge),
		"cookie":       mustRequest(t, srv.URL+"/", "Cookie", cookieName+"="+huge),
		"query string": mustRequest(t, srv.URL+"/jails?q="+huge, "", ""),
	} {
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("a %d KB %s: %d", len(huge)>>10, what, resp.StatusCode)
		}
	}
}

// badTargets are inputs no address form may pass on to fail2ban.
var badTargets = []string{
	"10.0.0.999", "1.2.3", "1.2.3.4.5", "01.2.3.4", "fe80::1%eth0", "192.0.2.0/33", "2001:db8::/129",
	"192.0.2.1/-1", "192.0.2.1/", "::ffff:1.2.3.4/200", "203.0.113.1 ; rm -rf /", "203.0.113.1,bogus",
	"' OR 1=1 --", "\x00", "203.0.113.1\x00", "--all", "localhost", "0x7f.1", "１.２.３.４",
}

func TestHostileAddressesAndSettingsAreRefused(t *testing.T) {
	_, b, sb := configApp(t)
	ctx := context.Background()
	ignoreBefore, err := sb.Client().IgnoreIPs(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	confBefore := dirHash(t, sb.ConfigDir)
	banTime := func() time.Duration {
		d, err := sb.Client().BanTime(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	banTimeBefore := banTime()

	// 422 with a message: on the form's field where the page has one.
	refused := func(what string, rec *httptest.ResponseRecorder, msgSel string) {
		t.Helper()
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422; %.200s", what, rec.Code, rec.Body.String())
			return
		}
		doc := parse(t, rec)
		if msg := strings.TrimSpace(doc.Find(msgSel).Text()); msg == "" {
			t.Errorf("%s: no message in %s", what, msgSel)
		}
	}
	for _, v := range badTargets {
		w := fmt.Sprintf("%q", v)
		refused("ban "+w, b.postForm("/jails/ban", "/jails", url.Values{"target": {v}, "jail": {"web"}}), "#ban-target-error")
		refused("unban "+w, b.postForm("/jails/unban", "/jails", url.Values{"target": {v}, "jail": {"web"}}), "#unban-target-error")
		refused("ignore "+w, b.postForm("/jails/web/ignore", "/jails/web", url.Values{"target": {v}}), "#error-title + p")
		refused("ignore from the IP page "+w, b.postForm("/ignore", "/jails", url.Values{"target": {v}, "jail": {"web"}}), "#error-title + p")
		// Host names can be on the list; fail2ban says they are not.
		refused("remove ignore "+w, b.postForm("/jails/web/ignore/delete", "/jails/web", url.Values{"entry": {v}}), "#error-title + p")
	}
	// Bad jail names for every jail form.
	for _, j := range []string{"../x", "dbfile", "--all", "web;reload", "nosuch", strings.Repeat("j", 65)} {
		// fail2ban stops a jail it does not have without complaint.
		p := "/jails/" + url.PathEscape(j)
		for _, tc := range []struct {
			target string
			form   url.Values
		}{
			{"/jails/ban", url.Values{"target": {"203.0.113.50"}, "jail": {j}}},
			{p + "/ignore", url.Values{"target": {"203.0.113.50"}}},
			{p + "/ignore/delete", url.Values{"entry": {"203.0.113.50"}}},
			{p + "/ignoreself", url.Values{"ignoreself": {"on"}}},
			{p + "/stop", url.Values{"x": {j}}},
			{p + "/idle", url.Values{"idle": {"on"}}},
		} {
			if j == "nosuch" && strings.HasSuffix(tc.target, "/stop") {
				continue
			}
			rec := b.postForm(tc.target, "/jails", tc.form)
			if rec.Code != http.StatusUnprocessableEntity && rec.Code != http.StatusNotFound {
				t.Errorf("POST %s jail %q: status %d, want 422 or 404", tc.target, j, rec.Code)
			}
		}
	}
	// Removing an address that is not on the list says so.
	rec := b.postForm("/jails/web/ignore/delete", "/jails/web", url.Values{"entry": {"203.0.113.51"}})
	if msg := parse(t, rec).Find("#error-title + p").Text(); rec.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(msg, "did not remove 203.0.113.51 from the ignore list of web") {
		t.Errorf("removing an absent ignore entry: %d %q", rec.Code, msg)
	}

	// Durations and counts in the configuration forms.
	jailForm := formValues(parse(t, b.get("/config/jails/web")), `[data-testid="jail-form"]`)
	for field, values := range map[string][]string{
		"bantime":  {"abc", "-5x", "99999999999999999999999d", "9223372036854775807w", "10m; rm -rf /", "1e9", "10m\nenabled = false"},
		"findtime": {"1 fortnight", "-", "%(bantime)s", "0x10"},
		"maxretry": {"-1", "1e9", "99999999999999999999", "3 # more", ""},
	} {
		for _, v := range values {
			form := url.Values{}
			for k, vs := range jailForm {
				form[k] = vs
			}
			form.Set(field, v)
			refused(fmt.Sprintf("jail %s %q", field, v), b.postForm("/config/jails/web", "/config/jails/web", form), "#f-"+field+"-error")
		}
	}
	serverForm := url.Values{"loglevel": {"INFO"}, "logtarget": {sb.LogFile}, "dbpurgeage": {"1d"}, "dbmaxmatches": {"10"}}
	for field, values := range map[string][]string{
		"dbpurgeage":   {"forever", "-1x", "99999999999999999999999d", "1d\n[Definition]"},
		"dbmaxmatches": {"-3", "ten", "99999999999999999999", "1.5"},
		"loglevel":     {"LOUD", "INFO\nlogtarget = /etc/passwd"},
	} {
		for _, v := range values {
			form := url.Values{}
			for k, vs := range serverForm {
				form[k] = vs
			}
			form.Set(field, v)
			rec := b.postForm("/config/server", "/config/server", form)
			if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "field__errors") {
				t.Errorf("server %s %q: status %d", field, v, rec.Code)
			}
		}
	}

	if got := bannedIPs(t, sb, "web"); len(got) != 0 {
		t.Errorf("fail2ban bans %v after refused forms", got)
	}
	if after, _ := sb.Client().IgnoreIPs(ctx, "web"); strings.Join(after, ",") != strings.Join(ignoreBefore, ",") {
		t.Errorf("ignore list changed from %v to %v", ignoreBefore, after)
	}
	if d := banTime(); d != banTimeBefore {
		t.Errorf("ban time changed from %v to %v", banTimeBefore, d)
	}
	if dirHash(t, sb.ConfigDir) != confBefore {
		t.Error("refused settings changed the configuration directory")
	}
}

func TestHostileSetupValuesAreRefused(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	for field, values := range map[string][]string{
		"timezone": {"../../../etc/passwd", "/etc/localtime", "Local", "UTC\x00", "Europe/../../etc/passwd",
			strings.Repeat("Europe/Berlin", 1000), "<script>alert('tz')</script>"},
		"session_minutes": {"99999999999999999999", "-1", "60.5", "0x10", "1e3", "", "43201"},
		"socket":          {"relative.sock", "", "/run/" + strings.Repeat("s", 103) + ".sock"},
		"config_dir":      {"etc/fail2ban", ""},
		"password":        {strings.Repeat("Aa1", 130_000)}, // twice in the form: below the body limit
	} {
		for _, v := range values {
			b := a.browser()
			form := validSetupForm(a)
			form.Set(field, v)
			if field == "password" {
				form.Set("password_confirm", v)
			}
			rec := b.postForm("/setup", "/setup", form)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Errorf("setup %s %.40q: status %d, want 422", field, v, rec.Code)
				continue
			}
			doc := parse(t, rec)
			if msg := doc.Find("#" + field + "-error li").Text(); msg == "" {
				t.Errorf("setup %s %.40q: no message", field, v)
			}
			assertInert(t, "setup "+field, rec.Body.String())
			if rec.Body.Len() > 100_000 {
				t.Errorf("setup %s %.40q: a %d-byte page", field, v, rec.Body.Len())
			}
		}
	}
	assertRedirect(t, a.browser().get("/"), "/setup")
}

// badPages are page and size values no table may answer with an error or a
// huge page.
var badPages = []string{"0", "-1", "999999999999999999999", "abc", "1e3", "%202", "0x10", "", "1.5", "-999999999999999999999", "%00"}

func TestHostilePageNumbersAndSizes(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	ctx := context.Background()
	now := time.Now().Unix()
	var events []models.ArchivedBan
	for i := range 260 {
		events = append(events, models.ArchivedBan{Jail: "sshd", IP: fmt.Sprintf("203.0.113.%d", i%250), TimeOfBan: now - int64(i*60),
			BanCount: 1, Data: "{}", Action: "ban"})
	}
	seedArchive(t, a, events)
	ips := make([]string, 0, 120)
	for i := range 120 {
		ips = append(ips, fmt.Sprintf("198.18.0.%d", i+1))
	}
	// 120 bans in one call: on a loaded machine fail2ban takes longer than
	// the sandbox client's 2 s per call.
	if _, err := sb.Client().Call(fail2ban.WithCallTimeout(ctx, 30*time.Second), append([]string{"set", "sshd", "banip"}, ips...)...); err != nil {
		t.Fatal(err)
	}
	src, err := a.s.blocklists.CreateSource(ctx, blocklists.SourceInput{Name: "L", URL: "http://192.0.2.1/l.txt", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	logs := repo.NewImportLogStore(a.db)
	for i := range 130 {
		if _, err := logs.Add(ctx, models.ImportLog{SourceID: &src.ID, SourceURL: src.URL, SourceName: src.Name, Timestamp: now - int64(i),
			StartedBy: models.TriggerManual, Batch: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	srcPage := fmt.Sprintf("/blocklists/sources/%d", src.ID)

	for _, tc := range []struct {
		path, rows string
		max        int // the largest page size offered
	}{
		{"/?source=archive&range=24h", "#dash-bans tbody tr[data-ip]", 100},
		{"/history?source=archive&range=all", "#history-bans tbody tr[data-ip]", 200},
		{"/map?range=24h", "#map-bans tbody tr[data-ip]", 100},
		{"/jails", "#active-bans tbody tr[data-ip]", 100},
		{"/jails/sshd", "#jail-bans tbody tr[data-ip]", 100},
		{"/blocklists", "#import-log tbody tr", 100},
		{srcPage, "#import-log tbody tr", 100},
		{"/history/203.0.113.7", "[data-testid=ip-timeline] li", 1000},
	} {
		var queries []string
		for _, v := range badPages {
			queries = append(queries, "page="+v, "size="+v, "page="+v+"&size="+v)
		}
		for _, v := range []string{"1000000", "201", "99999999999999999999"} {
			queries = append(queries, "size="+v, "page=2&size="+v)
		}
		for _, q := range queries {
			target := tc.path + "&" + q
			if !strings.Contains(tc.path, "?") {
				target = tc.path + "?" + q
			}
			for _, hdr := range []map[string]string{nil, htmxHeaders} {
				rec := b.do("GET", target, nil, hdr)
				if rec.Code != http.StatusOK {
					t.Errorf("GET %s (htmx %v): status %d", target, hdr != nil, rec.Code)
					continue
				}
				n := parse(t, rec).Find(tc.rows).Length()
				if n > tc.max {
					t.Errorf("GET %s: %d rows", target, n)
				}
				// Numbers that are not a page fall back to page 1, which has
				// rows; a page past the end is empty.
				if n == 0 && !strings.HasPrefix(q, "page=9") {
					t.Errorf("GET %s (htmx %v): no rows", target, hdr != nil)
				}
			}
		}
	}
}

// assertUTF8 fails unless the response is valid UTF-8 that shows the
// replacement character where the bad bytes were.
func assertUTF8(t testing.TB, what string, rec *httptest.ResponseRecorder, wantReplacement bool) {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Errorf("%s: status %d", what, rec.Code)
	}
	body := rec.Body.String()
	if !utf8.ValidString(body) {
		i := 0
		for i < len(body) {
			r, n := utf8.DecodeRuneInString(body[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		t.Errorf("%s: invalid UTF-8 at byte %d: …%q…", what, i, body[max(0, i-60):min(len(body), i+20)])
	}
	if wantReplacement && !strings.Contains(body, "\uFFFD") {
		t.Errorf("%s: no replacement character shown", what)
	}
}

func TestHostileNonUTF8FromFail2banAndLogs(t *testing.T) {
	a, b, sb := configApp(t)
	now := time.Now().Unix()
	// fail2ban's database: a jail name and log lines with bytes that are
	// not UTF-8, raw in the JSON text and as \u escapes of lone surrogates.
	db, err := sql.Open("sqlite", "file:"+sb.DBFile+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	badJail := "web\xff\xfe"
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT OR IGNORE INTO jails(name, enabled) VALUES(CAST(? AS TEXT), 1)`, []any{[]byte(badJail)}},
		{`INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES(CAST(? AS TEXT), '203.0.113.20', ?, 600, 1, CAST(? AS TEXT))`,
			[]any{[]byte(badJail), now - 60, []byte("{\"matches\": [\"Failed \xc3\x28 from 203.0.113.20 \xff\"], \"failures\": 3}")}},
		{`INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES('web', '203.0.113.21', ?, 600, 1, ?)`,
			[]any{now - 30, `{"matches": ["lone \ud800 surrogate from 203.0.113.21"], "failures": 2}`}},
		{`INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES('web', CAST(? AS TEXT), ?, 600, 1, '{}')`,
			[]any{[]byte("203.0.113.\xff"), now - 20}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	// fail2ban's own log, read by the log viewer and the regex tester.
	f, err := os.OpenFile(sb.LogFile, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "2026-01-02 03:04:05,678 fail2ban.filter [1]: INFO [web] garbled \xff\xfe\xc3\x28 Found 203.0.113.22\n\x00\x00binary\x00\n")
	f.Close()

	for _, tc := range []struct {
		page string
		repl bool
	}{
		{"/?source=fail2ban&range=24h", true},
		{"/history?source=fail2ban&range=all", true},
		{"/history/203.0.113.20", true},
		{"/history/203.0.113.21", true},
		{"/map?range=24h", false},
		{"/config/log?q=garbled", true},
	} {
		assertUTF8(t, tc.page, b.get(tc.page), tc.repl)
	}
	rec := b.get("/history.csv?source=fail2ban&range=all")
	assertUTF8(t, "history.csv", rec, true)

	// The archive copies the rows and shows them the same way.
	if _, err := a.sync.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertUTF8(t, "archive history", b.get("/history?source=archive&range=all"), true)
	assertUTF8(t, "archive per-IP", b.get("/history/203.0.113.20"), true)

	// The regex tester on the same log file.
	rec = b.postForm("/config/regex", "/config/regex", url.Values{
		"failregex": {`Found <HOST>`}, "logfile": {sb.LogFile}, "loglines": {"20"}})
	assertUTF8(t, "regex tester on the log file", rec, true)
	if rec.Code != http.StatusOK {
		t.Logf("%s", parse(t, rec).Find(".field__errors").Text())
	}
}

func TestHostileBlocklistBytesPreviewAndImport(t *testing.T) {
	_, b, sb := loggedInWithFail2ban(t)
	lists := newBlocklistServer(t)
	body := "\xef\xbb\xbf192.0.2.71\r\n192.0.2.72\r\n192.0.2.73\x00\n\x00\x00\n192.0.2.\xff\n# caf\xe9\n" +
		"<script>alert('line')</script>\n192.0.2.74\r192.0.2.75\n\xff\xfe1\x009\x002\x00\n2001:db8::71"
	u := lists.serve("bytes.txt", body)
	assertRedirect(t, b.postForm("/blocklists/sources", "/blocklists", url.Values{"name": {"Bytes"}, "url": {u}, "enabled": {"on"}}), "/blocklists")
	var href string
	parse(t, b.get("/blocklists")).Find(`[data-testid=sources-table] tr[data-source="Bytes"] a`).Each(func(_ int, s *goquery.Selection) {
		if h, _ := s.Attr("href"); href == "" && strings.HasPrefix(h, "/blocklists/sources/") {
			href = h
		}
	})
	if href == "" {
		t.Fatal("the list is not shown")
	}

	// The preview shows every line as UTF-8 and counts what it skips.
	for _, hdr := range []map[string]string{nil, htmxHeaders} {
		rec := b.do("GET", href+"/preview", nil, hdr)
		assertUTF8(t, "preview", rec, true)
		assertInert(t, "preview", rec.Body.String())
		doc := parse(t, rec)
		counts := strings.Join(strings.Fields(doc.Find("[data-testid=preview-counts]").Text()), "")
		for _, want := range []string{"IPv4addresses2", "IPv6addresses1", "Comments1", "Invalidlines6"} {
			if !strings.Contains(counts, want) {
				t.Errorf("preview counts %q lack %q", counts, want)
			}
		}
		if sample := doc.Find("[data-testid=preview-sample]").Text(); !strings.Contains(sample, "192.0.2.\uFFFD") {
			t.Errorf("sample %q", sample)
		}
	}

	// The import bans the three good entries and counts the rest skipped.
	assertRedirect(t, b.postForm("/blocklists/import", "/blocklists", nil), "/blocklists")
	doc := waitImport(t, b)
	res := doc.Find(`[data-testid=import-results] tr[data-source="Bytes"]`)
	if got := res.Find("[data-testid=result-imported]").Text(); got != "3" {
		t.Errorf("imported %q (%s)", got, res.Text())
	}
	if got := res.Find("[data-testid=result-skipped]").Text(); got != "6" {
		t.Errorf("skipped %q (%s)", got, res.Text())
	}
	if got := res.Find("[data-testid=result-skip-reasons]").Text(); got != "Skipped: 6 invalid." {
		t.Errorf("skip reasons %q", got)
	}
	got := bannedIPs(t, sb, models.BlocklistJail)
	slices.Sort(got)
	if want := []string{"192.0.2.71", "192.0.2.72", "2001:db8::71"}; !slices.Equal(got, want) {
		t.Errorf("blocklist jail bans %q, want %q", got, want)
	}
	rec := b.get("/blocklists")
	assertUTF8(t, "blocklists page after the import", rec, false)
	if row := parse(t, rec).Find("#import-log tbody tr").First().Text(); !strings.Contains(row, "Bytes") {
		t.Errorf("import log row %q", row)
	}
}

// TestHostileNoServerErrorOnAnyRoute sends every route junk in its path
// parameters and in every form field the panel reads: each answer is a
// page or a refusal, never a 500.
func TestHostileNoServerErrorOnAnyRoute(t *testing.T) {
	a, b, _ := configApp(t)
	fields := []string{"target", "jail", "entry", "name", "url", "enabled", "frequency", "time", "weekday", "source", "file",
		"content", "failregex", "ignoreregex", "datepattern", "lines", "logfile", "loglines", "bantime", "findtime", "maxretry",
		"loglevel", "logtarget", "dbpurgeage", "dbmaxmatches", "low", "medium", "high", "idle", "ignoreself", "from", "back",
		"next", "password", "socket", "config_dir", "timezone", "session_minutes", "q", "page", "size", "range", "origin",
		"country", "ip", "lookup", "n", "auto", "was"}
	values := []string{"", "\x00", "'", "\xff\xfe", "../../../etc/passwd", "-1", "99999999999999999999", "%", strings.Repeat("x", 5000)}
	skip := map[string]bool{ // slow (the login throttle, fail2ban restarts) or ending the session; covered elsewhere
		"/login": true, "/config/server/restart": true, "/config/server/reload": true, "/jails/reload": true, "/logout": true,
		"/blocklists/jail": true, "/config/server/flush": true,
		"/events": true, // a stream never ends into a recorder: TestEventStreamTakesAnyLastEventID
	}
	tok := b.csrfFrom("/jails")
	n := 0
	for _, r := range a.e.Routes() {
		if skip[r.Path] || strings.HasPrefix(r.Path, "/assets") || r.Method == "" || r.Path == "/*" || strings.HasPrefix(r.Path, "/__e2e") {
			continue
		}
		for _, v := range values {
			path := r.Path
			for _, seg := range strings.Split(r.Path, "/") {
				if strings.HasPrefix(seg, ":") {
					pv := url.PathEscape(v)
					if pv == "" {
						pv = "x"
					}
					path = strings.Replace(path, seg, pv, 1)
				}
			}
			form := url.Values{}
			for _, f := range fields {
				form.Set(f, v)
			}
			var rec *httptest.ResponseRecorder
			switch r.Method {
			case http.MethodGet:
				rec = b.get(path + "?" + form.Encode())
			case http.MethodPost:
				form.Set("_csrf", tok)
				rec = b.do("POST", path, form, nil)
			default:
				continue
			}
			n++
			if rec.Code >= 500 {
				t.Errorf("%s %s with %.20q: status %d %.300s", r.Method, r.Path, v, rec.Code, parse(t, rec).Find("main").Text())
			}
			if !utf8.Valid(rec.Body.Bytes()) && !strings.HasPrefix(rec.Header().Get("Content-Type"), "image/") {
				t.Errorf("%s %s with %.20q: the answer is not UTF-8", r.Method, r.Path, v)
			}
		}
	}
	if n < 300 {
		t.Fatalf("only %d requests: the route table was not walked", n)
	}
	a.s.blocklists.Wait()
}
