package e2e

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"bangui/fail2ban/sandbox"
)

// flow is one part of the tour a device makes while logged in. It may
// navigate anywhere; the next flow starts wherever it ended.
type flow struct {
	name string
	run  func(t *testing.T, b *browser)
}

// deviceFlows run on every device between login and logout. Later features
// add their flows here and get checkPage's checks through b.check.
var deviceFlows = []flow{
	{"navigation", flowNavigation},
	{"htmx-swap", flowSwap},
	{"ban-unban", flowBanUnban},
	{"timed-ban", flowTimedBan},
	{"jail-paging", flowJailPaging},
	{"dashboard", flowDashboard},
	{"layout", flowLayout},
	{"history", flowHistory},
	{"never-ban", flowNeverBan},
	{"bulk-unban", flowBulkUnban},
	{"blocklists", flowBlocklists},
	{"config-jail", flowConfigJail},
	{"config-activate", flowConfigActivate},
	{"config-tabs", flowConfigTabs},
	{"audit", flowAudit},
	{"alert-rules", flowAlertRules},
	{"alerts", flowAlerts},
	{"map", flowMap},
	{"hosts", flowHosts},
	{"accounts", flowAccounts},
	{"xss", flowXSS},
	{"xss-checks-can-fail", flowXSSChecksCanFail},
	{"live", flowLive},
	{"live-pages", flowLivePages},
	{"keyboard", flowKeyboard},
	{"a11y", flowA11y},
	{"weight", flowWeight},
	{"fleet", flowFleet}, // last: it adds hosts to the panel
}

// screenshots are the pages every device must have photographed.
var screenshots = []string{
	"setup", "setup-socket-ok", "login", "login-wrong-password",
	"dashboard", "map", "jails", "history", "blocklists", "config",
	"e2e-swap", "logged-out", "jails-banned", "jail-detail", "jail-page-2",
	"dashboard-charts", "dashboard-filtered", "history-filtered", "ip",
	"blocklists-added", "blocklists-preview", "blocklists-progress", "blocklists-result", "blocklists-jail-bans",
	"config-jails", "config-jail", "config-jail-saved", "config-rollback", "config-activated",
	"config-filters", "config-filter", "config-actions", "config-action", "config-raw", "config-server",
	"config-regex", "config-log",
	"map-countries", "map-country",
	"xss-config-jails", "xss-blocklists",
	"hosts", "hosts-confirm", "hosts-enrolled",
	"dashboard-live",
	"bulk-selected", "bulk-confirm", "bulk-done",
	"users", "users-refused", "account",
	"audit", "alert-rules", "alert-rules-refused", "alerts-test", "alerts-rule",
	"allowlist-confirm", "allowlist",
	"passkeys-added", "passkey-login", "passkey-second-factor", "passkeys-removed",
	"keyboard-unbanned",
}

// phoneScreenshots are taken on phones only.
var phoneScreenshots = []string{"menu-open"}

// TestE2E drives the panel through nginx over TLS on every device, in
// parallel: setup, a wrong and a right password, the flows, logout and the
// self-test of checkPage. Then it checks the screenshots and nginx's log.
func TestE2E(t *testing.T) {
	st := startStack(t, devices)
	st.pastShared.Add(len(devices))
	ok := t.Run("devices", func(t *testing.T) {
		for _, d := range devices {
			t.Run(d.name, func(t *testing.T) {
				t.Parallel()
				runDevice(t, st, d)
			})
		}
	})
	if !ok {
		t.Fatal("device flows failed; screenshots and proxy log not checked")
	}
	t.Run("screenshots", func(t *testing.T) { st.assertScreenshots(t) })
	t.Run("through-nginx", func(t *testing.T) { st.assertProxied(t) })
	// Last: they restart the nginx, panels and fail2ban every device uses,
	// under a dashboard open on each device.
	live := map[string]*browser{}
	for _, d := range devices {
		live[d.name] = st.liveDashboard(t, d)
	}
	for _, d := range devices {
		t.Run("reconnect/"+d.name, func(t *testing.T) { st.flowReconnect(t, live[d.name]) })
	}
	t.Run("restarts", func(t *testing.T) { st.flowRestarts(t, live) })
}

// runDevice makes the whole tour on one device, each step a subtest.
func runDevice(t *testing.T, st *stack, d device) {
	b := st.newBrowser(t, d)
	password := devicePassword(d)
	var passed sync.Once
	defer passed.Do(st.pastShared.Done) // a tour that ended early
	setup := flow{"setup", func(t *testing.T, b *browser) { flowSetup(t, b, st.sandbox, st.apps[d.name], password) }}
	if st.demo {
		setup = flow{"demo-ready", flowDemoReady}
	}
	steps := []flow{
		setup,
		{"wrong-password", flowWrongPassword},
		{"login", func(t *testing.T, b *browser) { flowLogin(t, b, password) }},
	}
	steps = append(steps, deviceFlows...)
	steps = append(steps, flow{"logout", flowLogout},
		flow{"passkeys", func(t *testing.T, _ *browser) { st.flowPasskeys(t, d, password) }},
		flow{"checks-can-fail", flowChecksCanFail})
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, b) }) {
			t.Fatalf("%s: step %s failed; later steps depend on it", d.name, s.name)
		}
		if s.name == "live" { // after "map" too
			passed.Do(st.pastShared.Done)
		}
	}
}

// button is an XPath selector for the button with the given text.
func button(text string) string {
	return fmt.Sprintf(`//button[normalize-space()=%q]`, text)
}

// flowSetup completes first-run setup in the browser and lands on login.
func flowSetup(t *testing.T, b *browser, sb *sandbox.Sandbox, a *app, password string) {
	b.visit(t, "/")
	b.wantPath(t, basePath+"/setup")
	b.check(t, "setup")

	// The setup code is in the data dir and in the log, as the page says.
	code, err := os.ReadFile(filepath.Join(a.dataDir, "setup-code"))
	if err != nil {
		t.Fatalf("%s: %v", b.dev.name, err)
	}
	if logged, _ := os.ReadFile(a.log); !strings.Contains(string(logged), strings.TrimSpace(string(code))) {
		t.Errorf("%s: the log does not print the setup code %s", b.dev.name, code)
	}
	b.typeInto(t, "#setup_code", strings.TrimSpace(string(code)))

	b.typeInto(t, "#username", adminName)
	b.typeInto(t, "#password", password)
	b.typeInto(t, "#password_confirm", password)
	b.typeInto(t, "#socket", sb.SocketPath)
	// The Test button asks the real fail2ban sandbox through htmx.
	b.do(t, b.press(button("Test")), chromedp.WaitVisible(chromedp.CSS("#probe-result .probe__box--ok")))
	if msg := b.text(t, "#probe-result"); !strings.Contains(msg, "Connected") {
		t.Errorf("%s: probe result = %q, want Connected", b.dev.name, msg)
	}
	b.typeInto(t, "#config_dir", sb.ConfigDir)
	b.typeInto(t, "#timezone", "UTC")
	b.typeInto(t, "#session_minutes", "60")
	b.check(t, "setup-socket-ok")

	// Enter in the last field (a phone keyboard's "Go") saves, as the main
	// button says, though the socket's "Test" is the first visible submit
	// button of the form.
	if status := b.submitWithEnter(t, "#session_minutes"); status != 200 {
		t.Fatalf("%s: setup answered %d", b.dev.name, status)
	}
	b.wantPath(t, basePath+"/login")
	if msg := b.text(t, ".flash--success"); !strings.Contains(msg, "Setup is complete") {
		t.Errorf("%s: flash after setup = %q", b.dev.name, msg)
	}
	b.check(t, "login")
}

// flowWrongPassword submits a wrong password and expects the delayed error.
func flowWrongPassword(t *testing.T, b *browser) {
	b.typeInto(t, "#username", adminName)
	b.typeInto(t, "#password", "Not-the-password-9")
	start := time.Now()
	status := b.follow(t, button("Log in"))
	if took := time.Since(start); took < 500*time.Millisecond {
		t.Errorf("%s: wrong password answered after %v, want at least 0.5 s", b.dev.name, took)
	}
	if status != 401 {
		t.Errorf("%s: wrong password answered %d, want 401", b.dev.name, status)
	}
	b.wantPath(t, basePath+"/login")
	if msg := b.text(t, "#login-error"); !strings.Contains(msg, "Wrong password") {
		t.Errorf("%s: #login-error = %q, want Wrong password", b.dev.name, msg)
	}
	if inv := eval[string](t, b, `document.getElementById("password").getAttribute("aria-invalid") || ""`); inv != "true" {
		t.Errorf("%s: password aria-invalid = %q, want true", b.dev.name, inv)
	}
	// Chromium logs every 4xx document as a network error; this one is meant.
	b.expectConsole("status of 401")
	b.check(t, "login-wrong-password")
}

// adminName is the first admin that setup creates (the demo's too).
const adminName = "admin"

// flowLogin logs in as adminName and lands on the dashboard.
func flowLogin(t *testing.T, b *browser, password string) {
	b.typeInto(t, "#username", adminName)
	b.typeInto(t, "#password", password)
	if status := b.follow(t, button("Log in")); status != 200 {
		t.Fatalf("%s: login answered %d", b.dev.name, status)
	}
	b.wantPath(t, basePath+"/")
	if h1 := b.text(t, "h1#page-title"); h1 != "Dashboard" {
		t.Errorf("%s: title = %q, want Dashboard", b.dev.name, h1)
	}
	b.check(t, "dashboard")
}

// navEntries is the main navigation, ending back on the dashboard.
var navEntries = []struct{ path, label, shot string }{
	{"/map", "World map", "map"},
	{"/jails", "Jails", "jails"},
	{"/history", "History", "history"},
	{"/blocklists", "Blocklists", "blocklists"},
	{"/config", "Configuration", "config"},
	{"/hosts", "Hosts", "hosts"},
	{"/audit", "Audit log", "audit"},
	{"/", "Dashboard", "dashboard"},
}

// flowNavigation visits every navigation entry through the nav (on the
// phone through the Menu button) and checks the active entry and title.
func flowNavigation(t *testing.T, b *browser) {
	for i, e := range navEntries {
		b.openMenu(t)
		if i == 0 && b.dev.phone {
			b.check(t, "menu-open")
		}
		href := basePath + e.path
		if status := b.follow(t, fmt.Sprintf(`#site-nav a[href=%q]`, href)); status != 200 {
			t.Errorf("%s: %s answered %d", b.dev.name, href, status)
		}
		b.wantPath(t, href)
		if h1 := b.text(t, "h1#page-title"); h1 != e.label {
			t.Errorf("%s: %s title = %q, want %q", b.dev.name, href, h1, e.label)
		}
		cur := eval[[]string](t, b, `[...document.querySelectorAll('#site-nav a[aria-current="page"]')].map(a => a.getAttribute("href"))`)
		if !slices.Equal(cur, []string{href}) {
			t.Errorf("%s: %s: links with aria-current=page: %v, want only %s", b.dev.name, href, cur, href)
		}
		b.check(t, e.shot)
	}
}

// openMenu makes the main navigation usable: on the phone it opens the Menu
// (hidden nav, then aria-expanded and the open class); on the desktop the
// nav is simply visible and the Menu button is not.
func (b *browser) openMenu(t *testing.T) {
	t.Helper()
	if !b.dev.phone {
		b.do(t, chromedp.WaitVisible(chromedp.CSS("#site-nav")),
			chromedp.WaitNotVisible(chromedp.CSS("[data-menu-toggle]")))
		return
	}
	b.do(t, chromedp.WaitNotVisible(chromedp.CSS("#site-nav")),
		b.press(`[data-menu-toggle][aria-controls="site-nav"]`),
		chromedp.WaitVisible(chromedp.CSS("#site-nav.site-nav--open")))
	if exp := eval[string](t, b, `document.querySelector("[data-menu-toggle]").getAttribute("aria-expanded")`); exp != "true" {
		t.Errorf("%s: Menu aria-expanded = %q after opening, want true", b.dev.name, exp)
	}
}

// flowSwap exercises assertSwap on the test-only paged list.
func flowSwap(t *testing.T, b *browser) {
	b.visit(t, "/__e2e/swap?page=1")
	b.check(t, "e2e-swap")
	b.assertSwap(t, `#list[data-page="1"] a`, `#list[data-page="2"]`, basePath+"/__e2e/swap?page=2")
}

// flowChecksCanFail proves that checkPage catches what it looks for: a CSP
// violation on the test-only page with an inline script, then an unlabelled
// input and a too wide box added to a page through DevTools.
func flowChecksCanFail(t *testing.T, b *browser) {
	b.visit(t, "/__e2e/inline-script")
	wantProblems(t, b, "CSP violation: ")
	if eval[bool](t, b, `document.body.hasAttribute("data-inline-ran")`) {
		t.Errorf("%s: the inline script ran: the CSP is not enforced", b.dev.name)
	}

	b.visit(t, "/__e2e/swap")
	eval[chromedp.Void](t, b, `(() => {
		const main = document.getElementById("main");
		main.append(document.createElement("input"));
		const wide = document.createElement("div");
		wide.style.width = "2000px";
		wide.textContent = "wide";
		main.append(wide);
	})()`)
	wantProblems(t, b, "form control without an accessible label: ", "page scrolls sideways: ")

	// A form whose first submit button is not its main one (the setup page's
	// old trap), and an image that does not decode.
	b.visit(t, "/__e2e/swap")
	eval[chromedp.Void](t, b, `(() => {
		const form = document.createElement("form");
		form.action = "/nowhere";
		const label = document.createElement("label");
		label.textContent = "Field";
		const input = document.createElement("input");
		label.append(input);
		const test = document.createElement("button");
		test.textContent = "Test";
		const save = document.createElement("button");
		save.textContent = "Save";
		save.setAttribute("data-main", "");
		form.append(label, test, save);
		const img = document.createElement("img");
		img.alt = "broken";
		img.src = "data:image/png;base64,AAAA";
		document.getElementById("main").append(form, img);
	})()`)
	b.waitJS(t, `document.images[document.images.length - 1].complete`)
	wantProblems(t, b, "implicit submission: ", "Enter key: ", "broken image: ")
	if p := b.path(t); p != basePath+"/__e2e/swap" {
		t.Errorf("%s: the Enter probe left the page for %s", b.dev.name, p)
	}
}

// wantProblems runs checkPage and fails unless it reports exactly one
// problem starting with each prefix.
func wantProblems(t *testing.T, b *browser, prefixes ...string) {
	t.Helper()
	problems := b.checkPage(t)
	for _, pre := range prefixes {
		n := 0
		for _, p := range problems {
			if strings.HasPrefix(p, pre) {
				n++
				t.Logf("%s: checkPage caught, as it should: %s", b.dev.name, p)
			}
		}
		if n != 1 {
			t.Errorf("%s: checkPage reported %d problems starting %q, want 1", b.dev.name, n, pre)
		}
	}
	if len(problems) != len(prefixes) {
		t.Errorf("%s: checkPage reported %q, want one problem for each of %q", b.dev.name, problems, prefixes)
	}
}

// flowLogout logs out through the dashboard's nav and checks that pages
// need a login again.
func flowLogout(t *testing.T, b *browser) {
	b.visit(t, "/")
	b.openMenu(t)
	if status := b.follow(t, `#site-nav .logout-form button[type="submit"]`); status != 200 {
		t.Fatalf("%s: logout answered %d", b.dev.name, status)
	}
	b.wantPath(t, basePath+"/login")
	if msg := b.text(t, ".flash"); !strings.Contains(msg, "logged out") {
		t.Errorf("%s: flash after logout = %q", b.dev.name, msg)
	}
	if n := eval[int](t, b, `document.querySelectorAll("#site-nav").length`); n != 0 {
		t.Errorf("%s: the navigation is still shown after logout", b.dev.name)
	}
	b.check(t, "logged-out")

	b.visit(t, "/jails")
	b.wantPath(t, basePath+"/login?next=%2Fbangui%2Fjails")
}

// assertScreenshots checks that this run wrote a full-width PNG of every
// page at every size.
func (st *stack) assertScreenshots(t *testing.T) {
	for _, d := range devices {
		names := slices.Concat(screenshots, fleetScreenshots, layoutScreenshots)
		if d.phone {
			names = append(names, phoneScreenshots...)
		}
		for _, name := range names {
			if st.skipInDemo(name) {
				continue
			}
			file := filepath.Join(st.artifacts, d.name+"-"+name+".png")
			fi, err := os.Stat(file)
			if err != nil {
				t.Errorf("missing screenshot: %v", err)
				continue
			}
			if fi.ModTime().Before(st.started.Truncate(time.Second)) {
				t.Errorf("%s is from an earlier run (%v)", file, fi.ModTime())
				continue
			}
			f, err := os.Open(file)
			if err != nil {
				t.Error(err)
				continue
			}
			cfg, err := png.DecodeConfig(f)
			f.Close()
			wantW := int(float64(d.width) * d.scale)
			wantH := int(float64(d.height) * d.scale)
			switch {
			case err != nil:
				t.Errorf("%s: not a PNG: %v", file, err)
			case cfg.Width != wantW || cfg.Height < wantH:
				t.Errorf("%s is %dx%d, want %d wide and at least %d high", file, cfg.Width, cfg.Height, wantW, wantH)
			}
		}
	}
}

// assertProxied checks in nginx's access log that each device's key
// requests went through its TLS server.
func (st *stack) assertProxied(t *testing.T) {
	lines := st.accessLog(t)
	want := []string{
		`302|303 "GET /bangui/ `,
		`200 "GET /bangui/setup `,
		`200 "POST /bangui/setup/probe `,
		`303 "POST /bangui/setup `,
		`401 "POST /bangui/login `,
		`303 "POST /bangui/login `,
		`200 "GET /bangui/__e2e/swap?page=2 `,
		`303 "POST /bangui/logout `,
		`303 "POST /bangui/jails/ban `,
		`303 "POST /bangui/jails/unban `,
		// The passkey ceremonies (at the public URL, the same nginx port).
		`200 "POST /bangui/account/passkeys/begin `,
		`303 "POST /bangui/account/passkeys/finish `,
		`200 "POST /bangui/login/passkey/begin `,
		`303 "POST /bangui/login/passkey/finish `,
		`200 "POST /bangui/login/second-factor/passkey/begin `,
		`303 "POST /bangui/login/second-factor/passkey/finish `,
	}
	for _, e := range navEntries {
		want = append(want, `200 "GET /bangui`+e.path+` `)
	}
	for _, d := range devices {
		port := fmt.Sprint(st.apps[d.name].proxyPort)
		for _, w := range want {
			if st.skipInDemo(w) {
				continue
			}
			statuses, req, _ := strings.Cut(w, " ")
			found := slices.ContainsFunc(lines, func(l string) bool {
				p, rest, _ := strings.Cut(l, " ")
				status, r, _ := strings.Cut(rest, " ")
				return p == port && slices.Contains(strings.Split(statuses, "|"), status) && strings.HasPrefix(r, req)
			})
			if !found {
				t.Errorf("%s: nginx access log has no %s %s on port %s", d.name, statuses, req, port)
			}
		}
	}
}
