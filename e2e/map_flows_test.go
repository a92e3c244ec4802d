package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"bangui/geo/geotest"
	"bangui/models"
	"bangui/repo"
)

// mapSeed are the archived bans every device's panel starts with: public
// addresses whose country the archive does not know yet. The panel's fill
// job looks them up in the country database seedGeo installs.
var mapSeed = map[string][]string{
	"BR": {"177.10.0.1", "177.10.0.2", "177.10.0.3", "177.10.0.4"},
	"DE": {"193.99.144.80", "193.99.144.81", "193.99.144.82"},
	"US": {"8.8.8.8", "8.8.8.9"},
	"AU": {"1.1.1.1"},
}

// seedGeo prepares a data dir before its panel starts: the test country
// database where the panel looks by default, and the archived bans of
// mapSeed without their countries.
func seedGeo(t *testing.T, dataDir string) {
	t.Helper()
	if err := geotest.WriteCountryDB(filepath.Join(dataDir, "geo", "geo-whois-asn-country.mmdb"), geotest.Countries, geotest.IPLocationDB); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var events []models.ArchivedBan
	now := time.Now()
	i := 0
	for _, ips := range mapSeed {
		for _, ip := range ips {
			i++
			events = append(events, models.ArchivedBan{Jail: "sshd", IP: ip, TimeOfBan: now.Add(-time.Duration(i) * 7 * time.Minute).Unix()})
		}
	}
	// The live-pages flow's addresses, banned three days ago: their per-IP
	// pages are there before the flow bans them again.
	for _, d := range devices {
		ip, _ := livePagesIP(d)
		events = append(events, models.ArchivedBan{Jail: "sshd", IP: ip, TimeOfBan: now.Add(-72 * time.Hour).Unix()})
	}
	if _, err := repo.NewHistoryArchive(db).Archive(ctx, events); err != nil {
		t.Fatal(err)
	}
}

// flowMap shows the world map with the seeded countries, filters the table
// by clicking a country (htmx: the URL follows, Back restores), clears the
// filter with a second click and with the Clear button, and selects a
// country from the keyboard.
func flowMap(t *testing.T, b *browser) {
	country := func(code string) string { return fmt.Sprintf(`svg.worldmap a[data-country=%q]`, code) }
	// The fill job runs at start; on a busy machine the page may come first:
	// the page polls its own URL (with a deadline) until Brazil has its bans.
	b.visit(t, "/map")
	ready := run(t, b, chromedp.Evaluate[bool](`(async () => {
		for (const end = Date.now() + 15000; Date.now() < end; await new Promise(r => setTimeout(r, 250))) {
			const html = await (await fetch(location.href)).text();
			if (html.includes('data-country="BR" data-bans="4"')) return true;
		}
		return false;
	})()`, chromedp.EvalAwaitPromise))
	if !ready {
		t.Fatalf("%s: the archived bans never got their countries: %s", b.dev.name, b.text(t, "[data-testid=map-summary]"))
	}
	b.visit(t, "/map")
	if s := b.text(t, "[data-testid=map-summary]"); !strings.Contains(s, "from 4 countries in the last 24 hours") {
		t.Errorf("%s: summary = %q", b.dev.name, s)
	}
	for code, ips := range mapSeed {
		if got := eval[string](t, b, fmt.Sprintf(`document.querySelector(%q).getAttribute("data-bans")`, country(code))); got != fmt.Sprint(len(ips)) {
			t.Errorf("%s: %s has %s bans on the map, want %d", b.dev.name, code, got, len(ips))
		}
	}
	if w := eval[[]int](t, b, `(() => { const r = document.querySelector("svg.worldmap").getBoundingClientRect(); return [Math.round(r.width), document.documentElement.clientWidth]; })()`); w[0] > w[1] || w[0] < w[1]/2 {
		t.Errorf("%s: the map is %d px wide in a %d px page", b.dev.name, w[0], w[1])
	}
	// Flags are images, not emoji (this Chromium has no colour-emoji font):
	// the country list's flags load from the assets at 21×14 px, with the
	// country's name as their text alternative.
	b.waitJS(t, `(() => {
		const i = document.querySelector('#map-countries img.country__flag[alt="Brazil"]');
		if (!i) return false;
		i.scrollIntoView({block: "center"});
		return i.complete && i.naturalWidth > 0 && i.width === 21 && i.height === 14;
	})()`)
	b.check(t, "map-countries")

	// A click filters the table below to Brazil; the URL follows; Back restores.
	b.assertSwap(t, country("BR"), `#map-view[data-country="BR"]`, basePath+"/map?country=BR&range=24h")
	b.do(t, b.press(country("BR")), chromedp.WaitVisible(chromedp.CSS(`#map-view[data-country="BR"]`)))
	b.wantPath(t, basePath+"/map?country=BR&range=24h")
	rows := eval[[]string](t, b, `[...document.querySelectorAll("#map-bans tbody tr[data-ip]")].map(r => r.dataset.country)`)
	if len(rows) != 4 || strings.Join(rows, ",") != "BR,BR,BR,BR" {
		t.Errorf("%s: table rows after choosing Brazil: %v", b.dev.name, rows)
	}
	if h := b.text(t, "#map-bans-title"); h != "Bans from Brazil" {
		t.Errorf("%s: table heading %q", b.dev.name, h)
	}
	b.check(t, "map-country")

	// A second click on Brazil removes the filter.
	b.do(t, b.press(country("BR")), chromedp.WaitVisible(chromedp.CSS(`#map-view[data-country=""]`)))
	b.wantPath(t, basePath+"/map?range=24h")
	if n := eval[int](t, b, `document.querySelectorAll("#map-bans tbody tr[data-ip]").length`); n < 10 {
		t.Errorf("%s: %d rows after clearing, want every ban again", b.dev.name, n)
	}

	// The country list selects too, and "Clear country" restores.
	b.do(t, b.press(`#map-countries a[data-country="DE"]`), chromedp.WaitVisible(chromedp.CSS(`#map-view[data-country="DE"]`)))
	b.wantPath(t, basePath+"/map?country=DE&range=24h")
	b.do(t, b.press(`[data-testid=map-clear]`), chromedp.WaitVisible(chromedp.CSS(`#map-view[data-country=""]`)))
	b.wantPath(t, basePath+"/map?range=24h")

	if !b.dev.phone {
		// Keyboard: countries with bans are in the tab order; Enter selects.
		b.do(t, chromedp.Focus(chromedp.CSS(country("US"))), chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(chromedp.CSS(`#map-view[data-country="US"]`)))
		if focused := eval[string](t, b, `document.activeElement.id`); focused != "map-c-US" {
			t.Errorf("%s: focus after choosing by keyboard is on %q, want the country", b.dev.name, focused)
		}
		b.wantPath(t, basePath+"/map?country=US&range=24h")
	}
	for _, p := range b.checkPage(t) {
		t.Errorf("%s: map after the flows: %s", b.dev.name, p)
	}
}
