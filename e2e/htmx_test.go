package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// assertSwap presses clickSel and asserts an htmx swap: waitSel becomes
// visible, a marker set on window survives (no full page load), the page
// passes checkPage, and the URL ends with wantURLSuffix (hx-push-url) or is
// unchanged when wantURLSuffix is "". With a pushed URL it then goes Back and
// asserts that the previous state is restored: the previous URL, clickSel
// visible again and waitSel gone. The app's htmx config has no history cache
// (historyCacheSize 0, refreshOnHistoryMiss), so Back reloads the previous
// URL and the marker is expected to be gone then.
func (b *browser) assertSwap(t *testing.T, clickSel, waitSel, wantURLSuffix string) {
	t.Helper()
	before := b.path(t)
	mark := fmt.Sprintf("%s-%s", b.dev.name, t.Name())
	eval[chromedp.Void](t, b, fmt.Sprintf("window.__e2eMarker = %q", mark))

	b.do(t, b.press(clickSel), chromedp.WaitVisible(chromedp.CSS(waitSel)))
	if got := eval[string](t, b, "String(window.__e2eMarker)"); got != mark {
		t.Fatalf("%s: pressing %s reloaded the whole page (marker %q, want %q)", b.dev.name, clickSel, got, mark)
	}
	after := b.path(t)
	switch {
	case wantURLSuffix == "" && after != before:
		t.Errorf("%s: URL changed from %s to %s without hx-push-url", b.dev.name, before, after)
	case wantURLSuffix != "" && !strings.HasSuffix(after, wantURLSuffix):
		t.Errorf("%s: URL after the swap = %s, want suffix %s", b.dev.name, after, wantURLSuffix)
	}
	for _, p := range b.checkPage(t) {
		t.Errorf("%s: after swapping in %s: %s", b.dev.name, waitSel, p)
	}
	if wantURLSuffix == "" {
		return
	}

	b.do(t, chromedp.NavigateBack(),
		chromedp.WaitVisible(chromedp.CSS(clickSel)),
		chromedp.WaitNotPresent(chromedp.CSS(waitSel)))
	if got := b.path(t); got != before {
		t.Errorf("%s: URL after Back = %s, want %s", b.dev.name, got, before)
	}
	for _, p := range b.checkPage(t) {
		t.Errorf("%s: after Back to %s: %s", b.dev.name, before, p)
	}
}

// waitJS polls a JavaScript expression until it is true, for the cases
// chromedp's DOM waits cannot see (such as pages restored from the
// back/forward cache, whose execution context chromedp does not track).
func (b *browser) waitJS(t *testing.T, expr string) {
	t.Helper()
	if err := b.waitJSWithin(expr, stepTimeout); err != nil {
		t.Fatalf("%s: waiting for %s: %v", b.dev.name, expr, err)
	}
}

// waitJSWithin waits up to d for the JavaScript expression expr to hold,
// and says why it did not.
func (b *browser) waitJSWithin(expr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := b.step()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("still false after %s", d)
			}
			return err
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
}

// pressUntil presses sel and waits for expr, the press's effect; when
// nothing at all happened within five seconds (no effect, no request under
// way), the press did not reach the page (a live refresh or a layout shift
// took the element from under the tap) and it presses once more.
func (b *browser) pressUntil(t *testing.T, sel, expr string) {
	t.Helper()
	b.do(t, b.press(sel))
	if b.waitJSWithin(expr+` || !!document.querySelector(".htmx-request")`, 5*time.Second) == nil {
		b.waitJS(t, expr)
		return
	}
	t.Logf("%s: pressing %s did nothing; pressing it again", b.dev.name, sel)
	b.do(t, b.press(sel))
	b.waitJS(t, expr)
}
