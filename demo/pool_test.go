package demo_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"

	"bangui/demo"
	"bangui/geo"
	"bangui/geo/geotest"
)

// TestPool checks the attacker pool: the same on every call, distinct
// public addresses, each inside its network and with its country.
func TestPool(t *testing.T) {
	p := demo.NewPool()
	if !reflect.DeepEqual(p, demo.NewPool()) {
		t.Fatal("NewPool differs between calls; the demo's attackers would change between runs")
	}
	if len(p.V4) < 400 || len(p.V6) < 40 || len(p.All) != len(p.V4)+len(p.V6) {
		t.Fatalf("pool sizes: %d IPv4, %d IPv6, %d in All", len(p.V4), len(p.V6), len(p.All))
	}
	classify := geo.NewClassifier()
	seen := map[netip.Addr]bool{}
	countries := map[string]bool{}
	for _, a := range p.All {
		if seen[a] {
			t.Errorf("%s twice in the pool", a)
		}
		seen[a] = true
		if s := classify.Special(a); s != "" {
			t.Errorf("%s is in a special range (%s)", a, s)
		}
		var in *demo.Network
		for i, n := range demo.Networks {
			if n.Prefix.Contains(a) {
				in = &demo.Networks[i]
			}
		}
		if in == nil || p.Country[a] != in.Country {
			t.Errorf("%s: country %q, network %+v", a, p.Country[a], in)
			continue
		}
		countries[in.Country] = true
	}
	if len(countries) < 25 {
		t.Errorf("attackers come from %d countries, want at least 25 for the map", len(countries))
	}
	for _, n := range demo.Networks {
		if want := map[bool]int{true: 16, false: 32}[n.Prefix.Addr().Is4()]; n.Prefix.Bits() != want || n.Prefix != n.Prefix.Masked() {
			t.Errorf("network %s: want a masked /%d", n.Prefix, want)
		}
	}
}

// geoDB finds the default country database: $BANGUI_GEO_BENCH_DB, or the
// file "make run" fetches into ./data/geo.
func geoDB(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("BANGUI_GEO_BENCH_DB"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "data", "geo", "geo-whois-asn-country.mmdb")
	if _, err := os.Stat(p); err != nil {
		t.Skip("no country database: set BANGUI_GEO_BENCH_DB or run scripts/fetch-geo.sh")
	}
	return p
}

// TestNetworksKnownToGeoDB checks with the default country database
// (ip-location-db's geo-whois-asn-country) that every network of the pool
// lies wholly inside one network of the database with the stated country.
func TestNetworksKnownToGeoDB(t *testing.T) {
	r, err := maxminddb.Open(geoDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, n := range demo.Networks {
		res := r.Lookup(n.Prefix.Addr())
		var rec struct {
			Country string `maxminddb:"country_code"`
		}
		if err := res.Decode(&rec); err != nil {
			t.Errorf("%s: %v", n.Prefix, err)
			continue
		}
		if rec.Country != n.Country || res.Prefix().Bits() > n.Prefix.Bits() {
			t.Errorf("%s: the database says %q for %s, want %s for the whole network", n.Prefix, rec.Country, res.Prefix(), n.Country)
		}
	}
}

// TestNetworksOutsideTestFixture: the e2e suite runs the demo with the
// small test country database of geo/geotest; the attackers must stay
// outside its networks, or the map flow's exact counts would change.
func TestNetworksOutsideTestFixture(t *testing.T) {
	for c, cc := range geotest.Countries {
		p := netip.MustParsePrefix(c)
		for _, n := range demo.Networks {
			if p.Overlaps(n.Prefix) {
				t.Errorf("network %s (%s) overlaps the test database's %s (%s)", n.Prefix, n.Country, p, cc)
			}
		}
	}
}
