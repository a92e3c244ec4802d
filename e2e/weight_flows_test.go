package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// firstVisitMaxBytes is issue 20's budget for a first visit to the
// dashboard: HTML, CSS, JavaScript, fonts and flags as they come over the
// wire (gzipped), headers included.
const firstVisitMaxBytes = 100 * 1024

// transfer is one response of a page load as the Resource Timing API saw it.
type transfer struct {
	URL      string `json:"url"`
	Kind     string `json:"kind"`     // navigation, script, css (link), img, xmlhttprequest, …
	Transfer int    `json:"transfer"` // bytes over the network, headers included; 0 from the cache
	Encoded  int    `json:"encoded"`  // the body as sent (gzipped where the panel gzips)
	Decoded  int    `json:"decoded"`  // the body unpacked
}

// transfersJS waits until the page and its images (the lazy flags of the
// first screen) have loaded and lists every response: the document first.
const transfersJS = `new Promise(done => {
	const ready = () => document.readyState === "complete" && [...document.images].every(i => i.complete || i.loading === "lazy" && i.getBoundingClientRect().top > innerHeight);
	const wait = () => ready() ? setTimeout(finish, 100) : setTimeout(wait, 50);
	const finish = () => done([...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")].map(e => ({
		url: e.name, kind: e.initiatorType, transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize,
	})));
	wait();
})`

// weightPages are the pages whose weight flowWeight reports: the main
// navigation, dashboard first.
func weightPages() []string {
	pages := []string{"/"}
	for _, e := range navEntries {
		if e.path != "/" {
			pages = append(pages, e.path)
		}
	}
	return pages
}

// flowWeight loads each page of the main navigation three times: with the
// browser's cache off (a first visit), to fill the cache, and again (a
// later visit). It logs each page's figures, fails when the first visit to
// the dashboard weighs 100 KB or more, and when a later visit to any page
// fetches anything but its HTML (the assets are cached as immutable) and
// the requests the page makes while open (htmx polling).
func flowWeight(t *testing.T, b *browser) {
	defer b.cacheDisabled(t, false)
	for _, p := range weightPages() {
		b.cacheDisabled(t, true)
		first := b.loadTransfers(t, p)
		b.cacheDisabled(t, false)
		b.loadTransfers(t, p)
		later := b.loadTransfers(t, p)
		total, html := 0, 0
		kinds := map[string]int{}
		for _, r := range first {
			total += r.Transfer
			kinds[r.Kind] += r.Transfer
			if r.Kind == "navigation" {
				html = r.Transfer
			}
		}
		var refetched []string
		laterTotal := 0
		for _, r := range later {
			laterTotal += r.Transfer
			if r.Transfer > 0 && r.Kind != "navigation" && r.Kind != "xmlhttprequest" && r.Kind != "fetch" {
				refetched = append(refetched, fmt.Sprintf("%s (%d bytes)", strings.TrimPrefix(r.URL, b.app.origin), r.Transfer))
			}
		}
		t.Logf("%s weight %s: first visit %.1f KB in %d responses (HTML %.1f KB; by kind %s), later visit %.1f KB",
			b.dev.name, p, kb(total), len(first), kb(html), kindFigures(kinds), kb(laterTotal))
		if p == "/" && total >= firstVisitMaxBytes {
			t.Errorf("%s: the first visit to the dashboard weighs %.1f KB, want under %.0f KB", b.dev.name, kb(total), kb(firstVisitMaxBytes))
		}
		if len(refetched) > 0 {
			t.Errorf("%s %s: a later visit fetched again %s; assets must come from the cache", b.dev.name, p, strings.Join(refetched, ", "))
		}
	}
}

// loadTransfers visits path and returns its responses.
func (b *browser) loadTransfers(t *testing.T, path string) []transfer {
	t.Helper()
	b.visit(t, path)
	return run(t, b, chromedp.Evaluate[[]transfer](transfersJS, chromedp.EvalAwaitPromise))
}

// cacheDisabled turns the browser's cache off or on for the tab, as
// DevTools' "Disable cache" does.
func (b *browser) cacheDisabled(t *testing.T, off bool) {
	t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: off}); err != nil {
		t.Fatalf("%s: cache disabled %v: %v", b.dev.name, off, err)
	}
}

func kb(n int) float64 { return float64(n) / 1024 }

// kindFigures formats bytes per kind of response, e.g. "css 7.1 KB, img 2.0 KB".
func kindFigures(kinds map[string]int) string {
	var parts []string
	for _, k := range []string{"navigation", "link", "css", "script", "img", "other", "xmlhttprequest", "fetch"} {
		if n, ok := kinds[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %.1f KB", k, kb(n)))
			delete(kinds, k)
		}
	}
	for k, n := range kinds {
		parts = append(parts, fmt.Sprintf("%s %.1f KB", k, kb(n)))
	}
	return strings.Join(parts, ", ")
}
