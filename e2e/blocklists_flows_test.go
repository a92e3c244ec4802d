package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
)

// blocklistAddrs is the device's own list: addresses and a range only this
// device imports, so devices sharing one fail2ban do not see each other's
// bans. The list also holds a comment and an invalid line.
func blocklistAddrs(d device) (prefix string, addrs []string) {
	n := 1
	if d.phone {
		n = 2
	}
	prefix = fmt.Sprintf("100.64.%d.", n)
	for i := range 12 {
		addrs = append(addrs, fmt.Sprintf("%s%d", prefix, i+1))
	}
	addrs = append(addrs, fmt.Sprintf("%s128/28", prefix))
	return prefix, addrs
}

// gatedList serves one list. Once armed, it sends the first half at once
// and the rest only when opened, so the page can be seen while an import
// runs; before that (the preview) it answers at once.
type gatedList struct {
	srv     *httptest.Server
	armed   atomic.Bool
	once    sync.Once
	release chan struct{}
}

func newGatedList(t *testing.T, body string) *gatedList {
	g := &gatedList{release: make(chan struct{})}
	half := len(body) / 2
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if !g.armed.Load() {
			w.Write([]byte(body))
			return
		}
		w.Write([]byte(body[:half]))
		w.(http.Flusher).Flush()
		select {
		case <-g.release:
		case <-r.Context().Done():
			return
		}
		w.Write([]byte(body[half:]))
	}))
	t.Cleanup(func() {
		g.open()
		g.srv.Close()
	})
	return g
}

func (g *gatedList) open() { g.once.Do(func() { close(g.release) }) }

// flowBlocklists adds a source served by a local list server, previews it,
// imports it while watching the progress, reads the result and finds the
// bans in the blocklist jail.
func flowBlocklists(t *testing.T, b *browser) {
	prefix, addrs := blocklistAddrs(b.dev)
	body := "# e2e list for " + b.dev.name + "\n" + strings.Join(addrs, "\n") + "\nnot-an-address\n"
	list := newGatedList(t, body)
	name := "E2E " + b.dev.name
	url := list.srv.URL + "/list.txt"

	// Add the source; the boosted form swaps in the page with the new row.
	b.visit(t, "/blocklists")
	b.typeInto(t, "#add-name", name)
	b.typeInto(t, "#add-url", url)
	row := fmt.Sprintf(`[data-testid="sources-table"] tr[data-source=%q]`, name)
	b.do(t, b.press(button("Add")), chromedp.WaitVisible(chromedp.CSS(row)))
	if msg := b.text(t, "#flash"); !strings.Contains(msg, "Added the list "+name) {
		t.Errorf("%s: flash after add = %q", b.dev.name, msg)
	}
	b.check(t, "blocklists-added")

	// Preview on the source's page, swapped in by htmx.
	if status := b.follow(t, row+` td a`); status != 200 {
		t.Fatalf("%s: source page answered %d", b.dev.name, status)
	}
	if h1 := b.text(t, "h1#page-title"); h1 != name {
		t.Errorf("%s: source page title %q", b.dev.name, h1)
	}
	b.do(t, b.press(`[data-testid="load-preview"]`), chromedp.WaitVisible(chromedp.CSS("[data-testid=preview-counts]")))
	counts := strings.Join(strings.Fields(b.text(t, "[data-testid=preview-counts]")), " ")
	for _, want := range []string{"IPv4 addresses 12", "CIDR ranges 1", "Comments 1", "Invalid lines 1"} {
		if !strings.Contains(counts, want) {
			t.Errorf("%s: preview counts %q lack %q", b.dev.name, counts, want)
		}
	}
	b.check(t, "blocklists-preview")

	// Import now: the progress shows while the list is still arriving.
	b.visit(t, "/blocklists")
	list.armed.Store(true)
	b.do(t, b.press(`[data-testid="import-all"]`), chromedp.WaitVisible(chromedp.CSS(`#import-status[data-state="running"]`)))
	if cur := b.text(t, "[data-testid=import-current]"); cur != name {
		t.Errorf("%s: importing %q, want %q", b.dev.name, cur, name)
	}
	if el := b.text(t, "[data-testid=import-elapsed]"); !strings.HasSuffix(el, " s") {
		t.Errorf("%s: elapsed = %q", b.dev.name, el)
	}
	b.check(t, "blocklists-progress")
	list.open()
	result := fmt.Sprintf(`[data-testid="import-results"] tr[data-source=%q]`, name)
	b.do(t, chromedp.WaitVisible(chromedp.CSS(`#import-status[data-state="done"] `+result)))
	if got := b.text(t, result+" [data-testid=result-imported]"); got != fmt.Sprint(len(addrs)) {
		t.Errorf("%s: imported %s, want %d", b.dev.name, got, len(addrs))
	}
	if got := b.text(t, result+" [data-testid=result-skipped]"); got != "1" {
		t.Errorf("%s: skipped %s, want 1", b.dev.name, got)
	}
	// The log and the jail card reload themselves when the import ends.
	b.do(t, chromedp.WaitVisible(chromedp.CSS(`#import-log tbody tr:not(.empty-row)`)),
		chromedp.WaitVisible(chromedp.CSS(`#blocklist-jail .badge--ok`)))
	b.check(t, "blocklists-result")

	// The bans are in the blocklist jail (the dashboard shows them as
	// origin blocklist, derived from this jail).
	b.visit(t, "/jails/blocklist-import?q="+prefix)
	for _, ip := range []string{addrs[0], addrs[len(addrs)-1]} {
		b.do(t, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#jail-bans tr[data-ip=%q]`, ip))))
	}
	if info := b.text(t, "#jail-bans .pager__info"); !strings.Contains(info, fmt.Sprintf("of %d", len(addrs))) {
		t.Errorf("%s: jail pager says %q, want %d rows", b.dev.name, info, len(addrs))
	}
	b.check(t, "blocklists-jail-bans")
}
