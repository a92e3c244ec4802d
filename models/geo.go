package models

import (
	"time"

	"bangui/lang"
)

// GeoInfo is what BanGUI knows about where an IP address is. A zero
// CountryCode means the country is unknown; Special is set instead for
// addresses that belong to no country (private, loopback, documentation…).
type GeoInfo struct {
	IP          string
	CountryCode string // ISO 3166-1 alpha-2, upper case; "" when unknown
	CountryName string // English name; "" when unknown
	ASN         uint   // autonomous system number; 0 when unknown
	Org         string // organisation owning the ASN; "" when unknown
	Special     string // one of the GeoSpecial… values for non-public ranges; "" otherwise
}

// Known reports whether the country is known.
func (g GeoInfo) Known() bool { return g.CountryCode != "" }

// Kinds of non-public address ranges, answered without a database lookup.
const (
	GeoPrivate       = "private"       // RFC 1918, IPv6 unique local
	GeoShared        = "shared"        // carrier-grade NAT, 100.64.0.0/10
	GeoLoopback      = "loopback"      // 127.0.0.0/8, ::1
	GeoLinkLocal     = "link-local"    // 169.254.0.0/16, fe80::/10
	GeoMulticast     = "multicast"     // 224.0.0.0/4, ff00::/8
	GeoDocumentation = "documentation" // TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20
	GeoBenchmarking  = "benchmarking"  // 198.18.0.0/15
	GeoUnspecified   = "unspecified"   // 0.0.0.0, ::
	GeoReserved      = "reserved"      // anything else outside the public unicast space
)

// GeoSpecialLabel is the human wording of a GeoSpecial… value.
func GeoSpecialLabel(special string) lang.Message {
	switch special {
	case GeoPrivate:
		return lang.M("live.geo_private")
	case GeoShared:
		return lang.M("live.geo_shared")
	case GeoLoopback:
		return lang.M("live.geo_loopback")
	case GeoLinkLocal:
		return lang.M("live.geo_link_local")
	case GeoMulticast:
		return lang.M("live.geo_multicast")
	case GeoDocumentation:
		return lang.M("live.geo_documentation")
	case GeoBenchmarking:
		return lang.M("live.geo_benchmarking")
	case GeoUnspecified:
		return lang.M("live.geo_unspecified")
	case GeoReserved:
		return lang.M("live.geo_reserved")
	}
	return lang.Raw(special) // a value of a newer geo database, as it came
}

// CountryCount is how many ban events came from one country. An empty Code
// counts the events whose country is unknown.
type CountryCount struct {
	Code  string
	Count int64
}

// CountryShape is one country's outline on the world map, in the map's
// coordinates.
type CountryShape struct {
	Code   string  // ISO 3166-1 alpha-2, upper case
	Name   string  // English name
	Path   string  // SVG path data
	LabelX float64 // where a count label goes
	LabelY float64
}

// WorldMap is the vendored outline of the world's countries.
type WorldMap struct {
	Width, Height float64 // the SVG view box: 0 0 Width Height
	Countries     []CountryShape
}

// MapThresholds colour the world map: a country with at least High bans gets
// the darkest colour, Medium and Low the middle ones, with colours
// interpolated in between. Low < Medium < High.
type MapThresholds struct {
	Low, Medium, High int64
}

// DefaultMapThresholds are the colour thresholds before anyone changes them.
var DefaultMapThresholds = MapThresholds{Low: 20, Medium: 50, High: 100}

// GeoDBStatus describes one configured geo database file.
type GeoDBStatus struct {
	Path   string
	Loaded bool
	Type   string    // database type from its metadata
	Built  time.Time // build time from its metadata; zero when unknown
	Error  string    // why an existing file could not be used
}

// GeoStatus is where BanGUI's country answers come from.
type GeoStatus struct {
	Country GeoDBStatus
	ASN     GeoDBStatus
	Online  bool // addresses unknown locally are sent to an online service
}
