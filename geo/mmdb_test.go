package geo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"bangui/geo"
	"bangui/geo/geotest"
	"bangui/models"
)

// known are lookups with known answers in the geotest fixture.
var known = []struct {
	ip, code, name string
}{
	{"8.8.8.8", "US", "United States"},
	{"193.99.144.80", "DE", "Germany"},
	{"81.2.69.160", "GB", "United Kingdom"},
	{"1.1.1.1", "AU", "Australia"},
	{"::ffff:8.8.8.4", "US", "United States"}, // IPv4-mapped IPv6 is IPv4
	{"2a00:1450:4001:81c::200e", "IE", "Ireland"},
	{"2001:4860:4860::8888", "US", "United States"},
	{"2a02:2e0:3fe:1001:302::", "DE", "Germany"},
	{"2400:cb00:2048:1::c629:d7a2", "JP", "Japan"},
}

// special are addresses in non-public ranges: answered without a lookup.
var special = []struct{ ip, kind string }{
	{"10.1.2.3", models.GeoPrivate},
	{"172.20.0.1", models.GeoPrivate},
	{"192.168.178.1", models.GeoPrivate},
	{"100.64.0.9", models.GeoShared},
	{"127.0.0.1", models.GeoLoopback},
	{"169.254.10.10", models.GeoLinkLocal},
	{"192.0.2.55", models.GeoDocumentation},
	{"198.51.100.7", models.GeoDocumentation},
	{"203.0.113.200", models.GeoDocumentation},
	{"198.18.4.1", models.GeoBenchmarking},
	{"224.0.0.251", models.GeoMulticast},
	{"240.1.2.3", models.GeoReserved},
	{"255.255.255.255", models.GeoReserved},
	{"0.0.0.0", models.GeoUnspecified},
	{"::", models.GeoUnspecified},
	{"::1", models.GeoLoopback},
	{"::ffff:10.0.0.1", models.GeoPrivate},
	{"fd12:3456:789a::1", models.GeoPrivate},
	{"fe80::1", models.GeoLinkLocal},
	{"ff02::1", models.GeoMulticast},
	{"2001:db8::42", models.GeoDocumentation},
	{"3fff:1::1", models.GeoDocumentation},
	{"100::1", models.GeoReserved},
	{"4000::1", models.GeoReserved}, // outside 2000::/3
}

func openFixture(t *testing.T) *geo.MMDB {
	t.Helper()
	m, err := geo.OpenMMDB(geotest.CountryDB(t), geotest.ASNDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMMDBKnownAnswers(t *testing.T) {
	ctx := context.Background()
	m := openFixture(t)
	for _, k := range known {
		g, err := m.Lookup(ctx, k.ip)
		if err != nil {
			t.Fatalf("%s: %v", k.ip, err)
		}
		if g.CountryCode != k.code || g.CountryName != k.name || g.Special != "" || g.IP != k.ip {
			t.Errorf("%s = %+v, want %s %s", k.ip, g, k.code, k.name)
		}
	}
	g, _ := m.Lookup(ctx, "193.99.144.80")
	if g.ASN != 12306 || g.Org != "Plus.line AG" {
		t.Errorf("ASN of 193.99.144.80 = %d %q, want 12306 Plus.line AG", g.ASN, g.Org)
	}
	g, _ = m.Lookup(ctx, "2a00:1450:4001:81c::200e")
	if g.ASN != 15169 || g.Org != "GOOGLE" {
		t.Errorf("ASN of Google IPv6 = %d %q", g.ASN, g.Org)
	}
	// A public address the database does not know: unknown, not an error.
	for _, ip := range []string{"9.9.9.9", "2a0e:1234::1"} {
		g, err := m.Lookup(ctx, ip)
		if err != nil || g.Known() || g.Special != "" {
			t.Errorf("%s = %+v, %v; want unknown without error", ip, g, err)
		}
	}
}

func TestMMDBSpecialRanges(t *testing.T) {
	ctx := context.Background()
	m := openFixture(t)
	ips := make([]string, 0, len(special))
	for _, s := range special {
		ips = append(ips, s.ip)
	}
	got, err := m.LookupMany(ctx, ips)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range special {
		g := got[s.ip]
		if g.Special != s.kind || g.Known() {
			t.Errorf("%s = %+v, want special %q", s.ip, g, s.kind)
		}
	}
	// Without any database, special ranges are still answered.
	none, err := geo.OpenMMDB(filepath.Join(t.TempDir(), "absent.mmdb"), "")
	if err != nil {
		t.Fatal(err)
	}
	g, err := none.Lookup(ctx, "192.168.1.1")
	if err != nil || g.Special != models.GeoPrivate {
		t.Errorf("private without database = %+v, %v", g, err)
	}
}

func TestMMDBGeoLite2Layout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "GeoLite2-Country.mmdb")
	if err := geotest.WriteCountryDB(path, map[string]string{"81.2.69.0/24": "GB", "2a02:2e0::/32": "DE"}, geotest.GeoLite2); err != nil {
		t.Fatal(err)
	}
	m, err := geo.OpenMMDB(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got, err := m.LookupMany(context.Background(), []string{"81.2.69.142", "2a02:2e0::1"})
	if err != nil {
		t.Fatal(err)
	}
	if got["81.2.69.142"].CountryName != "United Kingdom" || got["2a02:2e0::1"].CountryCode != "DE" {
		t.Errorf("GeoLite2 layout: %+v", got)
	}
	c, _ := m.Status()
	if !c.Loaded || c.Type != "GeoLite2-Country" {
		t.Errorf("status = %+v", c)
	}
}

func TestMMDBMissingThenInstalled(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "geo", "country.mmdb")
	m, err := geo.OpenMMDB(path, "")
	if err != nil {
		t.Fatalf("a missing database must not be an error: %v", err)
	}
	defer m.Close()
	if m.Available() {
		t.Fatal("available without a file")
	}
	if _, err := m.Lookup(ctx, "8.8.8.8"); !errors.Is(err, geo.ErrNoDatabase) {
		t.Fatalf("lookup without database: %v, want ErrNoDatabase", err)
	}
	if err := geotest.WriteCountryDB(path, geotest.Countries, geotest.IPLocationDB); err != nil {
		t.Fatal(err)
	}
	changed, err := m.Refresh()
	if err != nil || !changed || !m.Available() {
		t.Fatalf("refresh after install: changed %v err %v available %v", changed, err, m.Available())
	}
	if g, err := m.Lookup(ctx, "8.8.8.8"); err != nil || g.CountryCode != "US" {
		t.Fatalf("after install: %+v %v", g, err)
	}
	if changed, _ := m.Refresh(); changed {
		t.Error("refresh without a change reported a change")
	}
	// A broken file is an error and keeps the working database. (Updates
	// replace the file by renaming, as scripts/fetch-geo.sh does: the open
	// database is memory-mapped and must not be rewritten in place.)
	broken := path + ".new"
	if err := os.WriteFile(broken, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(broken, path); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Refresh(); err == nil {
		t.Error("refresh accepted a broken file")
	}
	if g, _ := m.Lookup(ctx, "8.8.8.8"); g.CountryCode != "US" {
		t.Errorf("after a broken update: %+v", g)
	}
}

func TestInvalidIP(t *testing.T) {
	m := openFixture(t)
	if _, err := m.Lookup(context.Background(), "not-an-ip"); !errors.Is(err, geo.ErrInvalidIP) {
		t.Errorf("err = %v", err)
	}
	got, err := m.LookupMany(context.Background(), []string{"8.8.8.8", "999.1.1.1"})
	if !errors.Is(err, geo.ErrInvalidIP) || got["8.8.8.8"].CountryCode != "US" || len(got) != 1 {
		t.Errorf("LookupMany with a bad address = %v, %v", got, err)
	}
}
