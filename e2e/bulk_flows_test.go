package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// bulkIPs are the addresses each device bans and unbans in bulk: its own,
// as the devices share one fail2ban.
func bulkIPs(d device) []string {
	n := 81 // apart from every other flow's: the devices share one fail2ban
	if d.phone {
		n = 91
	}
	return []string{fmt.Sprintf("203.0.113.%d", n), fmt.Sprintf("203.0.113.%d", n+1), fmt.Sprintf("203.0.113.%d", n+2)}
}

// flowBulkUnban bans three addresses, ticks their rows on the dashboard,
// asks to unban them, reads the confirmation (how many, which host),
// confirms and follows the job's progress to its end: none is banned any
// more.
func flowBulkUnban(t *testing.T, b *browser) {
	ips := bulkIPs(b.dev)
	b.visit(t, "/jails")
	b.typeInto(t, "#ban-target", strings.Join(ips, " "))
	b.do(t, chromedp.SetValue(chromedp.CSS("#ban-jail"), "sshd"))
	b.do(t, b.press(button("Ban")), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#active-bans tr[data-ip=%q]`, ips[2]))))

	// The dashboard shows the new bans once the panel read them; its bulk
	// form takes the ticked rows.
	b.visit(t, "/")
	for _, ip := range ips {
		box := fmt.Sprintf(`#dash-bans tr[data-ip=%q] input[name="row"]`, ip)
		b.waitJS(t, fmt.Sprintf(`!!document.querySelector(%q)`, box))
		b.do(t, b.press(box))
	}
	b.check(t, "bulk-selected")
	if status := b.follow(t, `[data-testid="bulk-unban"]`); status != 200 {
		t.Fatalf("%s: bulk unban asked: %d", b.dev.name, status)
	}
	b.wantPath(t, basePath+"/bulk/confirm")
	if got := b.text(t, "[data-testid=bulk-count]"); got != "3" {
		t.Errorf("%s: the confirmation counts %q addresses, want 3", b.dev.name, got)
	}
	if summary := b.text(t, "[data-testid=bulk-summary]"); !strings.Contains(summary, "sshd") || !strings.Contains(summary, "on ") {
		t.Errorf("%s: the confirmation says %q", b.dev.name, summary)
	}
	b.check(t, "bulk-confirm")
	if status := b.follow(t, `[data-testid="bulk-run"]`); status != 200 {
		t.Fatalf("%s: bulk unban confirmed: %d", b.dev.name, status)
	}
	b.waitJS(t, `location.pathname.includes("/bulk/jobs/") && !!document.querySelector('#bulk-status[data-state="done"]')`)
	if done := b.text(t, "[data-testid=bulk-finished]"); !strings.Contains(done, "3 done, 0 not done") {
		t.Errorf("%s: the job ended with %q", b.dev.name, done)
	}
	b.check(t, "bulk-done")
	for _, ip := range ips {
		b.visit(t, "/jails?q="+ip)
		if n := eval[int](t, b, `document.querySelectorAll("#active-bans tr[data-ip]").length`); n != 0 {
			t.Errorf("%s: %s is still banned after the bulk unban", b.dev.name, ip)
		}
	}
}
