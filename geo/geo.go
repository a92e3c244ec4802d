// Package geo tells where IP addresses are: the Resolver interface, a local
// MaxMind-DB resolver (the default: no address leaves the host), an optional
// online resolver, a chain of resolvers, and a cache in memory and in
// BanGUI's database. Addresses in private and reserved ranges are answered
// as such without any lookup.
package geo

import (
	"context"
	"errors"

	"bangui/models"
)

// Resolver answers where IP addresses are.
//
// Lookup resolves one address. A resolver that has no country for an
// address answers a GeoInfo without country and a nil error; an error means
// the lookup itself failed (bad address, missing database, network).
//
// LookupMany resolves many addresses at once. Its map holds one definitive
// answer per distinct address it could look up, keyed by the address as
// given; when err is non-nil some addresses may be missing from the map,
// and those were not looked up (they are not known to be unknown).
type Resolver interface {
	Lookup(ctx context.Context, ip string) (models.GeoInfo, error)
	LookupMany(ctx context.Context, ips []string) (map[string]models.GeoInfo, error)
}

// Errors a resolver returns.
var (
	// ErrNoDatabase means the local country database is not there (yet).
	ErrNoDatabase = errors.New("geo: no country database")
	// ErrInvalidIP means the address could not be parsed.
	ErrInvalidIP = errors.New("geo: not an IP address")
)

// lookupOne is Lookup in terms of LookupMany.
func lookupOne(ctx context.Context, r Resolver, ip string) (models.GeoInfo, error) {
	if _, err := ParseIP(ip); err != nil {
		return models.GeoInfo{IP: ip}, ErrInvalidIP
	}
	m, err := r.LookupMany(ctx, []string{ip})
	if g, ok := m[ip]; ok {
		return g, err // the cache answers a failed lookup as unknown, with the error
	}
	if err == nil {
		err = errors.New("geo: no answer")
	}
	return models.GeoInfo{IP: ip}, err
}

// withName fills in the country name from the vendored table when the
// source gave only a code.
func withName(g models.GeoInfo) models.GeoInfo {
	if g.CountryCode != "" && g.CountryName == "" {
		g.CountryName = models.CountryName(g.CountryCode)
		if g.CountryName == "" {
			g.CountryName = g.CountryCode
		}
	}
	return g
}
