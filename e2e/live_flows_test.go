package e2e

import (
	"fmt"
	"testing"
	"time"
)

// liveIPs are the addresses each device bans for the live flows: one while
// the dashboard is open, one while nginx is down.
func liveIPs(d device) (open, meanwhile string) {
	if d.phone {
		return "198.18.7.21", "198.18.7.22"
	}
	return "198.18.7.11", "198.18.7.12"
}

// waitLive waits until the page's event stream is open.
func (b *browser) waitLive(t *testing.T) {
	t.Helper()
	b.waitJS(t, `document.querySelector("[data-testid=live-state]")?.textContent.trim() === "Live"`)
}

// waitRow waits until the dashboard's first page shows ip exactly once.
func (b *browser) waitRow(t *testing.T, ip string) {
	t.Helper()
	if last := pollPage(t, b, fmt.Sprintf(`async () => {
		const n = document.querySelectorAll('#dash-bans tbody tr[data-ip="%s"]').length;
		return n === 1 ? "" : n + " rows of %s";
	}`, ip, ip)); last != "" {
		t.Fatalf("%s: dashboard without reload: %s after 20 s", b.dev.name, last)
	}
}

// flowLive: a ban made on fail2ban (not through the panel) appears on the
// open dashboard without a reload, through nginx.
func flowLive(t *testing.T, b *browser) {
	if b.app.sandbox == nil {
		t.Skip("the demo has no sandbox to ban on")
	}
	b.visit(t, "/")
	b.waitLive(t)
	eval[bool](t, b, `(window.__sameDocument = true)`)
	ip, _ := liveIPs(b.dev)
	start := time.Now()
	if !banIn(t, b.app.sandbox, ip) {
		t.Fatalf("%s: fail2ban did not ban %s", b.dev.name, ip)
	}
	b.waitRow(t, ip)
	t.Logf("%s: ban on fail2ban to its row on the open dashboard: %s", b.dev.name, time.Since(start).Round(10*time.Millisecond))
	if !eval[bool](t, b, `window.__sameDocument === true`) {
		t.Fatalf("%s: the dashboard reloaded to show the ban", b.dev.name)
	}
	if !eval[bool](t, b, `document.querySelector('#dash-bans tbody tr[data-ip="`+ip+`"]') === document.querySelector('#dash-bans tbody tr[data-ip]')`) {
		t.Errorf("%s: the new ban is not the first row", b.dev.name)
	}
	b.check(t, "dashboard-live")
}

// liveDashboard starts a browser for d, logs in and leaves the dashboard
// open on its live stream, for the flows after the tours; it closes when t
// ends.
func (st *stack) liveDashboard(t *testing.T, d device) *browser {
	t.Helper()
	b := st.newBrowser(t, d)
	if st.sandbox == nil {
		return b // the flows skip
	}
	b.visit(t, "/login")
	flowLogin(t, b, devicePassword(d))
	b.waitLive(t)
	eval[bool](t, b, `(window.__sameDocument = true)`)
	return b
}

// flowReconnect: with a dashboard open, nginx stops (the stream is cut), a
// ban happens meanwhile, nginx starts again: the tab reconnects by itself
// with Last-Event-ID and shows the ban once, without a reload. It runs
// after the device tours, which share the one nginx.
func (st *stack) flowReconnect(t *testing.T, b *browser) {
	if st.sandbox == nil {
		t.Skip("the demo has no sandbox to ban on")
	}
	d := b.dev
	_, ip := liveIPs(d)
	st.restartNginx(t, func() {
		b.waitJS(t, `document.querySelector("[data-testid=live-state]")?.textContent.trim() !== "Live"`)
		if !banIn(t, st.sandbox, ip) {
			t.Fatalf("fail2ban did not ban %s", ip)
		}
	})
	// The cut stream: Chromium logs the closed connection (the tabs' streams
	// share one HTTP/2 connection), and htmx logs the SSE extension's error
	// event.
	b.expectConsole("ERR_CONNECTION_CLOSED")
	b.expectConsole("[object Event]")
	// The status bar's poll, when it falls while nginx is down: refused,
	// and htmx logs the failed request.
	b.allowConsole("ERR_CONNECTION_REFUSED")
	b.allowConsole("htmx:sendError")
	b.allowConsole("htmx:afterRequest")
	b.waitRow(t, ip)
	b.waitLive(t)
	if !eval[bool](t, b, `window.__sameDocument === true`) {
		t.Fatalf("%s: the dashboard reloaded after the reconnect", d.name)
	}
	b.check(t, "dashboard-reconnected")
}
