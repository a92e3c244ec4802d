package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// timedBanIP is an address only this device bans for a chosen time.
func timedBanIP(d device) string {
	if d.phone {
		return "203.0.113.44"
	}
	return "203.0.113.33"
}

// flowTimedBan bans an address for 7 days from a jail's page: the row
// says the time was chosen and by whom, the IP page says so too; then it
// unbans the address from its row.
func flowTimedBan(t *testing.T, b *browser) {
	ip := timedBanIP(b.dev)
	row := fmt.Sprintf(`#jail-bans tr[data-ip=%q]`, ip)
	b.visit(t, "/jails/sshd")
	b.typeInto(t, "#jail-ban-target", ip)
	b.do(t, chromedp.SetValue(chromedp.CSS("#jail-ban-duration"), "7d"))
	b.do(t, b.press(`section[aria-labelledby="jail-ban-title"] button[type="submit"]`), chromedp.WaitVisible(chromedp.CSS(row)))
	b.wantPath(t, basePath+"/jails/sshd")
	if msg := b.text(t, "#flash"); !strings.Contains(msg, "Banned "+ip+" in sshd for 7 d") {
		t.Errorf("%s: flash after a 7-day ban = %q", b.dev.name, msg)
	}
	if how := b.text(t, row+` [data-testid="ban-how"]`); !strings.HasPrefix(how, "time chosen by ") {
		t.Errorf("%s: the row says %q about its end", b.dev.name, how)
	}
	b.check(t, "jail-timed-ban")
	b.visit(t, "/history/"+ip)
	if state := b.text(t, `[data-testid="ip-state"]`); !strings.Contains(state, "time chosen by") {
		t.Errorf("%s: the IP page says %q", b.dev.name, state)
	}
	b.check(t, "ip-timed-ban")
	b.visit(t, "/jails/sshd")
	b.do(t, b.press(row+` button[type="submit"]`), chromedp.WaitNotPresent(chromedp.CSS(row)))
}
