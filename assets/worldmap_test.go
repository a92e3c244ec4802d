package assets

import (
	"strings"
	"testing"
)

func TestWorldMap(t *testing.T) {
	m, err := WorldMap()
	if err != nil {
		t.Fatal(err)
	}
	if m.Width != 2020 || m.Height != 1332 {
		t.Errorf("view box %gx%g", m.Width, m.Height)
	}
	seen := map[string]bool{}
	for _, c := range m.Countries {
		if seen[c.Code] {
			t.Errorf("%s twice", c.Code)
		}
		seen[c.Code] = true
		if c.Name == "" || !strings.HasPrefix(c.Path, "m") || !strings.HasSuffix(c.Path, "z") {
			t.Errorf("%s: name %q path %.20q", c.Code, c.Name, c.Path)
		}
		if c.LabelX < 0 || c.LabelX > m.Width || c.LabelY < 0 || c.LabelY > m.Height {
			t.Errorf("%s: label at %g,%g is off the map", c.Code, c.LabelX, c.LabelY)
		}
	}
	for _, code := range []string{"US", "DE", "CN", "BR", "RU", "AU", "ZA", "XK", "SG", "VA"} {
		if !seen[code] {
			t.Errorf("%s missing", code)
		}
	}
	if len(m.Countries) < 240 {
		t.Errorf("%d countries", len(m.Countries))
	}
}
