package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Budgets of issue 20 for a phone (375×812) at the default page size.
const (
	phoneDashboardMaxHeight = 8000 // px, the whole dashboard
	phoneJailsMaxHeight     = 6000 // px, the whole jails page
	phoneFirstScreenBans    = 8    // ban rows wholly inside the first screen
	chartLabelMinPx         = 11   // rendered size of every chart label
)

// layoutFigures are what layoutJS measures on a page.
type layoutFigures struct {
	Height       int       `json:"height"`       // the document's height
	Rows         int       `json:"rows"`         // ban rows of the page's first ban table
	FirstScreen  int       `json:"firstScreen"`  // of them, wholly inside the first screen
	RowHeight    float64   `json:"rowHeight"`    // the first row's height
	StatusShown  bool      `json:"statusShown"`  // the status bar is inside the first screen
	FiltersShown bool      `json:"filtersShown"` // the filters are inside the first screen
	RowDisplay   string    `json:"rowDisplay"`   // CSS display of a ban row: table-row on a desktop
	HeadShown    bool      `json:"headShown"`    // the ban table's column heads are visible
	LabelPx      []float64 `json:"labelPx"`      // rendered font size of each chart label
}

// layoutJS measures the current page from its top; %q is the ban table.
const layoutJS = `(() => {
	scrollTo(0, 0);
	const vh = innerHeight;
	const inFirst = el => { if (!el) return false; const r = el.getBoundingClientRect(); return r.height > 0 && r.top >= 0 && r.bottom <= vh; };
	const table = document.querySelector(%q);
	const rows = table ? [...table.querySelectorAll("tbody tr[data-ip], tbody tr[data-jail]")] : [];
	const head = table && table.querySelector("thead");
	const labels = [...document.querySelectorAll(".chart__label, .chart__value, .chart__max")].filter(e => e.getBoundingClientRect().height > 0);
	return {
		height: document.documentElement.scrollHeight,
		rows: rows.length,
		firstScreen: rows.filter(inFirst).length,
		rowHeight: rows.length ? rows[0].getBoundingClientRect().height : 0,
		statusShown: inFirst(document.getElementById("status-bar")),
		filtersShown: inFirst(document.querySelector(".filters")),
		rowDisplay: rows.length ? getComputedStyle(rows[0]).display : "",
		headShown: !!head && head.getBoundingClientRect().top > -1000 && head.checkVisibility() && head.getBoundingClientRect().left >= 0,
		labelPx: labels.map(e => parseFloat(getComputedStyle(e).fontSize) * e.getScreenCTM().a),
	};
})()`

// layoutPages are the pages with budgets: the ban table each is measured by.
var layoutPages = []struct {
	path, shot, table string
	phoneMaxHeight    int
}{
	{"/", "layout-dashboard", "#dash-bans table", phoneDashboardMaxHeight},
	{"/jails", "layout-jails", `[data-testid="jails-table"]`, phoneJailsMaxHeight},
}

// layoutScreenshots are the screenshots flowLayout takes on every device.
var layoutScreenshots = []string{
	"layout-dashboard-light", "layout-dashboard-dark", "layout-jails-light", "layout-jails-dark", "layout-row-menu",
	"layout-dashboard-de-light", "layout-dashboard-de-dark", "layout-jails-de-light", "layout-jails-de-dark",
}

// flowLayout measures the dashboard and the jails page at the default page
// size against issue 20's budgets: on the phone, two-line ban rows, the
// status bar, the filters and at least eight bans on the first screen, and
// the pages' heights; on the desktop, the full table. Chart labels are at
// least 11 px on both. It photographs both pages in the light and the dark
// colour scheme, and a row menu; then the same in German.
func flowLayout(t *testing.T, b *browser) {
	measureLayoutPages(t, b, "")
	// The jails table's row actions: a menu on the phone, the buttons on
	// the desktop.
	row := `[data-testid="jails-table"] tr[data-jail="sshd"]`
	b.openRowMenu(t, row)
	b.do(t, chromedp.WaitVisible(chromedp.CSS(row+` button[aria-label="Reload sshd"]`)))
	b.screenshot(t, "layout-row-menu")
	flowLayoutGerman(t, b)
}

// flowLayoutGerman sets the account's language to German, holds the same
// budgets with German's longer words, photographs both pages in both
// colour schemes, and sets the language back to the browser's (English).
func flowLayoutGerman(t *testing.T, b *browser) {
	setLanguage(t, b, "de", "de")
	defer setLanguage(t, b, "", "en")
	measureLayoutPages(t, b, "-de")
}

// measureLayoutPages holds each of layoutPages to its budgets and
// photographs it in the light and the dark colour scheme, the screenshots'
// names ending in suffix ("" for English, "-de").
func measureLayoutPages(t *testing.T, b *browser, suffix string) {
	for _, p := range layoutPages {
		b.visit(t, p.path)
		measureLayout(t, b, p.path, p.table, p.phoneMaxHeight)
		b.check(t, p.shot+suffix+"-light")
		b.colorScheme(t, "dark")
		b.screenshot(t, p.shot+suffix+"-dark")
		b.colorScheme(t, "")
	}
}

// setLanguage chooses code ("" for the browser's) on the account page: the
// page htmx swaps in says so and its <html lang> is want.
func setLanguage(t *testing.T, b *browser, code, want string) {
	t.Helper()
	b.visit(t, "/account")
	b.do(t, chromedp.SetValue(chromedp.CSS("#language"), code))
	b.do(t, b.press(`[data-testid="account-language"] button[type="submit"]`))
	b.waitJS(t, `!!document.querySelector(".flash--success")`)
	if got := eval[string](t, b, `document.documentElement.lang`); got != want {
		t.Fatalf("%s: the account page is in %q after choosing %q, want %q", b.dev.name, got, code, want)
	}
}

// measureLayout checks the current page against issue 20's budgets: on the
// phone two-line rows, the page's height and, on the dashboard, the status
// bar, the filters and at least eight bans on the first screen; on the
// desktop the full table; chart labels of at least 11 px on both.
func measureLayout(t *testing.T, b *browser, path, table string, phoneMaxHeight int) {
	t.Helper()
	f := eval[layoutFigures](t, b, fmt.Sprintf(layoutJS, table))
	t.Logf("%s %s: page %d px tall, %d rows of %.1f px, %d wholly on the first screen, status bar shown %v, filters shown %v, chart labels %v px",
		b.dev.name, path, f.Height, f.Rows, f.RowHeight, f.FirstScreen, f.StatusShown, f.FiltersShown, f.LabelPx)
	for _, px := range f.LabelPx {
		if px < chartLabelMinPx {
			t.Errorf("%s %s: a chart label is %.1f px, want at least %d", b.dev.name, path, px, chartLabelMinPx)
			break
		}
	}
	if path == "/" {
		// The budgets hold at the default page size, on a full page.
		if f.Rows != 100 {
			t.Errorf("%s: the dashboard shows %d bans, want a full page of 100", b.dev.name, f.Rows)
		}
		if len(f.LabelPx) == 0 {
			t.Errorf("%s: the dashboard shows no chart labels", b.dev.name)
		}
	}
	if b.dev.phone {
		if f.Height >= phoneMaxHeight {
			t.Errorf("%s %s is %d px tall, want under %d", b.dev.name, path, f.Height, phoneMaxHeight)
		}
		if f.RowDisplay == "table-row" || f.HeadShown {
			t.Errorf("%s %s: rows display as %q with the column heads shown, want compact rows", b.dev.name, path, f.RowDisplay)
		}
		if path == "/" && (!f.StatusShown || !f.FiltersShown || f.FirstScreen < phoneFirstScreenBans) {
			t.Errorf("%s: the first screen shows status bar %v, filters %v and %d bans; want both and at least %d bans",
				b.dev.name, f.StatusShown, f.FiltersShown, f.FirstScreen, phoneFirstScreenBans)
		}
	} else if f.RowDisplay != "table-row" || !f.HeadShown {
		t.Errorf("%s %s: rows display as %q, column heads shown %v; want the full table", b.dev.name, path, f.RowDisplay, f.HeadShown)
	}
}

// openRowMenu makes the actions of the table row sel usable: on the phone it
// opens the row's menu; on the desktop they show anyway and the menu's
// button does not.
func (b *browser) openRowMenu(t *testing.T, sel string) {
	t.Helper()
	if !b.dev.phone {
		b.do(t, chromedp.WaitNotVisible(chromedp.CSS(sel+" .row-menu > summary")),
			chromedp.WaitVisible(chromedp.CSS(sel+" .row-menu .actions")))
		return
	}
	// (chromedp's WaitNotVisible does not see the closed details' content as hidden.)
	if eval[bool](t, b, fmt.Sprintf(`document.querySelector(%q).checkVisibility()`, sel+" .row-menu .actions")) {
		t.Errorf("%s: the actions of %s show before their menu is opened", b.dev.name, sel)
	}
	b.do(t, b.press(sel+" .row-menu > summary"), chromedp.WaitVisible(chromedp.CSS(sel+" .row-menu .actions")))
}

// colorScheme makes the page prefer scheme ("dark" or "light"), or what
// the device prefers when scheme is "".
func (b *browser) colorScheme(t *testing.T, scheme string) {
	t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	var features []*emulation.MediaFeature
	if scheme != "" {
		features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features}); err != nil {
		t.Fatalf("%s: prefer %q colours: %v", b.dev.name, scheme, err)
	}
}
