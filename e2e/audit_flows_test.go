package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// flowAudit finds the device's ban and unban in the audit log, filters it
// by action, and follows the address page's link to the entries about the
// address.
func flowAudit(t *testing.T, b *browser) {
	ip := deviceIP(b.dev)
	b.visit(t, "/audit")
	rows := `#audit-entries tbody tr[data-action=%q]`
	for _, action := range []string{"ban", "unban"} {
		sel := fmt.Sprintf(rows, action)
		if n := eval[int](t, b, fmt.Sprintf(`[...document.querySelectorAll(%q)].filter(r => r.textContent.includes(%q)).length`, sel, ip)); n != 1 {
			t.Errorf("%s: %d %s entries of %s, want 1", b.dev.name, n, action, ip)
		}
	}
	if who := b.text(t, fmt.Sprintf(rows, "ban")+` td[data-label="Who"]`); !strings.Contains(who, "admin") {
		t.Errorf("%s: the ban's actor = %q", b.dev.name, who)
	}
	b.do(t, chromedp.SetValue(chromedp.CSS("#audit-action"), "unban"))
	if status := b.follow(t, button("Filter")); status != 200 {
		t.Fatalf("%s: filter answered %d", b.dev.name, status)
	}
	if p := b.path(t); !strings.Contains(p, "action=unban") {
		t.Fatalf("%s: filtered URL = %s", b.dev.name, p)
	}
	actions := eval[[]string](t, b, `[...document.querySelectorAll("#audit-entries tbody tr[data-action]")].map(r => r.dataset.action)`)
	if len(actions) == 0 {
		t.Errorf("%s: no unban after filtering", b.dev.name)
	}
	for _, a := range actions {
		if a != "unban" {
			t.Errorf("%s: a %q entry among the unbans", b.dev.name, a)
		}
	}
	if href := eval[string](t, b, `document.querySelector("[data-testid=audit-csv]").getAttribute("href")`); !strings.Contains(href, "action=unban") {
		t.Errorf("%s: the CSV link %q does not keep the filter", b.dev.name, href)
	}
	b.check(t, "audit")

	// The address page says who banned it and links to those entries.
	b.visit(t, "/history/"+ip)
	if trail := b.text(t, "[data-testid=audit-trail]"); !strings.Contains(trail, "admin") {
		t.Errorf("%s: the address page's audit trail = %q", b.dev.name, trail)
	}
	if status := b.follow(t, "[data-testid=audit-trail-more]"); status != 200 {
		t.Fatalf("%s: the trail's link answered %d", b.dev.name, status)
	}
	b.wantPath(t, basePath+"/audit?target="+ip)
	if n := eval[int](t, b, `document.querySelectorAll("#audit-entries tbody tr[data-action]").length`); n != 2 {
		t.Errorf("%s: %d entries about %s, want its ban and unban", b.dev.name, n, ip)
	}
}
