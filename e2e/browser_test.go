package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds every browser step.
const stepTimeout = 20 * time.Second

// device is a screen the flows run on.
type device struct {
	name          string
	width, height int64
	scale         float64
	phone         bool // mobile emulation with touch; the nav hides behind the Menu button
}

var (
	desktop = device{name: "desktop", width: 1280, height: 800, scale: 1}
	phone   = device{name: "phone", width: 375, height: 812, scale: 2, phone: true}
	devices = []device{desktop, phone}
)

// browser is one Chromium with one tab, emulating a device and talking to
// one app through nginx.
type browser struct {
	dev       device
	ctx       context.Context // the tab; no deadline, steps derive their own
	app       *app
	artifacts string
	log       *pageLog
	dialogs   *dialogLog
}

// newBrowser starts a fresh headless Chromium for dev (fresh profile,
// trusting only the test certificate) and closes it when t ends.
func (st *stack) newBrowser(t *testing.T, dev device) *browser {
	t.Helper()
	return st.newBrowserFor(t, dev, st.apps[dev.name])
}

// newBrowserFor is newBrowser talking to a, which may be the device's app
// at another address.
func (st *stack) newBrowserFor(t *testing.T, dev device, a *app) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(st.chromium),
		chromedp.NoSandbox, // we run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Trust exactly our self-signed certificate instead of ignoring every
		// certificate error. Chromium honours this only with --user-data-dir,
		// which chromedp always passes: a fresh temporary profile per browser,
		// removed (and its leftover child processes killed) on close.
		chromedp.Flag("ignore-certificate-errors-spki-list", st.spki),
		chromedp.WindowSize(int(dev.width), int(dev.height)),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browser{dev: dev, ctx: ctx, app: a, artifacts: st.artifacts}
	if err := chromedp.Do(ctx); err != nil { // start the browser without a deadline
		t.Fatalf("start chromium: %v", err)
	}
	b.setUpTab(t)
	return b
}

// newTab opens another tab in b's browser (same device, same cookies),
// closed when t ends.
func (b *browser) newTab(t *testing.T) *browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	tab := &browser{dev: b.dev, ctx: ctx, app: b.app, artifacts: b.artifacts}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	tab.setUpTab(t)
	return tab
}

// setUpTab watches the tab's console, requests and dialogs and emulates
// the device.
func (b *browser) setUpTab(t *testing.T) {
	t.Helper()
	b.log = watchPage(b.ctx, b.app.origin)
	b.dialogs = acceptDialogs(b.ctx)
	emulate := []chromedp.EmulateViewportOption{chromedp.EmulateScale(b.dev.scale)}
	if b.dev.phone {
		emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	b.do(t, chromedp.EmulateViewport(b.dev.width, b.dev.height, emulate...))
	t.Cleanup(func() {
		// Whatever the page logged after the last check must not go unseen.
		if problems := b.log.drain(t, b.ctx); len(problems) > 0 {
			t.Errorf("%s: after the last check: %s", b.dev.name, strings.Join(problems, "; "))
		}
	})
}

// url is the absolute URL of an in-app path such as "/jails".
func (b *browser) url(path string) string { return b.app.base + path }

// step returns a context for one browser step.
func (b *browser) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, stepTimeout)
}

// do runs actions and fails the test on error.
func (b *browser) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", b.dev.name, err)
	}
}

// run runs one action that returns a value and fails the test on error.
func run[T any](t *testing.T, b *browser, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", b.dev.name, err)
	}
	return v
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	return run(t, b, chromedp.Evaluate[T](expr))
}

// visit loads an in-app path and waits for the page to load.
func (b *browser) visit(t *testing.T, path string) {
	t.Helper()
	b.do(t, chromedp.Navigate(b.url(path)))
}

// press clicks (desktop) or taps (phone) the first element matched by sel,
// an XPath expression when it starts with "//", else a CSS selector. When
// the element found is replaced before the press reaches it (a live
// refresh swapped that part of the page), nothing was pressed: press finds
// it again, at most three times.
func (b *browser) press(sel string) chromedp.Action[chromedp.Void] {
	once := b.pressOnce(sel)
	return func(ctx context.Context, target *chromedp.Target) (chromedp.Void, error) {
		var err error
		for range 3 {
			if _, err = once(ctx, target); err == nil || !strings.Contains(err.Error(), "Could not find node with given id") {
				return chromedp.Void{}, err
			}
		}
		return chromedp.Void{}, err
	}
}

// pressOnce is press without the second try.
func (b *browser) pressOnce(sel string) chromedp.Action[chromedp.Void] {
	if strings.HasPrefix(sel, "//") {
		if b.dev.phone {
			return chromedp.Tap(chromedp.Search(sel))
		}
		return chromedp.Click(chromedp.Search(sel))
	}
	if b.dev.phone {
		return chromedp.Tap(chromedp.CSS(sel))
	}
	return chromedp.Click(chromedp.CSS(sel))
}

// follow presses sel, which loads a new page (link, form submit), waits for
// the load and returns the HTTP status of the final document.
func (b *browser) follow(t *testing.T, sel string) int64 {
	t.Helper()
	return b.load(t, "press "+sel, b.press(sel))
}

// load runs steps that load a new page (what names them in failures),
// waits for the load and returns the HTTP status of the final document.
func (b *browser) load(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		t.Fatalf("%s: %s: %v", b.dev.name, what, err)
	}
	if resp == nil {
		t.Fatalf("%s: %s: no document response", b.dev.name, what)
	}
	return resp.Status
}

// typeInto replaces the value of the input sel by typing text into it.
func (b *browser) typeInto(t *testing.T, sel, text string) {
	t.Helper()
	b.do(t, chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// path returns the current location below the app's origin, with query.
func (b *browser) path(t *testing.T) string {
	t.Helper()
	loc := run(t, b, chromedp.Location())
	return strings.TrimPrefix(loc, b.app.origin)
}

// wantPath fails unless the current location is want (path and query).
func (b *browser) wantPath(t *testing.T, want string) {
	t.Helper()
	if got := b.path(t); got != want {
		t.Fatalf("%s: location = %s, want %s", b.dev.name, got, want)
	}
}

// text returns the visible text of the first element matching sel. An
// element that a live update replaced between finding and reading it is
// found again.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	for range 3 {
		ctx, cancel := b.step()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		if err == nil {
			return strings.TrimSpace(v)
		}
		if !strings.Contains(err.Error(), "No node with given id") {
			t.Fatalf("%s: %v", b.dev.name, err)
		}
	}
	t.Fatalf("%s: %s kept being replaced while read", b.dev.name, sel)
	return ""
}

// check runs checkPage on the current page, fails the test for every
// problem and saves a full-page screenshot as <device>-<name>.png.
func (b *browser) check(t *testing.T, name string) {
	t.Helper()
	for _, p := range b.checkPage(t) {
		t.Errorf("%s %s (%s): %s", b.dev.name, name, b.path(t), p)
	}
	b.screenshot(t, name)
}

// screenshot saves a full-page PNG of the current page.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	png := run(t, b, chromedp.FullScreenshot(100))
	file := filepath.Join(b.artifacts, b.dev.name+"-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkPage returns what is wrong with the current page: console errors,
// uncaught exceptions and CSP violations since the previous check, requests
// that bypassed nginx, form controls without an accessible label, forms on
// which Enter would not press the main button, broken images, sideways
// scrolling, and a session cookie that is missing or not Secure and HttpOnly.
func (b *browser) checkPage(t *testing.T) []string {
	t.Helper()
	problems := b.log.drain(t, b.ctx)
	for _, c := range eval[[]string](t, b, unlabelledControlsJS) {
		problems = append(problems, "form control without an accessible label: "+c)
	}
	for _, f := range eval[[]string](t, b, defaultButtonProblemsJS) {
		problems = append(problems, "implicit submission: "+f)
	}
	for _, f := range b.enterProblems(t) {
		problems = append(problems, "Enter key: "+f)
	}
	// An image that finished loading without pixels is a broken one (a
	// lazy image not yet loaded is not complete).
	for _, src := range eval[[]string](t, b, `[...document.images].filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)`) {
		problems = append(problems, "broken image: "+src)
	}
	// Under mobile emulation a too wide page widens the layout viewport, so
	// window.innerWidth grows with it (608 for a 600px box at 375 wide):
	// compare with the root's clientWidth and the device width instead.
	w := eval[[]int](t, b, `[document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth]`)
	if w[0] > w[1] || int64(w[2]) > b.dev.width {
		problems = append(problems, fmt.Sprintf("page scrolls sideways: scrollWidth %d, clientWidth %d, innerWidth %d, device width %d",
			w[0], w[1], w[2], b.dev.width))
	}
	problems = append(problems, b.cookieProblems(t)...)
	return problems
}

// unlabelledControlsJS lists the form controls that have no accessible
// label: label[for] or a wrapping label (both in el.labels), aria-label or
// aria-labelledby naming elements with text. Hidden inputs and buttons are
// skipped: a button's text is its label.
const unlabelledControlsJS = `(() => {
	const skip = new Set(["hidden", "submit", "reset", "button", "image"]);
	const text = el => !!el && el.textContent.trim() !== "";
	const out = [];
	for (const el of document.querySelectorAll("input, select, textarea")) {
		if (el.tagName === "INPUT" && skip.has(el.type)) continue;
		if (el.labels && [...el.labels].some(text)) continue;
		if ((el.getAttribute("aria-label") || "").trim() !== "") continue;
		const ids = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
		if (ids.some(id => text(document.getElementById(id)))) continue;
		out.push(el.outerHTML.slice(0, 160));
	}
	return out;
})()`

// cookieProblems checks the session cookie through the DevTools protocol,
// since page scripts cannot see an HttpOnly cookie.
func (b *browser) cookieProblems(t *testing.T) []string {
	t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.url("/")}})
	if err != nil {
		t.Fatalf("%s: get cookies: %v", b.dev.name, err)
	}
	for _, c := range res.Cookies {
		if c.Name != sessionCookie {
			continue
		}
		var p []string
		if !c.Secure {
			p = append(p, "session cookie "+sessionCookie+" is not Secure")
		}
		if !c.HTTPOnly {
			p = append(p, "session cookie "+sessionCookie+" is not HttpOnly")
		}
		return p
	}
	return []string{"no session cookie " + sessionCookie}
}

const sessionCookie = "bangui_session"

// pageLog collects, from the tab's start, the console messages, uncaught
// exceptions and browser log entries (where Chromium reports CSP
// violations), plus every request that did not go to the app's origin.
type pageLog struct {
	mu     sync.Mutex
	msgs   []chromedp.ConsoleMessage
	stray  []string      // requests outside the origin
	notify chan struct{} // a message arrived
	marks  int           // sentinels sent so far
	expect []string      // texts of error messages the next drain accepts
	allow  []string      // the same, but they need not arrive
	noted  map[string]bool
}

// expectConsole makes the next check accept, and log, console errors that
// contain text, and fail if none arrives. Use it for errors a flow provokes
// on purpose, such as Chromium's "Failed to load resource: the server
// responded with a status of 401" for a page that is meant to be a 401.
func (b *browser) expectConsole(text string) {
	b.log.mu.Lock()
	defer b.log.mu.Unlock()
	b.log.expect = append(b.log.expect, text)
}

// allowConsole makes the next check accept, and log, console errors that
// contain text, if any arrive: errors a flow may provoke, depending on
// timing (a poll that happens to fall while the panel restarts).
func (b *browser) allowConsole(text string) {
	b.log.mu.Lock()
	defer b.log.mu.Unlock()
	b.log.allow = append(b.log.allow, text)
}

// watchPage starts collecting the tab's messages and requests.
func watchPage(ctx context.Context, origin string) *pageLog {
	l := &pageLog{notify: make(chan struct{}, 1), noted: map[string]bool{}}
	console := chromedp.Console(ctx)
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, m)
			l.mu.Unlock()
			select {
			case l.notify <- struct{}{}:
			default:
			}
		}
	}()
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			u := ev.Request.URL
			if u != origin && !strings.HasPrefix(u, origin+"/") && !strings.HasPrefix(u, "data:") {
				l.mu.Lock()
				l.stray = append(l.stray, u)
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// drain returns the problems logged since the last drain. To know that
// every earlier message has arrived, it logs a sentinel through the
// DevTools protocol (not an inline script, so the CSP does not apply) and
// waits for it: the console stream keeps the order of the messages.
// Warnings and other messages are not failures but are logged, so nothing
// is dropped silently.
func (l *pageLog) drain(t *testing.T, tab context.Context) []string {
	t.Helper()
	l.mu.Lock()
	l.marks++
	mark := fmt.Sprintf("e2e-sentinel-%d", l.marks)
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("console.debug(%q)", mark))); err != nil {
		if tab.Err() != nil { // the browser is gone: report what arrived
			return l.take(t, "")
		}
		t.Fatalf("console sentinel: %v", err)
	}
	for {
		l.mu.Lock()
		seen := false
		for _, m := range l.msgs {
			if m.Type == chromedp.ConsoleDebug && m.Text == mark {
				seen = true
				break
			}
		}
		l.mu.Unlock()
		if seen {
			return l.take(t, mark)
		}
		select {
		case <-l.notify:
		case <-ctx.Done():
			t.Fatalf("console sentinel %s did not arrive: %v", mark, ctx.Err())
		}
	}
}

// take removes the collected messages up to and including the sentinel
// mark (all when mark is "") and classifies them.
func (l *pageLog) take(t *testing.T, mark string) []string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var problems []string
	seen := make([]bool, len(l.expect))
	n := len(l.msgs)
	for i, m := range l.msgs {
		if mark != "" && m.Type == chromedp.ConsoleDebug && m.Text == mark {
			n = i + 1
			break
		}
		p := consoleProblem(m)
		if p == "" {
			// Not a failure, but not dropped silently: each text once.
			if !l.noted[m.Text] {
				l.noted[m.Text] = true
				t.Logf("console %s (not a failure): %s", m.Type, m.Text)
			}
			continue
		}
		if j := slices.IndexFunc(l.expect, func(e string) bool { return strings.Contains(m.Text, e) }); j >= 0 {
			seen[j] = true
			t.Logf("expected console message: %s", p)
			continue
		}
		if slices.ContainsFunc(l.allow, func(e string) bool { return strings.Contains(m.Text, e) }) {
			t.Logf("allowed console message: %s", p)
			continue
		}
		problems = append(problems, p)
	}
	for j, e := range l.expect {
		if !seen[j] {
			problems = append(problems, fmt.Sprintf("expected a console error containing %q; none arrived", e))
		}
	}
	l.expect, l.allow = nil, nil
	l.msgs = l.msgs[n:]
	for _, u := range l.stray {
		problems = append(problems, "request outside the nginx origin: "+u)
	}
	l.stray = nil
	return problems
}

// consoleProblem says why a console message fails a page, or "" when it
// does not. Nothing is filtered out: no favicon or other exceptions.
func consoleProblem(m chromedp.ConsoleMessage) string {
	where := ""
	if m.URL != "" {
		where = fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
	}
	switch {
	case strings.Contains(m.Text, "Content Security Policy"):
		return "CSP violation: " + m.Text + where
	case m.IsException():
		return "uncaught exception: " + m.Text + where
	case m.Type == chromedp.ConsoleError || m.Type == "assert":
		src := ""
		if m.Source != "" {
			src = " [" + m.Source + "]"
		}
		return "console error" + src + ": " + m.Text + where
	}
	return ""
}
