package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/geo/geotest"
	"bangui/models"
	"bangui/repo"
)

// testGeoDB is where the test panel looks for its country database.
func testGeoDB(dataDir string) string { return filepath.Join(dataDir, "geo", "country.mmdb") }

// installGeoDB writes the geotest fixture where the panel on dataDir looks for it.
func installGeoDB(t testing.TB, dataDir string) {
	t.Helper()
	if err := geotest.WriteCountryDB(testGeoDB(dataDir), geotest.Countries, geotest.IPLocationDB); err != nil {
		t.Fatal(err)
	}
}

// mapEvents are archived bans from known countries: DE ×3, US ×2, GB ×1,
// one whose country is not looked up yet (NULL) and an unban (never counted).
func mapEvents(now time.Time) []models.ArchivedBan {
	code := func(c string) *string { return &c }
	at := func(d time.Duration) int64 { return now.Add(-d).Unix() }
	return []models.ArchivedBan{
		{Jail: "sshd", IP: "193.99.144.80", TimeOfBan: at(time.Hour), CountryCode: code("DE")},
		{Jail: "sshd", IP: "193.99.144.81", TimeOfBan: at(2 * time.Hour), CountryCode: code("DE")},
		{Jail: "nginx", IP: "217.160.0.1", TimeOfBan: at(3 * time.Hour), CountryCode: code("DE")},
		{Jail: "sshd", IP: "8.8.8.8", TimeOfBan: at(4 * time.Hour), CountryCode: code("US")},
		{Jail: models.BlocklistJail, IP: "23.1.2.3", TimeOfBan: at(5 * time.Hour), CountryCode: code("US"), Origin: string(models.OriginBlocklist)},
		{Jail: "sshd", IP: "81.2.69.160", TimeOfBan: at(6 * time.Hour), CountryCode: code("GB")},
		{Jail: "sshd", IP: "1.1.1.1", TimeOfBan: at(7 * time.Hour)},
		{Jail: "sshd", IP: "8.8.8.8", TimeOfBan: at(30 * time.Minute), Action: repo.ActionUnban, CountryCode: code("US")},
		{Jail: "sshd", IP: "193.99.144.99", TimeOfBan: at(10 * 24 * time.Hour), CountryCode: code("DE")}, // outside 24 h
	}
}

func loggedInMap(t *testing.T, withDB bool) (*testApp, *browser) {
	t.Helper()
	dir := t.TempDir()
	if withDB {
		installGeoDB(t, dir)
	}
	a := newTestApp(t, dir)
	if _, err := repo.NewHistoryArchive(a.db).Archive(context.Background(), mapEvents(time.Now())); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	return a, b
}

func countryLink(doc *goquery.Document, code string) *goquery.Selection {
	return doc.Find(fmt.Sprintf(`svg.worldmap a[data-country=%q]`, code))
}

func TestMapPage(t *testing.T) {
	_, b := loggedInMap(t, false)
	rec := b.get("/map")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /map = %d", rec.Code)
	}
	doc := parse(t, rec)
	if h1 := doc.Find("h1#page-title").Text(); h1 != "World map" {
		t.Errorf("title %q", h1)
	}
	if n := doc.Find("svg.worldmap a.worldmap__country").Length(); n < 240 {
		t.Errorf("%d country links on the map", n)
	}
	de := countryLink(doc, "DE")
	if bans, _ := de.Attr("data-bans"); bans != "3" {
		t.Errorf("Germany has data-bans %q, want 3", bans)
	}
	if label, _ := de.Attr("aria-label"); label != "Germany: 3 bans" || de.Find("title").Text() != "Germany: 3 bans" {
		t.Errorf("Germany's name and tooltip: %q / %q", label, de.Find("title").Text())
	}
	if fill, _ := de.Find("path").Attr("fill"); fill == "" {
		t.Error("Germany is not coloured")
	}
	if href, _ := de.Attr("href"); href != "/map?country=DE&range=24h" {
		t.Errorf("Germany links to %q", href)
	}
	if tab, _ := countryLink(doc, "FR").Attr("tabindex"); tab != "-1" {
		t.Errorf("France without bans has tabindex %q, want -1 (the tab order holds the countries with bans)", tab)
	}
	if fr := countryLink(doc, "FR"); fr.Find("title").Text() != "France: no bans" || fr.Find("path.worldmap__shape--empty").Length() != 1 {
		t.Error("France without bans is not drawn as empty")
	}
	if labels := doc.Find(".worldmap__labels text").Length(); labels != 3 {
		t.Errorf("%d count labels, want 3 (DE, US, GB)", labels)
	}
	summary := strings.Join(strings.Fields(doc.Find("[data-testid=map-summary]").Text()), " ")
	if !strings.Contains(summary, "7 bans from 3 countries in the last 24 hours") || !strings.Contains(summary, "1 from unknown countries") {
		t.Errorf("summary = %q", summary)
	}
	list := doc.Find("[data-testid=country-list] a")
	if list.Length() != 3 || list.First().AttrOr("data-country", "") != "DE" || !strings.Contains(list.First().Text(), "Germany") {
		t.Errorf("country list = %q", list.Text())
	}
	if n := doc.Find("#map-bans tbody tr[data-ip]").Length(); n != 7 {
		t.Errorf("%d rows in the table, want 7 (all bans of the window)", n)
	}
	if cell := doc.Find(`#map-bans tr[data-ip="8.8.8.8"] td[data-label="Country"]`); !strings.Contains(cell.Text(), "United States") ||
		cell.Find(`img.country__flag[alt="United States"]`).AttrOr("src", "") == "" {
		t.Errorf("country cell = %q", cell.Text())
	}
	if !strings.Contains(doc.Find(".worldmap__credit").Text(), "CC BY 4.0") {
		t.Error("the map's source is not credited")
	}
	// Without a database the page says so and how to add one.
	if doc.Find("[data-testid=geo-missing]").Length() != 1 || !strings.Contains(doc.Find("[data-testid=geo-help]").Text(), "scripts/fetch-geo.sh") {
		t.Error("no hint about the missing country database")
	}
	if !strings.Contains(doc.Find("[data-testid=geo-status]").Text(), "no address leaves this server") {
		t.Error("the page does not say that lookups stay local")
	}

	// The origin filter narrows the counts like the dashboard's.
	doc = parse(t, b.get("/map?origin=blocklist&range=24h"))
	if bans := countryLink(doc, "US").AttrOr("data-bans", ""); bans != "1" {
		t.Errorf("blocklist origin: US has %s bans, want 1", bans)
	}
	if bans := countryLink(doc, "DE").AttrOr("data-bans", ""); bans != "0" {
		t.Errorf("blocklist origin: DE has %s bans, want 0", bans)
	}
	doc = parse(t, b.get("/map?range=30d"))
	if bans := countryLink(doc, "DE").AttrOr("data-bans", ""); bans != "4" {
		t.Errorf("30 days: DE has %s bans, want 4", bans)
	}
}

func TestMapCountryFilter(t *testing.T) {
	_, b := loggedInMap(t, false)
	hx := map[string]string{"HX-Request": "true", "HX-Target": "map-view", "HX-Current-URL": "http://example/map"}
	rec := b.do("GET", "/map?country=DE&range=24h", nil, hx)
	doc := parse(t, rec)
	if doc.Find("h1#page-title").Length() != 0 {
		t.Fatal("a country click got the whole page, want the #map-view fragment")
	}
	if doc.Find("#map-view").AttrOr("data-country", "") != "DE" {
		t.Fatalf("fragment = %.300s", rec.Body)
	}
	rows := doc.Find("#map-bans tbody tr[data-ip]")
	if rows.Length() != 3 {
		t.Errorf("%d rows for Germany, want 3", rows.Length())
	}
	rows.Each(func(_ int, r *goquery.Selection) {
		if r.AttrOr("data-country", "") != "DE" {
			t.Errorf("row %s from %s in Germany's table", r.AttrOr("data-ip", ""), r.AttrOr("data-country", ""))
		}
	})
	de := countryLink(doc, "DE")
	if de.AttrOr("aria-current", "") != "true" || !de.HasClass("is-selected") {
		t.Error("Germany is not marked selected")
	}
	if href := de.AttrOr("href", ""); href != "/map?range=24h" {
		t.Errorf("a second click on Germany goes to %q, want the map without a country", href)
	}
	if href := doc.Find("[data-testid=map-clear]").AttrOr("href", ""); href != "/map?range=24h" {
		t.Errorf("clear goes to %q", href)
	}
	if h2 := doc.Find("#map-bans-title").Text(); !strings.Contains(h2, "Bans from Germany") {
		t.Errorf("table heading %q", h2)
	}

	// Unknown countries are a filter too.
	doc = parse(t, b.get("/map?country=unknown"))
	if rows := doc.Find("#map-bans tbody tr[data-ip]"); rows.Length() != 1 || rows.AttrOr("data-ip", "") != "1.1.1.1" {
		t.Errorf("unknown filter rows: %q", rows.Text())
	}
	// A bad country is ignored.
	doc = parse(t, b.get("/map?country=<script>"))
	if doc.Find("#map-view").AttrOr("data-country", "x") != "" {
		t.Error("a bad country code was taken")
	}
}

func TestMapTablePages(t *testing.T) {
	a, b := loggedInMap(t, false)
	now := time.Now()
	var many []models.ArchivedBan
	nl := "NL"
	for i := range 60 {
		many = append(many, models.ArchivedBan{Jail: "sshd", IP: fmt.Sprintf("94.100.180.%d", i+1), TimeOfBan: now.Add(-time.Duration(i+1) * time.Minute).Unix(), CountryCode: &nl})
	}
	if _, err := repo.NewHistoryArchive(a.db).Archive(context.Background(), many); err != nil {
		t.Fatal(err)
	}
	rec := b.do("GET", "/map?country=NL&page=3", nil, map[string]string{"HX-Request": "true", "HX-Target": "map-bans"})
	doc := parse(t, rec)
	if doc.Find("svg").Length() != 0 || doc.Find("#map-bans").Length() != 1 {
		t.Fatalf("the pager got more than the table: %.200s", rec.Body)
	}
	if n := doc.Find("tbody tr[data-ip]").Length(); n != 10 {
		t.Errorf("page 3 of 60 at 25 has %d rows, want 10", n)
	}
	if info := doc.Find(".pager__info").Text(); !strings.Contains(info, "of 60") {
		t.Errorf("pager %q", info)
	}
	if prev := doc.Find(`a[data-pager="prev"]`).AttrOr("href", ""); prev != "/map?country=NL&page=2&range=24h" {
		t.Errorf("previous page link %q", prev)
	}
}

func TestMapThresholds(t *testing.T) {
	_, b := loggedInMap(t, false)
	rec := b.postForm("/map/thresholds", "/map", url.Values{"low": {"5"}, "medium": {"5"}, "high": {"x"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad thresholds answered %d", rec.Code)
	}
	doc := parse(t, rec)
	if errs := doc.Find(".field__errors").Text(); !strings.Contains(errs, "whole number") {
		t.Errorf("errors = %q", errs)
	}
	if v := doc.Find("#map-low").AttrOr("value", ""); v != "5" {
		t.Errorf("the form lost its input: low = %q", v)
	}
	before := parse(t, b.get("/map"))
	deBefore := countryLink(before, "DE").Find("path").AttrOr("fill", "")

	rec = b.postForm("/map/thresholds", "/map", url.Values{"low": {"1"}, "medium": {"2"}, "high": {"3"}})
	assertRedirect(t, rec, "/map")
	doc = parse(t, b.get("/map"))
	if msg := doc.Find("#flash").Text(); !strings.Contains(msg, "Map colours saved: low 1, medium 2, high 3") {
		t.Errorf("flash = %q", msg)
	}
	if deAfter := countryLink(doc, "DE").Find("path").AttrOr("fill", ""); deAfter == deBefore || deAfter != "#d7301f" {
		t.Errorf("Germany (3 bans) is %s after setting high to 3 (was %s), want the darkest #d7301f", deAfter, deBefore)
	}
	if v := doc.Find("#map-high").AttrOr("value", ""); v != "3" {
		t.Errorf("high shows %q", v)
	}
}

func TestMapReResolve(t *testing.T) {
	a, b := loggedInMap(t, false)
	ctx := context.Background()
	// Without a database nothing can be resolved, and the page says so.
	assertRedirect(t, b.postForm("/map/reresolve", "/map", nil), "/map")
	doc := parse(t, b.get("/map"))
	if msg := doc.Find("#flash").Text(); !strings.Contains(msg, "No country database is installed") {
		t.Errorf("flash without database = %q", msg)
	}
	// The database arrives; the action loads it and fills the archive.
	installGeoDB(t, a.dataDir)
	assertRedirect(t, b.postForm("/map/reresolve", "/map", nil), "/map")
	doc = parse(t, b.get("/map"))
	if msg := doc.Find("#flash").Text(); !strings.Contains(msg, "archived bans got their country") {
		t.Errorf("flash = %q", msg)
	}
	if bans := countryLink(doc, "AU").AttrOr("data-bans", ""); bans != "1" {
		t.Errorf("1.1.1.1 (AU) was not filled in: AU has %q bans", bans)
	}
	if doc.Find("[data-testid=map-unknown]").Length() != 0 {
		t.Error("unknown countries remain after re-resolving")
	}
	if doc.Find("[data-testid=geo-missing]").Length() != 0 {
		t.Error("the page still says there is no database")
	}
	n, err := repo.NewHistoryArchive(a.db).CountWithoutCountry(ctx)
	if err != nil || n != 0 {
		t.Errorf("%d archived events without a country, %v", n, err)
	}
}

// TestActiveBansShowCountries bans addresses in a real fail2ban and finds
// their countries on the jails pages, without the page writing to the
// database (the flush job does).
func TestActiveBansShowCountries(t *testing.T) {
	dir := t.TempDir()
	installGeoDB(t, dir)
	sb := sandboxtest.Start(t)
	a := newTestApp(t, dir, withSocket(sb.SocketPath), withConfigDir(sb.ConfigDir))
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	assertRedirect(t, b.postForm("/jails/ban", "/jails", url.Values{"target": {"193.99.144.80 2a00:1450::1 10.1.2.3 9.9.9.9"}, "jail": {"sshd"}}), "/jails")

	countRows := func() int64 {
		n, err := a.db.NewSelect().Model((*models.GeoCacheEntry)(nil)).Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	doc := parse(t, b.get("/jails"))
	// A cell reads "[flag src alt] name": the flag image (served from the
	// hashed assets) and the country's name.
	flagSrc := regexp.MustCompile(`^/assets/[0-9a-f]{12}/flags/[a-z]{2}\.svg$`)
	cell := func(doc *goquery.Document, table, ip string) string {
		td := doc.Find(fmt.Sprintf(`%s tr[data-ip=%q] td[data-label="Country"]`, table, ip))
		text := strings.Join(strings.Fields(td.Text()), " ")
		if img := td.Find("img.country__flag"); img.Length() > 0 {
			src, _ := img.Attr("src")
			alt, _ := img.Attr("alt")
			if !flagSrc.MatchString(src) {
				t.Errorf("flag of %s served from %q", ip, src)
			}
			text = "[flag " + path.Base(src) + " " + alt + "] " + text
		}
		return text
	}
	for ip, want := range map[string]string{"193.99.144.80": "[flag de.svg Germany] Germany", "2a00:1450::1": "[flag ie.svg Ireland] Ireland", "10.1.2.3": "private network", "9.9.9.9": "unknown"} {
		if got := cell(doc, "#active-bans", ip); got != want {
			t.Errorf("/jails: country of %s = %q, want %q", ip, got, want)
		}
	}
	heads := doc.Find("#active-bans th").Map(func(_ int, s *goquery.Selection) string { return strings.TrimSpace(s.Text()) })
	if i := slices.Index(heads, "IP address"); i < 0 || i+1 >= len(heads) || heads[i+1] != "Country" {
		t.Errorf("the column after the address is not the country: %q", heads)
	}
	doc = parse(t, b.get("/jails/sshd"))
	if got := cell(doc, "#jail-bans", "193.99.144.80"); got != "[flag de.svg Germany] Germany" {
		t.Errorf("/jails/sshd: %q", got)
	}
	if n := countRows(); n != 0 {
		t.Fatalf("GET requests wrote %d geo_cache rows", n)
	}
	if _, err := a.s.geo.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := countRows(); n != 3 {
		t.Errorf("after the flush job: %d rows, want 3 (the private address is never stored)", n)
	}
}

// TestMapPageSize checks the transfer budget of the map page in its worst
// case: every country has bans, so every country is coloured and labelled.
func TestMapPageSize(t *testing.T) {
	a, b := loggedInMap(t, false)
	var events []models.ArchivedBan
	now := time.Now()
	for i, code := range models.CountryCodes() {
		c := code
		events = append(events, models.ArchivedBan{Jail: "sshd", IP: fmt.Sprintf("100.%d.%d.1", 64+i/256, i%256), TimeOfBan: now.Add(-time.Duration(i+1) * time.Second).Unix(), BanCount: int64(i), CountryCode: &c})
	}
	if _, err := repo.NewHistoryArchive(a.db).Archive(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	rec := b.do("GET", "/map?size=100", nil, map[string]string{"Accept-Encoding": "gzip"})
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d, encoding %q", rec.Code, rec.Header().Get("Content-Encoding"))
	}
	const budget = 250 << 10
	if n := rec.Body.Len(); n > budget {
		t.Errorf("the map page is %d bytes gzipped, budget %d", n, budget)
	} else {
		t.Logf("map page with every country and 100 rows: %.1f KB gzipped", float64(n)/1024)
	}
}
