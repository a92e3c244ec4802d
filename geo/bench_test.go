package geo_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"bangui/geo"
	"bangui/geo/geotest"
	"bangui/models"
)

// benchDB writes a country database of realistic shape: 200,000 IPv4
// networks of /16 to /24 and 50,000 IPv6 /32 networks over 200 countries,
// about the node count of the real ip-location-db file. Set
// BANGUI_GEO_BENCH_DB to a real .mmdb file to measure that one instead.
func benchDB(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("BANGUI_GEO_BENCH_DB"); p != "" {
		return p
	}
	dir := filepath.Join(os.TempDir(), "bangui-bench")
	path := filepath.Join(dir, "geo-bench-v1.mmdb")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	codes := models.CountryCodes()
	rng := rand.New(rand.NewPCG(1, 2))
	nets := map[string]string{}
	for len(nets) < 200_000 {
		bits := 16 + rng.IntN(9)
		a := netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), 0})
		p, _ := a.Prefix(bits)
		if geo.NewClassifier().Special(p.Addr()) != "" {
			continue
		}
		nets[p.String()] = codes[rng.IntN(200)]
	}
	for len(nets) < 250_000 {
		a := netip.AddrFrom16([16]byte{0x24 + byte(rng.IntN(8)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		p, _ := a.Prefix(32)
		if geo.NewClassifier().Special(p.Addr()) != "" {
			continue
		}
		nets[p.String()] = codes[rng.IntN(200)]
	}
	if err := geotest.WriteCountryDB(path, nets, geotest.IPLocationDB); err != nil {
		b.Fatal(err)
	}
	return path
}

// benchIPs returns n distinct public addresses, 90% IPv4.
func benchIPs(n int) []string {
	rng := rand.New(rand.NewPCG(3, 4))
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	cl := geo.NewClassifier()
	for len(out) < n {
		var a netip.Addr
		if rng.IntN(10) == 0 {
			a = netip.AddrFrom16([16]byte{0x24 + byte(rng.IntN(8)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), 15: byte(rng.IntN(256))})
		} else {
			a = netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		}
		s := a.String()
		if seen[s] || cl.Special(a) != "" {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// BenchmarkResolve100k resolves 100,000 distinct addresses cold: each
// iteration opens the database anew and goes through an empty cache (memory
// only), the way the first map or fill job after a start does. Budget: < 1 s.
func BenchmarkResolve100k(b *testing.B) {
	path := benchDB(b)
	ips := benchIPs(100_000)
	ctx := context.Background()
	for _, through := range []string{"mmdb", "cache"} {
		b.Run(through, func(b *testing.B) {
			found := 0
			for b.Loop() {
				m, err := geo.OpenMMDB(path, "")
				if err != nil {
					b.Fatal(err)
				}
				var r geo.Resolver = m
				if through == "cache" {
					r = geo.NewCache(m, nil, 200_000)
				}
				got, err := r.LookupMany(ctx, ips)
				if err != nil {
					b.Fatal(err)
				}
				found = 0
				for _, g := range got {
					if g.Known() {
						found++
					}
				}
				m.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/100k")
			b.ReportMetric(float64(found), "found")
		})
	}
}

func ExampleMMDB() {
	m, err := geo.OpenMMDB("/nonexistent/country.mmdb", "")
	if err != nil {
		panic(err)
	}
	g, err := m.Lookup(context.Background(), "192.168.1.10")
	fmt.Println(g.Special, err)
	// Output: private <nil>
}
