package handlers

import (
	"net/http"

	"github.com/PuerkitoBio/goquery"
	"strings"
	"testing"
)

func TestBasePathLinksAndAssets(t *testing.T) {
	a := newTestApp(t, t.TempDir(), withBasePath("/bangui/"))
	b := a.browser()
	assertRedirect(t, b.get("/bangui"), "/bangui/")
	assertRedirect(t, b.get("/bangui/"), "/bangui/setup")
	if rec := b.get("/setup"); rec.Code != http.StatusNotFound {
		t.Fatalf("/setup outside the base path: %d, want 404", rec.Code)
	}
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/bangui/")

	for _, page := range []string{"/bangui/", "/bangui/map", "/bangui/jails", "/bangui/history", "/bangui/blocklists", "/bangui/config"} {
		rec := b.get(page)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", page, rec.Code)
		}
		doc := parse(t, rec)
		checked := 0
		for _, attr := range []string{"href", "src", "action", "hx-get", "hx-post", "sse-connect"} {
			for _, sel := range doc.Find("[" + attr + "]").Nodes {
				for _, at := range sel.Attr {
					if at.Key != attr || strings.HasPrefix(at.Val, "#") {
						continue
					}
					checked++
					if !strings.HasPrefix(at.Val, "/bangui/") {
						t.Errorf("%s: %s=%q is outside the base path", page, attr, at.Val)
					}
				}
			}
		}
		if checked < 10 {
			t.Fatalf("%s: only %d URLs checked", page, checked)
		}
		if cur := doc.Find(`#site-nav a[aria-current="page"]`); cur.Length() != 1 || cur.AttrOr("href", "") != page {
			t.Errorf("%s: active nav entry is %q", page, cur.AttrOr("href", ""))
		}
	}

	// Every asset the shell links loads, with a long cache for hashed URLs.
	doc := parse(t, b.get("/bangui/"))
	var urls []string
	doc.Find(`link[rel="stylesheet"], script[src], link[rel="icon"]`).Each(func(_ int, s *goquery.Selection) {
		if u := s.AttrOr("href", s.AttrOr("src", "")); u != "" {
			urls = append(urls, u)
		}
	})
	if len(urls) != 5 { // icon, css, htmx, its SSE extension, app.js
		t.Fatalf("asset URLs: %v", urls)
	}
	for _, u := range urls {
		rec := b.get(u)
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Fatalf("%s: %d", u, rec.Code)
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q", u, cc)
		}
		if strings.HasSuffix(u, ".js") && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") {
			t.Errorf("%s: Content-Type %q", u, rec.Header().Get("Content-Type"))
		}
	}
	// A stale hash still serves the file, but uncached; unknown files are 404.
	stale := "/bangui/assets/000000000000/css/app.css"
	if rec := b.get(stale); rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("stale asset: %d %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	for _, bad := range []string{"/bangui/assets/x/../../repo/db.go", "/bangui/assets/x/css/nope.css", "/bangui/assets/assets.go"} {
		if rec := b.get(bad); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, rec.Code)
		}
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	for _, p := range []string{"/setup", "/healthz", "/nope"} {
		h := b.get(p).Header()
		if h.Get("Content-Security-Policy") != ContentSecurityPolicy {
			t.Errorf("%s: CSP %q", p, h.Get("Content-Security-Policy"))
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: missing nosniff or referrer policy", p)
		}
	}
	if !strings.Contains(ContentSecurityPolicy, "frame-ancestors 'none'") || strings.Contains(ContentSecurityPolicy, "unsafe-inline") {
		t.Fatal("CSP is not strict")
	}
	// No page carries inline script or style.
	doc := parse(t, b.get("/setup"))
	if doc.Find("script:not([src]), style, [style]").Length() > 0 {
		t.Fatal("inline script or style on the setup page")
	}
}

func TestFullPageOrFragment(t *testing.T) {
	for _, tc := range []struct {
		hdr  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"HX-Request": "true"}, true},
		{map[string]string{"HX-Request": "true", "HX-Boosted": "true"}, false},
		{map[string]string{"HX-Request": "true", "HX-History-Restore-Request": "true"}, false},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		for k, v := range tc.hdr {
			r.Header.Set(k, v)
		}
		if got := wantsFragment(r); got != tc.want {
			t.Errorf("wantsFragment(%v) = %v", tc.hdr, got)
		}
	}
	a := newTestApp(t, t.TempDir())
	rec := a.browser().get("/setup")
	if v := rec.Header().Values("Vary"); !strings.Contains(strings.Join(v, ","), "HX-Request") {
		t.Fatalf("Vary = %v", v)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("HTML Cache-Control = %q", rec.Header().Get("Cache-Control"))
	}
}
