package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// livePagesIP is the address each device's live-pages flow gets banned by
// failed logins, and its country (the map flow and the fleet use others).
// seedGeo archives a ban of it three days old, so that its per-IP page is
// there before the flow.
func livePagesIP(d device) (ip, country string) {
	if d.phone {
		return "41.0.0.5", "ZA"
	}
	return "62.210.0.5", "FR"
}

// watchFor starts noting, in the page, the first time the JavaScript
// expression cond holds (checked every 100 ms); seenAt waits for it.
func (b *browser) watchFor(t *testing.T, name, cond string) {
	t.Helper()
	eval[bool](t, b, fmt.Sprintf(`(() => {
		window.__seen = window.__seen || {};
		const check = () => {
			try { if (%s) { window.__seen[%q] = Date.now(); return; } } catch (e) {}
			setTimeout(check, 100);
		};
		check();
		return true;
	})()`, cond, name))
}

// seenAt waits (up to 20 s) until the watch name held and returns when.
func (b *browser) seenAt(t *testing.T, name, what string) time.Time {
	t.Helper()
	if last := pollPage(t, b, fmt.Sprintf(`async () => window.__seen && window.__seen[%q] ? "" : "not yet"`, name)); last != "" {
		t.Fatalf("%s: %s: not within 20 s", b.dev.name, what)
	}
	return time.UnixMilli(int64(eval[float64](t, b, fmt.Sprintf(`window.__seen[%q]`, name))))
}

// flowLivePages: with a dashboard, the 24 hours map and the address's
// per-IP page open in three tabs, failed logins written to the real
// sandbox's log get the address banned by fail2ban: its row appears on the
// dashboard, with the dashboard's country counters, the map colours its
// country and the per-IP page says it is banned, each without a reload
// and the map and the per-IP page within 5 s of the row. Then the address
// is unbanned from the panel in a fourth tab: the open per-IP page shows
// it unbanned, with its matched log lines kept. The bans reach every
// device's panel (one fail2ban), so the flow waits until every tour is
// past the flows that check the newest bans and the countries.
func flowLivePages(t *testing.T, dash *browser) {
	if dash.app.sandbox == nil {
		t.Skip("the demo has no sandbox to ban on")
	}
	d := dash.dev
	ip, country := livePagesIP(d)
	waited := time.Now()
	dash.app.pastShared.Wait()
	t.Logf("%s: waited %s for the other tours", d.name, time.Since(waited).Round(10*time.Millisecond))
	dash.visit(t, "/")
	world := dash.newTab(t)
	world.visit(t, "/map")
	addr := dash.newTab(t)
	addr.visit(t, "/history/"+ip)
	tabs := []*browser{dash, world, addr}
	for _, b := range tabs {
		b.waitLive(t)
		eval[bool](t, b, `(window.__sameDocument = true)`)
	}
	mapCountry := fmt.Sprintf(`document.querySelector('svg.worldmap a[data-country=%q]')`, country)
	if n := eval[string](t, world, mapCountry+`.getAttribute("data-bans")`); n != "0" {
		t.Fatalf("%s: %s has %s bans on the map before the flow", d.name, country, n)
	}
	bannedHere := `[...document.querySelectorAll("[data-testid=ip-state]")].some(e => e.textContent.includes("Banned in sshd"))`
	if eval[bool](t, addr, bannedHere) {
		t.Fatalf("%s: %s is banned before the flow", d.name, ip)
	}

	countryName := map[string]string{"FR": "France", "ZA": "South Africa"}[country]
	dash.watchFor(t, "row", fmt.Sprintf(`document.querySelectorAll('#dash-bans tbody tr[data-ip=%q]').length === 1`, ip))
	dash.watchFor(t, "counters", fmt.Sprintf(`document.getElementById("top-countries").textContent.includes(%q)`, countryName))
	world.watchFor(t, "map", fmt.Sprintf(`((a) => a.getAttribute("data-bans") === "1" && !!a.querySelector("path").getAttribute("fill") &&
		!a.querySelector("path").classList.contains("worldmap__shape--empty") && a.getAttribute("aria-label").endsWith(": 1 ban"))(%s)`, mapCountry))
	addr.watchFor(t, "banned", `document.querySelector("[data-testid=ip-bans]").textContent.trim() === "2" && `+bannedHere)

	start := time.Now()
	if err := dash.app.sandbox.FailedLogins("sshd", ip, 6); err != nil {
		t.Fatal(err)
	}
	row := dash.seenAt(t, "row", "the new ban's row on the dashboard")
	counters := dash.seenAt(t, "counters", "the dashboard's country counters")
	colour := world.seenAt(t, "map", "the country on the 24 hours map")
	banned := addr.seenAt(t, "banned", "the per-IP page's state")
	t.Logf("%s: failed logins written; on the open pages after: row %s, dashboard counters %s, map %s, per-IP page %s", d.name,
		row.Sub(start).Round(10*time.Millisecond), counters.Sub(start).Round(10*time.Millisecond),
		colour.Sub(start).Round(10*time.Millisecond), banned.Sub(start).Round(10*time.Millisecond))
	for what, at := range map[string]time.Time{"the map": colour, "the per-IP page": banned, "the dashboard's counters": counters} {
		if lag := at.Sub(row); lag > 5*time.Second {
			t.Errorf("%s: %s showed the ban %s after the dashboard's row, want within 5 s", d.name, what, lag.Round(10*time.Millisecond))
		}
	}
	dash.checkOnly(t)
	world.check(t, "live-pages-map")
	addr.checkOnly(t)

	// Unbanned from the panel in another tab: the open per-IP page follows
	// and keeps the matched log lines of the ban.
	addr.watchFor(t, "unbanned", `!(`+bannedHere+`) && document.querySelector("[data-testid=ip-timeline]").textContent.includes("unbanned from sshd") &&
		[...document.querySelectorAll("[data-testid=ip-timeline] summary")].some(s => s.textContent.includes("Matched log lines"))`)
	other := dash.newTab(t)
	other.visit(t, "/history/"+ip)
	// Not while a live refresh swaps #ip-live (another device's unbans
	// refresh every per-IP page): the button pressed would be the old one.
	other.waitJS(t, `!document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")`)
	other.pressUntil(t, `#ip-live form[action*="/jails/unban"] button[type="submit"]`, `!!document.querySelector(".flash--success") && !(`+bannedHere+`)`)
	addr.seenAt(t, "unbanned", "the per-IP page's state after the panel's unban")
	for _, b := range tabs {
		if !eval[bool](t, b, `window.__sameDocument === true`) {
			t.Errorf("%s: %s reloaded", d.name, b.path(t))
		}
	}
	addr.check(t, "live-pages-ip-unbanned")
	other.checkOnly(t)
}

// checkOnly is check without the screenshot.
func (b *browser) checkOnly(t *testing.T) {
	t.Helper()
	for _, p := range b.checkPage(t) {
		t.Errorf("%s (%s): %s", b.dev.name, b.path(t), p)
	}
}

// restartIPs are what each device bans around the restarts: while its
// panel is down, after it is back, and after fail2ban restarted.
func restartIPs(d device) (panelDown, panelBack, fail2banBack string) {
	if d.phone {
		return "198.18.7.23", "198.18.7.24", "198.18.7.25"
	}
	return "198.18.7.13", "198.18.7.14", "198.18.7.15"
}

// flowRestarts: with a dashboard open on every device, each panel
// restarts (the page says the panel stopped, bans made meanwhile and after
// appear once it is back), then fail2ban restarts (the status bar says it
// is offline, then online, and a new ban appears), all without a reload.
// It runs after the device tours, on the dashboards in tabs (see
// liveDashboard): it restarts what they share.
func (st *stack) flowRestarts(t *testing.T, tabs map[string]*browser) {
	if st.sandbox == nil {
		t.Skip("the demo has no sandbox to restart")
	}
	t.Run("panel", func(t *testing.T) {
		for _, d := range devices {
			t.Run(d.name, func(t *testing.T) {
				t.Parallel()
				st.flowPanelRestart(t, tabs[d.name])
			})
		}
	})
	t.Run("fail2ban", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Whether the status bar says the local fail2ban is offline: alone,
		// or named among the fleet's hosts.
		offline := `(document.getElementById("status-bar").textContent.includes("fail2ban is offline") ||
			[...document.querySelectorAll("#status-bar [data-testid=status-offline] li")].some(li => /^local did not answer/i.test(li.textContent.trim())))`
		for _, d := range devices {
			tabs[d.name].waitJS(t, "!"+offline) // a panel just restarted knows once it looked
		}
		if err := st.sandbox.Stop(ctx); err != nil {
			t.Fatalf("stop fail2ban: %v", err)
		}
		start := time.Now()
		for _, d := range devices {
			b := tabs[d.name]
			if last := run(t, b, chromedp.Evaluate[string](`(async () => {
				for (const end = Date.now() + 15000; Date.now() < end; await new Promise(r => setTimeout(r, 100))) {
					if (`+offline+`) return "";
				}
				return document.getElementById("status-bar").textContent.replace(/\s+/g, " ");
			})()`, chromedp.EvalAwaitPromise)); last != "" {
				b.screenshot(t, "dashboard-fail2ban-not-offline")
				t.Fatalf("%s: 15 s after fail2ban stopped the status bar says %q", d.name, last)
			}
		}
		t.Logf("fail2ban stopped: the open dashboards said so after %s", time.Since(start).Round(10*time.Millisecond))
		tabs[desktop.name].screenshot(t, "dashboard-fail2ban-offline")
		if err := st.sandbox.Restart(ctx); err != nil {
			t.Fatalf("start fail2ban again: %v", err)
		}
		start = time.Now()
		for _, d := range devices {
			tabs[d.name].waitJS(t, "!"+offline)
		}
		t.Logf("fail2ban back: the open dashboards said so after %s", time.Since(start).Round(10*time.Millisecond))
		for _, d := range devices {
			b := tabs[d.name]
			_, _, ip := restartIPs(d)
			if !banIn(t, st.sandbox, ip) {
				t.Fatalf("fail2ban did not ban %s", ip)
			}
			b.waitRow(t, ip)
			if !eval[bool](t, b, `window.__sameDocument === true`) {
				t.Fatalf("%s: the dashboard reloaded", d.name)
			}
			b.checkOnly(t)
		}
	})
}

// flowPanelRestart restarts b's panel under its open dashboard.
func (st *stack) flowPanelRestart(t *testing.T, b *browser) {
	down, back, _ := restartIPs(b.dev)
	st.restartPanel(t, b.dev, func() {
		b.waitJS(t, `document.querySelector("[data-testid=live-state]").textContent.includes("panel stopped")`)
		b.screenshot(t, "dashboard-panel-stopped")
		if !banIn(t, st.sandbox, down) {
			t.Fatalf("fail2ban did not ban %s", down)
		}
	})
	start := time.Now()
	b.waitLive(t)
	b.waitRow(t, down)
	t.Logf("%s: panel back; its dashboard live again, with the ban made meanwhile, after %s", b.dev.name, time.Since(start).Round(10*time.Millisecond))
	if !banIn(t, st.sandbox, back) {
		t.Fatalf("fail2ban did not ban %s", back)
	}
	b.waitRow(t, back)
	if !eval[bool](t, b, `window.__sameDocument === true`) {
		t.Fatalf("%s: the dashboard reloaded", b.dev.name)
	}
	// The stream's end: htmx logs the SSE extension's error event. The
	// proxy's 502 while the panel is down reaches the console when a
	// reconnect or the status bar's polling falls into that time.
	b.expectConsole("[object Event]")
	b.allowConsole("status of 502") // "(Bad Gateway)" over HTTP/1.1, "()" over HTTP/2
	b.allowConsole("ERR_CONNECTION_CLOSED")
	b.allowConsole("ERR_HTTP2_PROTOCOL_ERROR")
	b.checkOnly(t)
}

// restartPanel stops d's panel as a service manager does (SIGTERM), runs
// between, starts it again with the same command line (its log goes to
// a second file) and waits until it answers.
func (st *stack) restartPanel(t *testing.T, d device, between func()) {
	t.Helper()
	a := st.apps[d.name]
	a.proc.stop(t, syscall.SIGTERM)
	between()
	a.log = filepath.Join(st.artifacts, "bangui-"+d.name+"-restarted.log")
	a.proc = startProc(t, "bangui-"+d.name, a.log, a.cmd[0], a.cmd[1:]...)
	waitHTTP(t, "bangui-"+d.name, a.proc, st.client, a.base+"/healthz")
}
