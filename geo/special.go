package geo

import (
	"net/netip"

	"bangui/models"
)

// specialRange is an address range that belongs to no country.
type specialRange struct {
	prefix netip.Prefix
	kind   string
}

// specialRanges are checked in order; the first match wins. Addresses in
// none of them but outside the public unicast space are reserved.
func specialRanges() []specialRange {
	r := func(p, kind string) specialRange { return specialRange{netip.MustParsePrefix(p), kind} }
	return []specialRange{
		r("0.0.0.0/32", models.GeoUnspecified),
		r("0.0.0.0/8", models.GeoReserved),
		r("10.0.0.0/8", models.GeoPrivate),
		r("100.64.0.0/10", models.GeoShared),
		r("127.0.0.0/8", models.GeoLoopback),
		r("169.254.0.0/16", models.GeoLinkLocal),
		r("172.16.0.0/12", models.GeoPrivate),
		r("192.0.0.0/24", models.GeoReserved),
		r("192.0.2.0/24", models.GeoDocumentation),
		r("192.88.99.0/24", models.GeoReserved),
		r("192.168.0.0/16", models.GeoPrivate),
		r("198.18.0.0/15", models.GeoBenchmarking),
		r("198.51.100.0/24", models.GeoDocumentation),
		r("203.0.113.0/24", models.GeoDocumentation),
		r("224.0.0.0/4", models.GeoMulticast),
		r("240.0.0.0/4", models.GeoReserved),
		r("::/128", models.GeoUnspecified),
		r("::1/128", models.GeoLoopback),
		r("100::/64", models.GeoReserved),
		r("2001:db8::/32", models.GeoDocumentation),
		r("3fff::/20", models.GeoDocumentation),
		r("fc00::/7", models.GeoPrivate),
		r("fe80::/10", models.GeoLinkLocal),
		r("ff00::/8", models.GeoMulticast),
	}
}

// globalUnicast6 is IPv6's public unicast space; anything else is reserved.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// Classifier answers, without any lookup, whether an address lies in a
// non-public range. It holds a fixed table and is safe for concurrent use.
type Classifier struct {
	ranges []specialRange
}

// NewClassifier returns a classifier of the IANA special-purpose ranges.
func NewClassifier() *Classifier { return &Classifier{ranges: specialRanges()} }

// Special returns the kind of non-public range a holds (a models.Geo…
// constant), or "" for a public address. IPv4-mapped IPv6 addresses are
// classified as IPv4.
func (c *Classifier) Special(a netip.Addr) string {
	a = a.Unmap()
	for _, r := range c.ranges {
		if r.prefix.Contains(a) {
			return r.kind
		}
	}
	if a.Is6() && !globalUnicast6.Contains(a) {
		return models.GeoReserved
	}
	return ""
}

// ParseIP parses an address as BanGUI stores it: a plain IPv4 or IPv6
// address, IPv4-mapped IPv6 unmapped, without zone.
func ParseIP(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap().WithZone(""), nil
}
