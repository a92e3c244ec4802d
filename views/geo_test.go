package views

import (
	"context"
	"strings"
	"testing"

	"bangui/models"
)

func TestEveryCountryHasAFlag(t *testing.T) {
	ctx := WithRequest(context.Background(), Request{Asset: func(name string) string { return "/assets/h/" + name }})
	n := 0
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			if models.CountryName(code) == "" {
				continue
			}
			n++
			if got, want := flagSrc(ctx, code), "/assets/h/flags/"+strings.ToLower(code)+".svg"; got != want {
				t.Errorf("flagSrc(%s) = %q, want %q", code, got, want)
			}
		}
	}
	if n < 249 {
		t.Fatalf("only %d countries", n)
	}
	for _, code := range []string{"", "D", "D1", "XYZ", "ZZ"} {
		if got := flagSrc(ctx, code); got != "" {
			t.Errorf("flagSrc(%q) = %q", code, got)
		}
	}
}

func TestMapFill(t *testing.T) {
	th := models.DefaultMapThresholds // 20, 50, 100
	cases := map[int64]string{0: "", 1: "#fee8c8", 20: "#fdbb84", 50: "#fc8d59", 100: "#d7301f", 5000: "#d7301f"}
	for n, want := range cases {
		if got := mapFill(n, th); got != want {
			t.Errorf("mapFill(%d) = %q, want %q", n, got, want)
		}
	}
	// Between two thresholds the colour lies between theirs.
	mid := mapFill(75, th) // halfway from medium to high
	if mid != "#ea5f3c" {
		t.Errorf("mapFill(75) = %s, want #ea5f3c", mid)
	}
}

func TestCountryCell(t *testing.T) {
	render := func(g models.GeoInfo) string {
		var b strings.Builder
		if err := CountryCell(g).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if html := render(GeoOf("DE")); !strings.Contains(html, `<img class="country__flag" src="/assets/missing/flags/de.svg" alt="Germany" width="21" height="14"`) ||
		!strings.Contains(html, ">Germany</span>") || strings.Contains(html, "🇩🇪") {
		t.Errorf("Germany: %s", html)
	}
	if html := render(models.GeoInfo{IP: "10.0.0.1", Special: models.GeoPrivate}); !strings.Contains(html, "private network") {
		t.Errorf("private: %s", html)
	}
	if html := render(models.GeoInfo{IP: "9.9.9.9"}); !strings.Contains(html, ">unknown<") {
		t.Errorf("unknown: %s", html)
	}
}
