package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// htmxSHA256 is the hash recorded in VENDOR.md for js/htmx.min.js 2.0.11.
const htmxSHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"

func TestVendoredHTMXMatchesRecordedHash(t *testing.T) {
	b, err := fs.ReadFile(files, "js/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != htmxSHA256 {
		t.Fatalf("htmx.min.js sha256 %s, want %s", got, htmxSHA256)
	}
	vendor, err := os.ReadFile("VENDOR.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(vendor), htmxSHA256) || !strings.Contains(string(vendor), "2.0.11") {
		t.Fatal("VENDOR.md does not record htmx's version and hash")
	}
}

func TestHashedURLsChangeWithContent(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p := s.Path("css/app.css")
	hash, name, _ := strings.Cut(p, "/")
	if name != "css/app.css" || len(hash) != 12 {
		t.Fatalf("Path = %q", p)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil), p)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), ":root") {
		t.Fatalf("serving %s: %d", p, rec.Code)
	}
	// Conditional requests are answered without a body.
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, req, p)
	if rec.Code != 304 {
		t.Fatalf("If-None-Match: %d", rec.Code)
	}
	if s.Path("css/none.css") != "missing/css/none.css" {
		t.Fatal("unknown asset got a hash")
	}
}

// sseSHA256 is the hash recorded in VENDOR.md for js/sse.min.js 2.2.4.
const sseSHA256 = "98a46496de0c3605fbffdce9167ba427bdd9553184f83f149c261891a92c0136"

func TestVendoredSSEExtensionMatchesRecordedHash(t *testing.T) {
	b, err := fs.ReadFile(files, "js/sse.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != sseSHA256 {
		t.Fatalf("sse.min.js sha256 %s, want %s", got, sseSHA256)
	}
	vendor, err := os.ReadFile("VENDOR.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(vendor), sseSHA256) || !strings.Contains(string(vendor), "htmx-ext-sse@2.2.4") {
		t.Fatal("VENDOR.md does not record the SSE extension's version and hash")
	}
}

func TestEveryCountryHasASmallFlag(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"DE", "us", "IE", "EU"} {
		name, ok := FlagFile(code)
		if !ok {
			t.Fatalf("no flag for %s", code)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil), s.Path(name))
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/svg+xml" ||
			!strings.Contains(rec.Header().Get("Cache-Control"), "immutable") || !strings.HasPrefix(rec.Body.String(), "<svg") {
			t.Fatalf("%s: %d %q %q", name, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
		}
	}
	for _, code := range []string{"", "D", "XYZ", "..", "zz", "A/"} {
		if name, ok := FlagFile(code); ok {
			t.Errorf("FlagFile(%q) = %q", code, name)
		}
	}
	// Small enough to send one per country shown: none above 6 KB, and no
	// script or external reference inside (they are served as images).
	entries, err := fs.ReadDir(files, "flags")
	if err != nil || len(entries) < 249 {
		t.Fatalf("%d flags, %v", len(entries), err)
	}
	for _, e := range entries {
		b, _ := fs.ReadFile(files, "flags/"+e.Name())
		if len(b) > 6<<10 || strings.Contains(string(b), "<script") || strings.Contains(string(b), "href=\"http") {
			t.Errorf("%s: %d bytes", e.Name(), len(b))
		}
	}
}
