package e2e

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestLiveLatency measures, in real Chromium through nginx, the time from
// fail2ban's ban (the return of the ban command on its socket) to the
// ban's row on an open dashboard, over E2E_LIVE_LATENCY bans made one
// after the other, and reports the median and the worst. It is a
// measurement, not part of make test: scripts/live-latency.sh runs it.
// The targets of issue 16 (median under 2 s, worst of 20 under 5 s) fail
// the test when missed.
func TestLiveLatency(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("E2E_LIVE_LATENCY"))
	if n <= 0 {
		t.Skip("a measurement: set E2E_LIVE_LATENCY to the number of bans (scripts/live-latency.sh)")
	}
	st := startStack(t, []device{desktop})
	if st.sandbox == nil {
		t.Skip("the demo has no sandbox to ban on")
	}
	b := st.newBrowser(t, desktop)
	password := devicePassword(desktop)
	flowSetup(t, b, st.sandbox, st.apps[desktop.name], password)
	flowLogin(t, b, password)
	b.waitLive(t)
	// The page notes when each row first appears, whatever replaces the
	// table meanwhile.
	eval[bool](t, b, `(() => {
		window.__rowSeen = {};
		const note = () => {
			for (const tr of document.querySelectorAll("#dash-bans tbody tr[data-ip]")) {
				if (!(tr.dataset.ip in window.__rowSeen)) window.__rowSeen[tr.dataset.ip] = Date.now();
			}
		};
		note();
		new MutationObserver(note).observe(document.body, { childList: true, subtree: true });
		return true;
	})()`)
	var took []time.Duration
	for i := range n {
		ip := fmt.Sprintf("198.18.9.%d", i+1)
		if !banIn(t, st.sandbox, ip) {
			t.Fatalf("fail2ban did not ban %s", ip)
		}
		banned := time.Now()
		if last := pollPage(t, b, fmt.Sprintf(`async () => %q in window.__rowSeen ? "" : "not yet"`, ip)); last != "" {
			t.Fatalf("ban %d (%s): no row on the dashboard within 20 s", i+1, ip)
		}
		seen := time.UnixMilli(int64(eval[float64](t, b, fmt.Sprintf(`window.__rowSeen[%q]`, ip))))
		took = append(took, seen.Sub(banned))
		t.Logf("ban %2d %s: row after %s", i+1, ip, seen.Sub(banned).Round(time.Millisecond))
	}
	if !eval[bool](t, b, `performance.getEntriesByType("navigation").length === 1`) {
		t.Error("the dashboard reloaded during the measurement")
	}
	sorted := slices.Clone(took)
	slices.Sort(sorted)
	median := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		median = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	worst := sorted[len(sorted)-1]
	t.Logf("ban on fail2ban → row on the open dashboard (Chromium, through nginx), %d bans: median %s, worst %s, best %s",
		n, median.Round(time.Millisecond), worst.Round(time.Millisecond), sorted[0].Round(time.Millisecond))
	if median >= 2*time.Second || worst >= 5*time.Second {
		t.Errorf("median %s (target < 2 s), worst %s (target < 5 s)", median.Round(time.Millisecond), worst.Round(time.Millisecond))
	}
}
