package views

import (
	"context"
	"fmt"
	"strings"

	"bangui/assets"
	"bangui/lang"
	"bangui/models"
)

// flagSrc is the URL of the flag image of an ISO 3166-1 alpha-2 code,
// or "" when the panel has no flag for it.
func flagSrc(ctx context.Context, code string) string {
	name, ok := assets.FlagFile(code)
	if !ok {
		return ""
	}
	return assetURL(ctx, name)
}

// countryName is the name to show for g: its own, the vendored table's, or the code.
func countryName(ctx context.Context, g models.GeoInfo) string {
	english := g.CountryName
	if english == "" {
		english = models.CountryName(g.CountryCode)
	}
	if english == "" {
		return g.CountryCode
	}
	return lang.Country(ctx, g.CountryCode, english)
}

// GeoOf is the GeoInfo of a bare country code (as the archive stores it),
// for CountryCell.
func GeoOf(code string) models.GeoInfo {
	return models.GeoInfo{CountryCode: code, CountryName: models.CountryName(code)}
}

// geoOf returns the answer for ip from a lookup map (unknown when absent).
func geoOf(m map[string]models.GeoInfo, ip string) models.GeoInfo {
	if g, ok := m[ip]; ok {
		return g
	}
	return models.GeoInfo{IP: ip}
}

// asnText is "AS15169 Google LLC", or "" when unknown.
func asnText(g models.GeoInfo) string {
	if g.ASN == 0 {
		return g.Org
	}
	return strings.TrimSpace(fmt.Sprintf("AS%d %s", g.ASN, g.Org))
}
