package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"bangui/fail2ban"
)

// pagingJail holds pagingBans bans from the start, for the pagination flow.
const (
	pagingJail = "paging"
	pagingBans = 130
)

// banMany bans n documentation-range addresses in jail with one command.
func banMany(t *testing.T, c *fail2ban.Client, jail string, n int) {
	t.Helper()
	args := []string{"set", jail, "banip"}
	for i := range n {
		args = append(args, fmt.Sprintf("198.18.%d.%d", i/250, i%250+1))
	}
	// fail2ban runs the dummy action once per address: on a loaded machine
	// this takes longer than a normal call may.
	slow := fail2ban.NewClient(c.SocketPath(), fail2ban.WithTimeout(2*time.Minute))
	if _, err := slow.Call(context.Background(), args...); err != nil {
		t.Fatalf("ban %d addresses in %s: %v", n, jail, err)
	}
}

// dialogLog accepts every JavaScript dialog (hx-confirm) and remembers its text.
type dialogLog struct {
	mu   sync.Mutex
	msgs []string
}

func acceptDialogs(ctx context.Context) *dialogLog {
	l := &dialogLog{}
	events := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, ev.Message)
			l.mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return l
}

// last returns the text of the latest dialog, or "".
func (l *dialogLog) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.msgs) == 0 {
		return ""
	}
	return l.msgs[len(l.msgs)-1]
}

// deviceIP is an address only this device bans, so devices running in
// parallel against one fail2ban do not see each other's bans.
func deviceIP(d device) string {
	if d.phone {
		return "203.0.113.22"
	}
	return "203.0.113.11"
}

// flowBanUnban bans an address through the ban form, finds it in the active
// bans and on the jail page, and unbans it from its row there.
func flowBanUnban(t *testing.T, b *browser) {
	ip := deviceIP(b.dev)
	row := fmt.Sprintf(`tr[data-ip=%q]`, ip)
	b.visit(t, "/jails")
	b.typeInto(t, "#ban-target", ip)
	b.do(t, chromedp.SetValue(chromedp.CSS("#ban-jail"), "sshd"))
	// The form is boosted: htmx posts it, follows the redirect and swaps the page.
	b.do(t, b.press(button("Ban")), chromedp.WaitVisible(chromedp.CSS("#active-bans "+row)))
	b.wantPath(t, basePath+"/jails")
	if msg := b.text(t, "#flash"); !strings.Contains(msg, "Banned "+ip+" in sshd") {
		t.Errorf("%s: flash after ban = %q", b.dev.name, msg)
	}
	b.check(t, "jails-banned")

	b.visit(t, "/jails/sshd")
	b.do(t, chromedp.WaitVisible(chromedp.CSS("#jail-bans "+row)))
	b.check(t, "jail-detail")
	b.openRowMenu(t, "#jail-bans "+row)
	b.do(t, b.press("#jail-bans "+row+` button[type="submit"]`), chromedp.WaitNotPresent(chromedp.CSS("#jail-bans "+row)))
	if d := b.dialogs.last(); d != "Unban "+ip+" from sshd?" {
		t.Errorf("%s: confirmation = %q", b.dev.name, d)
	}
	b.wantPath(t, basePath+"/jails/sshd")
	if msg := b.text(t, "#flash"); !strings.Contains(msg, "Unbanned "+ip+" from sshd") {
		t.Errorf("%s: flash after unban = %q", b.dev.name, msg)
	}
	b.visit(t, "/jails?q="+ip)
	if n := eval[int](t, b, `document.querySelectorAll("#active-bans tr[data-ip]").length`); n != 0 {
		t.Errorf("%s: %s still in the active bans after unban", b.dev.name, ip)
	}
}

// flowJailPaging pages through a jail with many bans: the table swaps in
// place, the URL follows and Back restores the first page.
func flowJailPaging(t *testing.T, b *browser) {
	b.visit(t, "/jails/"+pagingJail)
	if info := b.text(t, "#jail-bans .pager__info"); !strings.Contains(info, fmt.Sprintf("of %d", pagingBans)) {
		t.Errorf("%s: pager says %q", b.dev.name, info)
	}
	b.assertSwap(t, `#jail-bans[data-page="1"] a[data-pager="next"]`, `#jail-bans[data-page="2"]`,
		basePath+"/jails/"+pagingJail+"?page=2")
	b.do(t, b.press(`#jail-bans[data-page="1"] a[data-pager="size-50"]`), chromedp.WaitVisible(chromedp.CSS(`#jail-bans a[data-pager="size-25"]`)))
	if n := eval[int](t, b, `document.querySelectorAll("#jail-bans tbody tr[data-ip]").length`); n != 50 {
		t.Errorf("%s: %d rows at 50 per page", b.dev.name, n)
	}
	b.wantPath(t, basePath+"/jails/"+pagingJail+"?size=50")
	b.check(t, "jail-page-2")
}
