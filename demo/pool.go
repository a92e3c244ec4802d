package demo

import (
	"math/rand/v2"
	"net/netip"
)

// Network is a public address block whose country the default country
// database (ip-location-db's geo-whois-asn-country) knows for the whole
// block. The demo's attackers are drawn from these blocks so that the map
// and the country columns have something to show.
type Network struct {
	Prefix  netip.Prefix
	Country string // ISO 3166-1 alpha-2 code the database answers
	Weight  int    // how often attackers come from this block, relatively
}

// Networks are large ISP blocks of many countries, weighted roughly like
// the sources seen in real SSH and mail logs. Each block lies wholly
// inside one network of the country database with that country (checked
// by TestNetworksKnownToGeoDB when a database is at hand).
var Networks = []Network{
	{netip.MustParsePrefix("36.96.0.0/16"), "CN", 6},
	{netip.MustParsePrefix("61.150.0.0/16"), "CN", 5},
	{netip.MustParsePrefix("112.10.0.0/16"), "CN", 4},
	{netip.MustParsePrefix("223.100.0.0/16"), "CN", 3},
	{netip.MustParsePrefix("73.10.0.0/16"), "US", 5},
	{netip.MustParsePrefix("71.190.0.0/16"), "US", 4},
	{netip.MustParsePrefix("95.24.0.0/16"), "RU", 5},
	{netip.MustParsePrefix("5.3.0.0/16"), "RU", 3},
	{netip.MustParsePrefix("117.200.0.0/16"), "IN", 3},
	{netip.MustParsePrefix("49.36.0.0/16"), "IN", 2},
	{netip.MustParsePrefix("122.160.0.0/16"), "IN", 2},
	{netip.MustParsePrefix("189.6.0.0/16"), "BR", 3},
	{netip.MustParsePrefix("191.180.0.0/16"), "BR", 2},
	{netip.MustParsePrefix("113.170.0.0/16"), "VN", 3},
	{netip.MustParsePrefix("14.160.0.0/16"), "VN", 2},
	{netip.MustParsePrefix("175.200.0.0/16"), "KR", 2},
	{netip.MustParsePrefix("121.180.0.0/16"), "KR", 2},
	{netip.MustParsePrefix("84.150.0.0/16"), "DE", 3},
	{netip.MustParsePrefix("91.0.0.0/16"), "DE", 2},
	{netip.MustParsePrefix("77.160.0.0/16"), "NL", 3},
	{netip.MustParsePrefix("90.12.0.0/16"), "FR", 2},
	{netip.MustParsePrefix("82.64.0.0/16"), "FR", 2},
	{netip.MustParsePrefix("81.130.0.0/16"), "GB", 2},
	{netip.MustParsePrefix("62.30.0.0/16"), "GB", 1},
	{netip.MustParsePrefix("36.70.0.0/16"), "ID", 2},
	{netip.MustParsePrefix("125.160.0.0/16"), "ID", 1},
	{netip.MustParsePrefix("78.170.0.0/16"), "TR", 2},
	{netip.MustParsePrefix("46.100.0.0/16"), "IR", 2},
	{netip.MustParsePrefix("126.10.0.0/16"), "JP", 1},
	{netip.MustParsePrefix("70.26.0.0/16"), "CA", 1},
	{netip.MustParsePrefix("1.130.0.0/16"), "AU", 1},
	{netip.MustParsePrefix("83.10.0.0/16"), "PL", 1},
	{netip.MustParsePrefix("79.10.0.0/16"), "IT", 1},
	{netip.MustParsePrefix("83.40.0.0/16"), "ES", 1},
	{netip.MustParsePrefix("187.140.0.0/16"), "MX", 1},
	{netip.MustParsePrefix("186.10.0.0/16"), "CL", 1},
	{netip.MustParsePrefix("178.120.0.0/16"), "BY", 1},
	{netip.MustParsePrefix("41.200.0.0/16"), "DZ", 1},
	{netip.MustParsePrefix("105.230.0.0/16"), "KE", 1},
	{netip.MustParsePrefix("240e:300::/32"), "CN", 3},
	{netip.MustParsePrefix("2601:40::/32"), "US", 2},
	{netip.MustParsePrefix("2003:e0::/32"), "DE", 1},
	{netip.MustParsePrefix("2a01:cb00::/32"), "FR", 1},
	{netip.MustParsePrefix("2a00:23c0::/32"), "GB", 1},
	{netip.MustParsePrefix("2a00:1fa0::/32"), "RU", 1},
	{netip.MustParsePrefix("2402:800::/32"), "VN", 1},
	{netip.MustParsePrefix("2a02:ff0::/32"), "TR", 1},
	{netip.MustParsePrefix("2401:4900::/32"), "IN", 1},
	{netip.MustParsePrefix("240b:10::/32"), "JP", 1},
	{netip.MustParsePrefix("2001:56a::/32"), "CA", 1},
	{netip.MustParsePrefix("2406:3003::/32"), "SG", 1},
	{netip.MustParsePrefix("2800:810::/32"), "AR", 1},
}

// Pool sizes: enough distinct attackers for weeks of history, few enough
// that some come back again and again (and meet the recidive jail).
const (
	poolV4    = 480
	poolV6    = 60
	offenders = 16             // the first addresses of the pool attack most often
	poolSeed  = 0x62616e677569 // "bangui": every demo has the same attackers
)

// Pool is the demo's fixed set of attacker addresses, drawn from Networks.
// It is the same on every run, so a reused demo sees old attackers return.
type Pool struct {
	V4 []netip.Addr // IPv4 attackers, repeat offenders first
	V6 []netip.Addr // IPv6 attackers
	// All interleaves V4 and V6 (about one address in nine is IPv6), repeat
	// offenders first; the live traffic draws from it.
	All []netip.Addr
	// Country maps every address to the country of its network.
	Country map[netip.Addr]string
}

// NewPool returns the demo's attacker pool.
func NewPool() *Pool {
	rng := rand.New(rand.NewPCG(poolSeed, 1))
	var v4, v6 []Network
	w4, w6 := 0, 0
	for _, n := range Networks {
		if n.Prefix.Addr().Is4() {
			v4, w4 = append(v4, n), w4+n.Weight
		} else {
			v6, w6 = append(v6, n), w6+n.Weight
		}
	}
	p := &Pool{Country: make(map[netip.Addr]string, poolV4+poolV6)}
	for len(p.V4) < poolV4 {
		n := pick(rng, v4, w4)
		if a := hostIn(rng, n.Prefix); p.Country[a] == "" {
			p.Country[a] = n.Country
			p.V4 = append(p.V4, a)
		}
	}
	for len(p.V6) < poolV6 {
		n := pick(rng, v6, w6)
		if a := hostIn(rng, n.Prefix); p.Country[a] == "" {
			p.Country[a] = n.Country
			p.V6 = append(p.V6, a)
		}
	}
	for i := range max(len(p.V4), len(p.V6)) {
		if i < len(p.V4) {
			p.All = append(p.All, p.V4[i])
		}
		if i%8 == 3 && i/8 < len(p.V6) {
			p.All = append(p.All, p.V6[i/8])
		}
	}
	return p
}

func pick(rng *rand.Rand, ns []Network, total int) Network {
	n := rng.IntN(total)
	for _, x := range ns {
		if n < x.Weight {
			return x
		}
		n -= x.Weight
	}
	return ns[len(ns)-1]
}

// hostIn returns a random host address in p: for IPv4 a host of the /16
// (never .0 or .255), for IPv6 a host in a random /64 of the /32, half
// the time with a small interface identifier, as attackers often have.
func hostIn(rng *rand.Rand, p netip.Prefix) netip.Addr {
	if p.Addr().Is4() {
		b := p.Addr().As4()
		b[2] = byte(rng.UintN(256))
		b[3] = byte(1 + rng.IntN(254))
		return netip.AddrFrom4(b)
	}
	b := p.Addr().As16()
	for i := 4; i < 8; i++ {
		b[i] = byte(rng.UintN(256))
	}
	if rng.IntN(2) == 0 {
		b[15] = byte(1 + rng.IntN(254))
	} else {
		for i := 8; i < 16; i++ {
			b[i] = byte(rng.UintN(256))
		}
	}
	return netip.AddrFrom16(b)
}
