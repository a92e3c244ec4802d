package e2e

import (
	_ "embed"
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored into the test tree only (see
// testdata/axe/README.md): the panel never serves it.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// axeViolation is one rule axe-core found broken on a page.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"` // the first few elements
}

// axeRunJS runs axe-core on the whole document (WCAG 2.x A and AA and
// best practices) and returns the violations. Running animations (a live
// row sliding in) finish first: axe judges the settled page.
const axeRunJS = `document.getAnimations().forEach(a => a.finish()), axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact || "", help: v.help,
	targets: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " " + (n.failureSummary || "").split("\n").slice(1, 2).join("").trim()),
})))`

// axe runs axe-core on the current page and returns its serious and
// critical violations; it logs the others.
func (b *browser) axe(t *testing.T, where string) []axeViolation {
	t.Helper()
	if !eval[bool](t, b, `typeof axe === "object"`) {
		eval[chromedp.Void](t, b, axeSource)
	}
	var bad []axeViolation
	for _, v := range run(t, b, chromedp.Evaluate[[]axeViolation](axeRunJS, chromedp.EvalAwaitPromise)) {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, v)
			continue
		}
		t.Logf("%s %s: axe (%s, not a failure): %s: %s", b.dev.name, where, v.Impact, v.ID, v.Help)
	}
	return bad
}

// crawlLimit bounds the pages the accessibility walk visits.
const crawlLimit = 80

// crawlSkip are paths the walk does not follow: they log out, download,
// stream or belong to the tests.
var crawlSkip = []string{"/logout", "/events", "/metrics", "/api/", "/assets/", "/__e2e", "/healthz", "/readyz"}

// crawlLinksJS lists the in-app links of the page that a reader could
// follow: same origin, no download, no new window.
const crawlLinksJS = `[...document.querySelectorAll("a[href]")].filter(a => a.origin === location.origin && !a.hasAttribute("download") && !a.target).map(a => a.pathname)`

// crawl walks the panel from "/" by its links (not from a list) and
// returns the in-app paths of the pages it found, at most one page below
// each parent path (one jail, one address, one filter…), without queries.
func (b *browser) crawl(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	from := map[string]string{} // the page that links to a path
	parents := map[string]bool{}
	queue := []string{"/"}
	var pages []string
	for len(queue) > 0 && len(pages) < crawlLimit {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		pages = append(pages, p)
		if status := b.visitStatus(t, p); status != 200 {
			t.Logf("%s: the link to %s on %s leads to a page with status %d", b.dev.name, p, from[p], status)
		}
		for _, problem := range b.log.drain(t, b.ctx) {
			t.Errorf("%s %s: %s", b.dev.name, p, problem)
		}
		for _, link := range eval[[]string](t, b, crawlLinksJS) {
			rel, ok := strings.CutPrefix(link, basePath)
			if !ok {
				continue
			}
			if rel == "" {
				rel = "/"
			}
			if seen[rel] || crawlSkipped(rel) {
				continue
			}
			// Pages of one kind (/history/<ip>, /config/jails/<name>): one each.
			if parent := path.Dir(rel); parent != "/" && !isNavPath(rel) {
				if parents[parent] && !seen[rel] {
					continue
				}
				parents[parent] = true
			}
			if _, ok := from[rel]; !ok {
				from[rel] = p
			}
			queue = append(queue, rel)
		}
	}
	return pages
}

func crawlSkipped(p string) bool {
	for _, s := range crawlSkip {
		if strings.HasPrefix(p, s) || strings.HasSuffix(p, ".csv") {
			return true
		}
	}
	return false
}

// isNavPath reports whether p is a page of the main navigation or of a
// section's own tabs, which the walk always visits.
func isNavPath(p string) bool {
	for _, e := range navEntries {
		if e.path == p {
			return true
		}
	}
	return strings.Count(p, "/") == 2 && strings.HasPrefix(p, "/config/")
}

// flowA11y walks every page of the panel (crawl) and runs axe-core on each
// in the light and the dark colour scheme: no serious or critical
// violation. Then the keyboard walk: every action of each page reachable
// with Tab, each with a visible focus.
func flowA11y(t *testing.T, b *browser) {
	pages := b.crawl(t)
	t.Logf("%s: accessibility walk over %d pages: %s", b.dev.name, len(pages), strings.Join(pages, " "))
	clean := 0
	for _, p := range pages {
		b.visitStatus(t, p)
		found := 0
		for _, scheme := range []string{"light", "dark"} {
			b.colorScheme(t, scheme)
			for _, v := range b.axe(t, p+" "+scheme) {
				found++
				t.Errorf("%s %s (%s): axe %s violation %s: %s; %s", b.dev.name, p, scheme, v.Impact, v.ID, v.Help, strings.Join(v.Targets, "; "))
			}
		}
		b.colorScheme(t, "")
		if found == 0 {
			clean++
		}
		for _, problem := range b.keyboardProblems(t) {
			t.Errorf("%s %s: keyboard: %s", b.dev.name, p, problem)
		}
		for _, problem := range b.log.drain(t, b.ctx) {
			t.Errorf("%s %s: %s", b.dev.name, p, problem)
		}
	}
	t.Logf("%s: axe-core: %d of %d pages without serious or critical violations, light and dark", b.dev.name, clean, len(pages))
}

// keyboardArmJS lists the page's actions (visible, enabled, focusable
// elements that Tab should reach) and records every element the focus
// lands on, with whether it shows a focus indicator.
const keyboardArmJS = `(() => {
	const sel = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])";
	const actions = [...document.querySelectorAll(sel)].filter(el => !el.disabled && !el.closest("[inert]") && el.checkVisibility({visibilityProperty: true}) && el.getBoundingClientRect().width > 0 && el.tabIndex >= 0);
	const name = el => (el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + (el.getAttribute("aria-label") || el.textContent || el.name || "").trim().replace(/\s+/g, " ").slice(0, 40));
	const shows = el => {
		const s = getComputedStyle(el);
		if (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) return true;
		if (s.boxShadow !== "none") return true;
		// An SVG link (the world map's countries) rings its shape instead.
		return [...el.querySelectorAll("path, polygon, rect")].some(c => parseFloat(getComputedStyle(c).strokeWidth) >= 3);
	};
	// A radio group is one Tab stop (arrow keys move within it): reaching
	// one of its radios reaches them all.
	const group = el => el.type === "radio" && el.name ? [...document.querySelectorAll("input[type=radio]")].filter(r => r.name === el.name && r.form === el.form) : [el];
	const reached = new Set();
	const missed = el => el.isConnected && !group(el).some(g => reached.has(g));
	window.__kbd = {actions, name, missed, reached, unseen: [], stops: 0};
	document.addEventListener("focusin", e => {
		const k = window.__kbd;
		if (!k) return;
		k.stops++;
		k.reached.add(e.target);
		if (!e.target.matches(":focus-visible") || !shows(e.target)) k.unseen.push(name(e.target));
	}, true);
	if (document.activeElement) document.activeElement.blur();
	scrollTo(0, 0);
	return actions.length;
})()`

// keyboardResultJS says which actions Tab did not reach and where the
// focus was not visible, and disarms keyboardArmJS.
const keyboardResultJS = `(() => {
	const k = window.__kbd;
	delete window.__kbd;
	const out = k.actions.filter(k.missed).slice(0, 5).map(el => "not reachable with Tab: " + k.name(el));
	for (const n of [...new Set(k.unseen)].slice(0, 5)) out.push("focus not visible on " + n);
	return out;
})()`

// keyboardProblems presses Tab through the current page until every action
// had the focus (scrollable boxes are Tab stops too, so a page may need more
// presses than it has actions; at most three rounds) and reports actions
// the focus never reached and focused elements without a visible focus
// indicator.
func (b *browser) keyboardProblems(t *testing.T) []string {
	t.Helper()
	n := eval[int](t, b, keyboardArmJS)
	for round := 0; round < 3 && eval[int](t, b, keyboardLeftJS) > 0; round++ {
		ctx, cancel := b.step()
		for range n + 5 {
			if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
				cancel()
				t.Fatalf("%s: Tab: %v", b.dev.name, err)
			}
		}
		cancel()
	}
	problems := eval[[]string](t, b, keyboardResultJS)
	if len(problems) > 0 {
		problems = append(problems, fmt.Sprintf("(%d actions on the page)", n))
	}
	return problems
}

// keyboardLeftJS counts the actions the focus has not reached yet.
const keyboardLeftJS = `window.__kbd.actions.filter(window.__kbd.missed).length`

// keyboardIP is the address flowKeyboard bans and unbans on device d.
func keyboardIP(d device) string {
	if d.phone {
		return "203.0.113.44"
	}
	return "203.0.113.33"
}

// focusInJS is true when the focus is on an element inside %q (or on it).
const focusInJS = `(() => { const a = document.activeElement; return !!a && a !== document.body && a.closest(%q) !== null; })()`

// flowKeyboard works the panel with the keyboard alone where htmx swaps
// content and a dialog asks: Enter on the dashboard's Next link swaps the
// table and the focus stays on the pager; a ban by Enter on the Ban
// button; the unban through the row's menu (Enter opens it, Tab reaches
// Unban, Enter presses it, the confirmation is accepted) leaves the focus
// in the page, not lost on <body>.
func flowKeyboard(t *testing.T, b *browser) {
	b.visit(t, "/")
	b.do(t, chromedp.Focus(chromedp.CSS(`#dash-bans[data-page="1"] a[data-pager="next"]`)), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`#dash-bans[data-page="2"]`)))
	b.waitJS(t, fmt.Sprintf(focusInJS, "#dash-bans .pager"))

	ip := keyboardIP(b.dev)
	row := fmt.Sprintf(`#active-bans tr[data-ip=%q]`, ip)
	b.visit(t, "/jails")
	b.typeInto(t, "#ban-target", ip)
	b.do(t, chromedp.SetValue(chromedp.CSS("#ban-jail"), "sshd"),
		chromedp.Focus(chromedp.Search(button("Ban"))), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(row)))
	b.waitJS(t, fmt.Sprintf(focusInJS, "#main"))

	if b.dev.phone {
		b.do(t, chromedp.Focus(chromedp.CSS(row+" .row-menu > summary")), chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(chromedp.CSS(row+" .row-menu .actions")), chromedp.KeyEvent("\t"))
	} else {
		b.do(t, chromedp.Focus(chromedp.CSS(row+" .row-menu .actions button")))
	}
	if label := eval[string](t, b, `document.activeElement.getAttribute("aria-label") || ""`); label != "Unban "+ip+" from sshd" {
		t.Fatalf("%s: the focus is on %q, want the row's Unban button", b.dev.name, label)
	}
	b.do(t, chromedp.KeyEvent("\r"), chromedp.WaitNotPresent(chromedp.CSS(row)))
	if d := b.dialogs.last(); d != "Unban "+ip+" from sshd?" {
		t.Errorf("%s: confirmation = %q", b.dev.name, d)
	}
	b.waitJS(t, fmt.Sprintf(focusInJS, "#main"))
	b.check(t, "keyboard-unbanned")
}
