package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// allowIP is the address each device allow-lists, its own so that the
// devices sharing one fail2ban do not meet.
func allowIP(d device) string {
	if d.phone {
		return "203.0.113.62"
	}
	return "203.0.113.61"
}

// flowNeverBan bans an address, then from its per-IP page confirms "Never
// ban this address" with a note (markup, shown as text) and an end: the
// address is unbanned at once, the allow-list shows the entry with its time
// left, and removing it there (after a confirmation) takes it off.
func flowNeverBan(t *testing.T, b *browser) {
	ip := allowIP(b.dev)
	b.visit(t, "/jails")
	b.typeInto(t, "#ban-target", ip)
	b.do(t, chromedp.SetValue(chromedp.CSS("#ban-jail"), "sshd"))
	b.do(t, b.press(button("Ban")), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf("#active-bans tr[data-ip=%q]", ip))))

	b.visit(t, "/history/"+ip)
	if state := b.text(t, "[data-testid=ip-state]"); !strings.Contains(state, "Banned in sshd") {
		t.Fatalf("%s: state before = %q", b.dev.name, state)
	}
	if status := b.follow(t, "a[data-testid=never-ban]"); status != 200 {
		t.Fatalf("%s: the confirmation answered %d", b.dev.name, status)
	}
	if h1 := b.text(t, "h1#page-title"); h1 != "Never ban "+ip+"?" {
		t.Fatalf("%s: confirmation title = %q", b.dev.name, h1)
	}
	b.typeInto(t, "#allow-note", "<i>monitoring</i>")
	b.do(t, chromedp.SetValue(chromedp.CSS("#allow-expiry"), "24h"))
	b.check(t, "allowlist-confirm")
	if label := b.text(t, "[data-testid=allow-submit]"); label != "Never ban "+ip {
		t.Errorf("%s: the button says %q", b.dev.name, label)
	}
	if status := b.follow(t, "[data-testid=allow-submit]"); status != 200 {
		t.Fatalf("%s: the allow answered %d", b.dev.name, status)
	}
	b.wantPath(t, basePath+"/history/"+ip)
	if msg := b.text(t, "#flash"); !strings.Contains(msg, ip+" is allow-listed in every jail") || !strings.Contains(msg, "unbanned, in sshd") {
		t.Errorf("%s: flash after allow = %q", b.dev.name, msg)
	}
	if state := b.text(t, "[data-testid=ip-state]"); !strings.Contains(state, "Not banned anywhere") {
		t.Errorf("%s: state after = %q", b.dev.name, state)
	}

	row := fmt.Sprintf(`tr[data-testid=allow-row][data-address=%q]`, ip)
	b.visit(t, "/allowlist")
	if note := b.text(t, row+" [data-testid=allow-note]"); note != "<i>monitoring</i>" {
		t.Errorf("%s: note shown = %q, want the markup as text", b.dev.name, note)
	}
	if left := b.text(t, row+" [data-testid=allow-left]"); !strings.Contains(left, "left") {
		t.Errorf("%s: time left = %q", b.dev.name, left)
	}
	b.check(t, "allowlist")
	b.do(t, b.press(row+` button[type="submit"]`), chromedp.WaitNotPresent(chromedp.CSS(row)))
	if d := b.dialogs.last(); !strings.HasPrefix(d, "Take "+ip+" off the allow-list") {
		t.Errorf("%s: confirmation = %q", b.dev.name, d)
	}
	if msg := b.text(t, "#flash"); !strings.Contains(msg, ip+" is off the allow-list") {
		t.Errorf("%s: flash after removal = %q", b.dev.name, msg)
	}
}
