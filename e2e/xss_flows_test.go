package e2e

import (
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

	"github.com/chromedp/chromedp"

	"bangui/fail2ban/sandbox"
)

// The XSS flow plants payloads where hostile text really comes from — a log
// line fail2ban stores with its ban, a jail section and a filter file in
// fail2ban's configuration, a blocklist source typed into the form, query
// parameters — and asserts on every page that shows them that the payload is
// text, not markup. The strict CSP would block an injected inline script or
// handler even if escaping failed, so the flow does not rely on the script
// marker alone: it also looks for the payload's elements in the DOM and for
// its literal text on the page, and checkPage fails on the CSP violation an
// injected handler would cause.

// xssPayload is a payload that breaks out of attribute values, <title> and
// <textarea> and then injects an element and a script, both marked with
// data-xss=tag, which set window.__xss to tag if they ever run.
func xssPayload(tag string) string {
	return `"'></textarea></title>` + xssShortPayload(tag) +
		`<script data-xss=` + tag + `>window.__xss='` + tag + `'</script>`
}

// xssShortPayload is a payload without "/" (which file names and path
// segments cannot hold): an injected image whose error handler sets
// window.__xss.
func xssShortPayload(tag string) string {
	return `"'><img src=x id=xss-probe data-xss=` + tag + ` onerror="window.__xss='` + tag + `'">`
}

// xssShown is the part of a payload a page must show as text when it shows
// the payload at all.
func xssShown(tag string) string { return `<img src=x id=xss-probe data-xss=` + tag }

// Payloads planted in fail2ban's configuration directory before it starts.
var (
	xssJailName   = xssShortPayload("jail")   // section of jail.d/xss.local; no "/", so that its links route
	xssFilterName = xssShortPayload("filter") // filter.d/<name>.conf, used by that jail
	xssJailFile   = "jail.d/xss.local"        // the file holding the jail
	xssLogJail    = "xss-log"                 // bans from a log whose lines carry payloads
	xssJails      = []sandbox.Jail{{Name: xssLogJail, Filter: "sshd", MaxRetry: 1}}
	xssLogPayload = xssPayload("log")
)

// xssLogIP is the address the device's planted log line gets banned.
func xssLogIP(d device) string {
	if d.phone {
		return "192.0.2.72"
	}
	return "192.0.2.71"
}

// plantXSS writes the payloads into the fail2ban sandbox directory dir
// before fail2ban starts there: a filter file and an enabled jail section
// whose names are payloads (fail2ban runs such a jail), a comment that is
// one, and, in the log of the xss-log jail (sshd filter, one failure bans), one failed login per device whose user name is
// a payload. fail2ban reads the log when it starts, bans the addresses and
// stores the matched lines in its database.
func plantXSS(t *testing.T, dir string) {
	t.Helper()
	conf := filepath.Join(dir, "conf")
	for _, d := range []string{"filter.d", "jail.d"} {
		if err := os.MkdirAll(filepath.Join(conf, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(conf, "filter.d", xssFilterName+".conf"),
		"# A filter whose file name is an XSS payload (e2e).\n[Definition]\nfailregex = ^xss-never-matches <HOST>$\n")
	write(filepath.Join(conf, filepath.FromSlash(xssJailFile)), fmt.Sprintf(
		"# A jail whose name and filter are XSS payloads (e2e).\n# %s\n[%s]\nenabled = true\nfilter = %s\nlogpath = %s\naction = dummy[target=\"%s\"]\n",
		xssPayload("raw"), xssJailName, xssFilterName, filepath.Join(dir, "log", "xss-jail.log"), filepath.Join(dir, "run", "xss-jail.dummy")))
	var lines strings.Builder
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000+00:00")
	for _, d := range devices {
		fmt.Fprintf(&lines, "%s host sshd[4242]: Failed password for invalid user %s from %s port 22 ssh2\n",
			now, xssLogPayload, xssLogIP(d))
	}
	if err := os.MkdirAll(filepath.Join(dir, "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(dir, "log", xssLogJail+".log"), lines.String())
	write(filepath.Join(dir, "log", "xss-jail.log"), "")
}

// xssScanJS lists what betrays an injected payload on the page: a script
// that ran (window.__xss set), an element a payload carried (data-xss or
// the id xss-probe), a javascript: URL in a link, form or htmx attribute.
const xssScanJS = `(() => {
	const out = [];
	if (window.__xss !== undefined) out.push("injected script ran: window.__xss = " + JSON.stringify(window.__xss));
	for (const el of document.querySelectorAll("[data-xss], #xss-probe")) out.push("injected element in the DOM: " + el.outerHTML.slice(0, 160));
	const attrs = ["href", "action", "formaction", "src", "hx-get", "hx-post"];
	for (const el of document.querySelectorAll(attrs.map(a => "[" + a + "]").join(","))) {
		for (const a of attrs) {
			const v = el.getAttribute(a);
			if (v !== null && /^\s*javascript:/i.test(v)) out.push("javascript: URL in " + a + ": " + el.outerHTML.slice(0, 160));
		}
	}
	return out;
})()`

// xssMissingJS returns the texts of %s (a JSON array) that the page shows
// neither as text nor as the value of a form field.
const xssMissingJS = `(%s).filter(w => !(document.body.textContent.includes(w) ||
	[...document.querySelectorAll("input, textarea")].some(e => e.value.includes(w))))`

// xssProblems returns the signs of an injected payload on the current page
// and every text of shown that the page does not show literally.
func (b *browser) xssProblems(t *testing.T, shown ...string) []string {
	t.Helper()
	problems := eval[[]string](t, b, xssScanJS)
	if len(shown) > 0 {
		for _, m := range eval[[]string](t, b, fmt.Sprintf(xssMissingJS, jsStrings(shown))) {
			problems = append(problems, fmt.Sprintf("payload not shown as text: %q", m))
		}
	}
	return problems
}

// jsStrings is a JavaScript array literal of ss.
func jsStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = jsString(s)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// jsString is a JavaScript (and CSS) string literal of s, which must be
// printable ASCII as every payload here is.
func jsString(s string) string { return fmt.Sprintf("%q", s) }

// assertNoXSS fails for every sign of an injected payload, every text of
// shown that is missing, and every problem checkPage finds.
func (b *browser) assertNoXSS(t *testing.T, what string, shown ...string) {
	t.Helper()
	for _, p := range append(b.xssProblems(t, shown...), b.checkPage(t)...) {
		t.Errorf("%s %s: %s", b.dev.name, what, p)
	}
}

// visitStatus loads an in-app path and returns the document's status. A
// hostile address gets a page that says what is wrong, never a server
// error; Chromium logs a 4xx document as a console error, which is expected.
func (b *browser) visitStatus(t *testing.T, path string) int64 {
	t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(b.url(path)))
	if err != nil {
		t.Fatalf("%s: visit %s: %v", b.dev.name, path, err)
	}
	if resp == nil {
		t.Fatalf("%s: visit %s: no document response", b.dev.name, path)
	}
	if resp.Status >= 500 {
		t.Errorf("%s: %s answered %d, want a page with a message", b.dev.name, path, resp.Status)
	}
	if resp.Status >= 400 {
		b.expectConsole(fmt.Sprintf("status of %d", resp.Status))
	}
	if h1 := eval[string](t, b, `(document.querySelector("h1") || {}).textContent || ""`); strings.TrimSpace(h1) == "" {
		t.Errorf("%s: %s (status %d) shows no heading", b.dev.name, path, resp.Status)
	}
	return resp.Status
}

// flowXSS visits every page that shows a planted payload, and pages with
// payloads in their query parameters and paths.
func flowXSS(t *testing.T, b *browser) {
	t.Run("log-line", func(t *testing.T) { xssLogLine(t, b) })
	t.Run("config", func(t *testing.T) { xssConfig(t, b) })
	t.Run("blocklist", func(t *testing.T) { xssBlocklist(t, b) })
	t.Run("query", func(t *testing.T) { xssQuery(t, b) })
	t.Run("login-next", func(t *testing.T) { xssLoginNext(t, b) })
}

// xssLogLine opens the page of the address the planted log line got banned:
// its timeline lists the matched line fail2ban stored, payload and all.
func xssLogLine(t *testing.T, b *browser) {
	page := "/history/" + xssLogIP(b.dev)
	// fail2ban reads the log when it starts; on a busy machine the ban may
	// still be on its way: poll the page (with a deadline) until it is there.
	ready := run(t, b, chromedp.Evaluate[bool](fmt.Sprintf(`(async () => {
		for (const end = Date.now() + 15000; Date.now() < end; await new Promise(r => setTimeout(r, 250))) {
			const r = await fetch(%s);
			if (r.ok && (await r.text()).includes("Matched log lines")) return true;
		}
		return false;
	})()`, jsString(b.url(page))), chromedp.EvalAwaitPromise))
	if !ready {
		t.Fatalf("%s: %s never showed the matched log line of the planted ban", b.dev.name, page)
	}
	if status := b.visitStatus(t, page); status != 200 {
		t.Fatalf("%s: %s answered %d", b.dev.name, page, status)
	}
	lines := eval[[]string](t, b, `[...document.querySelectorAll('[data-testid="ip-timeline"] .loglines li')].map(l => l.textContent)`)
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, xssLogPayload) }) {
		t.Errorf("%s: matched log lines %q lack the payload %q", b.dev.name, lines, xssLogPayload)
	}
	b.assertNoXSS(t, "ip page", xssShown("log"))
}

// xssConfig shows the jail and the filter whose names are payloads in the
// configuration tabs, tries to activate the jail (refused: the name is not
// one BanGUI sends to fail2ban), opens their file in the raw editor and runs
// the regex tester on a log line that carries a payload.
func xssConfig(t *testing.T, b *browser) {
	row := fmt.Sprintf(`[data-testid="config-jails"] tr[data-jail=%s]`, jsString(xssJailName))
	b.visit(t, "/config")
	if n := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(row))); n != 1 {
		t.Fatalf("%s: /config shows %d rows for the jail %q, want 1", b.dev.name, n, xssJailName)
	}
	if f := b.text(t, row+` td[data-label="Filter"]`); f != xssFilterName {
		t.Errorf("%s: the jail's filter shows as %q, want %q", b.dev.name, f, xssFilterName)
	}
	b.assertNoXSS(t, "config jails", xssShown("jail"), xssShown("filter"))
	b.screenshot(t, "xss-config-jails")

	// Deactivate asks first, the name in the dialog as text, and is refused
	// with a reason: BanGUI writes jail.d/<name>.local and puts no such name
	// in a file name. The refusal is a 422 that htmx swaps into the flash
	// area (and logs).
	b.do(t, b.press(row+` button[type="submit"]`))
	b.waitJS(t, `document.querySelector("#flash .flash--error")`)
	if msg := b.text(t, "#flash"); !strings.Contains(msg, "cannot edit the jail") || !strings.Contains(msg, "raw editor") {
		t.Errorf("%s: deactivating the jail %q says %q", b.dev.name, xssJailName, msg)
	}
	if d := b.dialogs.last(); !strings.Contains(d, xssJailName) {
		t.Errorf("%s: confirmation %q lacks the jail name %q", b.dev.name, d, xssJailName)
	}
	b.expectConsole("status of 422")
	// htmx swaps a 422 as an answer, not an error (the htmx-config meta):
	// its "Response Status Error Code 422" would fail the check.
	b.assertNoXSS(t, "config deactivate refused", xssShown("jail"))

	// fail2ban runs the jail: the live pages list it, as text.
	b.visit(t, "/jails")
	b.assertNoXSS(t, "/jails", xssShown("jail"))
	for _, p := range []string{"/", "/history"} {
		b.visit(t, p)
		b.assertNoXSS(t, p)
	}

	b.visit(t, "/config/filters")
	b.assertNoXSS(t, "config filters", xssShown("filter"))
	b.visit(t, "/config/raw")
	b.assertNoXSS(t, "config raw list")
	b.visit(t, "/config/raw?file="+url.QueryEscape(xssJailFile))
	if v := eval[string](t, b, `document.getElementById("raw-content").value`); !strings.Contains(v, "["+xssJailName+"]") || !strings.Contains(v, xssPayload("raw")) {
		t.Errorf("%s: the raw editor shows %q, want the section [%s] and the comment %s", b.dev.name, v, xssJailName, xssPayload("raw"))
	}
	b.assertNoXSS(t, "config raw file", xssShown("jail"), xssShown("raw"))
	b.visitStatus(t, "/config/jails/"+url.PathEscape(xssShortPayload("jail-path")))
	b.assertNoXSS(t, "config jail by a hostile name")
	b.visitStatus(t, "/config/filters/"+url.PathEscape(xssFilterName))
	b.assertNoXSS(t, "config filter by a hostile name")

	// The regex tester echoes the log lines it is given.
	b.visit(t, "/config/regex")
	b.typeInto(t, "#rx-failregex", `Failed password for invalid user .* from <HOST>`)
	line := "2024-01-02 03:04:05 sshd[7]: Failed password for invalid user " + xssPayload("regex") + " from 198.51.100.78 port 22"
	b.do(t, chromedp.SetValue(chromedp.CSS("#rx-lines"), line))
	b.do(t, b.press(button("Test")), chromedp.WaitVisible(chromedp.CSS("#regex-result")))
	if host := b.text(t, `tr[data-result="matched"] td[data-label="Host"]`); host != "198.51.100.78" {
		t.Errorf("%s: regex tester matched host %q", b.dev.name, host)
	}
	b.assertNoXSS(t, "config regex", xssShown("regex"))
}

// xssBlocklist adds a blocklist source whose name and address carry
// payloads through the form, previews its list (whose lines are payloads
// too), tries a javascript: address and deletes the source again.
func xssBlocklist(t *testing.T, b *browser) {
	body := "# " + xssPayload("list-comment") + "\n" + xssPayload("list-line") + "\n192.0.2.200\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	name := `"'></title>` + xssShortPayload("bl-name") + " " + b.dev.name
	if len(name) > 100 {
		t.Fatalf("the source name is %d characters, more than BanGUI takes", len(name))
	}
	// No spaces, which an address may not hold; "/" separates the attributes.
	addr := srv.URL + `/list.txt?x="'><img/src=x/id=xss-probe/data-xss=bl-url>`
	findRow := fmt.Sprintf(`[...document.querySelectorAll('[data-testid="sources-table"] tr[data-source]')].find(r => r.dataset.source === %s)`, jsString(name))

	b.visit(t, "/blocklists")
	b.do(t, chromedp.SetValue(chromedp.CSS("#add-name"), name), chromedp.SetValue(chromedp.CSS("#add-url"), addr))
	b.do(t, b.press(button("Add")))
	b.waitJS(t, findRow)
	if msg := b.text(t, "#flash"); !strings.Contains(msg, "Added the list "+name) {
		t.Errorf("%s: flash after add = %q", b.dev.name, msg)
	}
	b.assertNoXSS(t, "blocklists with the source", xssShown("bl-name"), `<img/src=x/id=xss-probe/data-xss=bl-url>`)
	b.screenshot(t, "xss-blocklists")

	// The source's page: name as the heading, the address, the preview of
	// the list's first lines swapped in by htmx.
	href := eval[string](t, b, findRow+`.querySelector("td a").getAttribute("href")`)
	b.visit(t, strings.TrimPrefix(href, basePath))
	if h1 := b.text(t, "h1#page-title"); h1 != name {
		t.Errorf("%s: source page title %q, want %q", b.dev.name, h1, name)
	}
	b.do(t, b.press(`[data-testid="load-preview"]`), chromedp.WaitVisible(chromedp.CSS("[data-testid=preview-sample]")))
	b.assertNoXSS(t, "blocklist source preview", xssShown("bl-name"), xssShown("list-comment"), xssShown("list-line"))

	// A javascript: address is refused with a message; the field keeps it as typed.
	b.visit(t, "/blocklists")
	jsAddr := `javascript:window.__xss='bl-js'//https://example.org/`
	b.do(t, chromedp.SetValue(chromedp.CSS("#add-name"), "xss-js-"+b.dev.name), chromedp.SetValue(chromedp.CSS("#add-url"), jsAddr))
	b.do(t, b.press(button("Add")))
	b.waitJS(t, `document.body.textContent.includes("Only http:// and https:// addresses can be imported.")`)
	if v := eval[string](t, b, `document.getElementById("add-url").value`); v != jsAddr {
		t.Errorf("%s: the address field shows %q after the refusal, want %q", b.dev.name, v, jsAddr)
	}
	b.expectConsole("status of 422")
	// htmx swaps a 422 as an answer, not an error (the htmx-config meta):
	// its "Response Status Error Code 422" would fail the check.
	b.assertNoXSS(t, "blocklists refusing a javascript: address")

	// Delete asks first with the name as text, and says what it did.
	b.visit(t, "/blocklists")
	b.do(t, b.press(fmt.Sprintf(`[data-testid="sources-table"] tr[data-source=%s] form[action$="/delete"] button`, jsString(name))))
	b.waitJS(t, "!"+findRow)
	if d := b.dialogs.last(); !strings.Contains(d, name) {
		t.Errorf("%s: delete confirmation %q lacks the name %q", b.dev.name, d, name)
	}
	b.assertNoXSS(t, "blocklists after delete")
}

// xssQuery sends payloads in the query parameters and path segments every
// list and search reads.
func xssQuery(t *testing.T, b *browser) {
	p := xssPayload("query")
	q := func(path string, params ...string) string {
		v := url.Values{}
		for _, k := range params {
			v.Set(k, p)
		}
		return path + "?" + v.Encode()
	}
	seg := url.PathEscape(xssShortPayload("path"))
	shown := xssShown("query")
	pages := []struct {
		path  string
		shown string // what the page echoes of the payload (in a search field or a message), if anything
	}{
		{q("/", "range", "origin", "source", "page", "size"), ""},
		// The history keeps the first 45 characters of an address prefix.
		{q("/history", "range", "origin", "source", "jail", "ip", "page", "size"), p[:45]},
		{q("/map", "country", "range", "origin", "page", "size"), ""},
		{q("/jails", "q", "page", "size"), shown},
		{q("/jails", "lookup"), shown},
		{q("/jails/sshd", "q", "page", "size"), shown},
		{q("/config/filters", "q"), shown},
		{q("/config/log", "q", "n"), shown},
		{q("/config/raw", "file"), shown},
		{"/history/" + seg, ""},
		{"/jails/" + seg, ""},
		{"/blocklists/" + seg, ""},
	}
	for _, pg := range pages {
		b.visitStatus(t, pg.path)
		var want []string
		if pg.shown != "" {
			want = []string{pg.shown}
		}
		b.assertNoXSS(t, strings.SplitN(pg.path, "?", 2)[0], want...)
	}
}

// xssLoginNext opens the login page with a javascript: URL and a payload as
// next in a fresh browser context (no session): the hidden field keeps the
// text as it came and nothing runs. (Where the login then leads is
// handlers' safeNext, tested there.)
func xssLoginNext(t *testing.T, b *browser) {
	fresh := b.freshTab(t)
	next := `javascript:window.__xss='next'//` + xssPayload("next")
	fresh.visit(t, "/login?next="+url.QueryEscape(next))
	if v := eval[string](t, fresh, `document.querySelector('input[name="next"]').value`); v != next {
		t.Errorf("%s: the login form's next is %q, want %q", b.dev.name, v, next)
	}
	fresh.assertNoXSS(t, "login with a hostile next", xssShown("next"))
}

// freshTab opens a tab of the same Chromium in a new browser context: no
// cookies, so no session. It closes when t ends.
func (b *browser) freshTab(t *testing.T) *browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open a tab in a new browser context: %v", b.dev.name, err)
	}
	f := &browser{dev: b.dev, ctx: ctx, app: b.app, artifacts: b.artifacts}
	f.log = watchPage(ctx, b.app.origin)
	f.dialogs = acceptDialogs(ctx)
	emulate := []chromedp.EmulateViewportOption{chromedp.EmulateScale(b.dev.scale)}
	if b.dev.phone {
		emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	f.do(t, chromedp.EmulateViewport(b.dev.width, b.dev.height, emulate...))
	return f
}

// flowXSSChecksCanFail proves that the XSS checks catch what they look
// for, on a test-only page that renders a payload unescaped: the injected
// elements, the javascript: link and the missing text (the CSP blocks the
// script, and checkPage reports that), and, with the page's CSP relaxed,
// the script that ran.
func flowXSSChecksCanFail(t *testing.T, b *browser) {
	payload := xssPayload("self-test") + `<a href="javascript:window.__xss='self-test-href'">link</a>`
	b.visit(t, "/__e2e/xss?html="+url.QueryEscape(payload))
	problems := b.xssProblems(t, xssShown("self-test"))
	wantXSSProblems(t, b, problems, "injected element in the DOM: ", "payload not shown as text: ", "javascript: URL in href: ")
	if slices.ContainsFunc(problems, func(p string) bool { return strings.HasPrefix(p, "injected script ran: ") }) {
		t.Errorf("%s: the payload's script ran although the CSP forbids inline scripts", b.dev.name)
	}
	// The blocked script and handler are CSP violations; the image x is a 404
	// (and so a broken image).
	var csp int
	for _, p := range b.checkPage(t) {
		switch {
		case strings.HasPrefix(p, "CSP violation: "):
			csp++
			t.Logf("%s: checkPage caught, as it should: %s", b.dev.name, p)
		case strings.Contains(p, "status of 404"), strings.HasPrefix(p, "broken image: ") && strings.HasSuffix(p, "/__e2e/x"):
		default:
			t.Errorf("%s: unexpected problem on the self-test page: %s", b.dev.name, p)
		}
	}
	if csp == 0 {
		t.Errorf("%s: checkPage reported no CSP violation for an unescaped inline script and handler", b.dev.name)
	}

	b.visit(t, "/__e2e/xss?csp=off&html="+url.QueryEscape(payload))
	wantXSSProblems(t, b, b.xssProblems(t), "injected script ran: ")
	b.checkPage(t) // drop the page's 404 for the image: it is meant
}

// wantXSSProblems fails unless problems has one starting with each prefix.
func wantXSSProblems(t *testing.T, b *browser, problems []string, prefixes ...string) {
	t.Helper()
	for _, pre := range prefixes {
		i := slices.IndexFunc(problems, func(p string) bool { return strings.HasPrefix(p, pre) })
		if i < 0 {
			t.Errorf("%s: the XSS checks reported %q, want a problem starting %q", b.dev.name, problems, pre)
			continue
		}
		t.Logf("%s: the XSS checks caught, as they should: %s", b.dev.name, problems[i])
	}
}
