// Package geotest writes small MaxMind DB files with known answers, for the
// tests of every package that resolves countries (no downloaded database is
// needed).
package geotest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Layout is the record layout of a country database.
type Layout int

// Country database layouts.
const (
	// IPLocationDB is ip-location-db's layout: {"country_code": "DE"}.
	IPLocationDB Layout = iota
	// GeoLite2 is MaxMind's layout: {"country": {"iso_code": "DE", "names": {...}}}.
	GeoLite2
)

// Countries are the networks of the standard fixture and their countries:
// IPv4 and IPv6 from several countries.
var Countries = map[string]string{
	"1.1.1.0/24":          "AU",
	"8.8.8.0/24":          "US",
	"81.2.69.0/24":        "GB",
	"89.160.20.0/24":      "SE",
	"193.99.144.0/24":     "DE",
	"202.196.224.0/20":    "PH",
	"2a00:1450::/32":      "IE",
	"2001:4860::/32":      "US",
	"2a02:2e0::/32":       "DE",
	"2400:cb00::/32":      "JP",
	"5.255.255.0/24":      "RU",
	"41.0.0.0/11":         "ZA",
	"177.0.0.0/10":        "BR",
	"2804::/16":           "BR",
	"196.200.0.0/16":      "MA",
	"213.180.192.0/19":    "FI",
	"200.160.0.0/20":      "BR",
	"45.0.0.0/24":         "CA",
	"114.114.114.0/24":    "CN",
	"2001:250::/30":       "CN",
	"94.100.180.0/22":     "NL",
	"62.210.0.0/16":       "FR",
	"185.199.108.0/22":    "NL",
	"103.21.244.0/22":     "IN",
	"91.198.174.0/24":     "NL",
	"217.160.0.0/16":      "DE",
	"2a01:4f8::/29":       "DE",
	"151.101.0.0/16":      "US",
	"46.4.0.0/16":         "DE",
	"176.9.0.0/16":        "DE",
	"23.0.0.0/12":         "US",
	"2606:4700::/32":      "US",
	"2c0f:f000::/20":      "ZA",
	"212.58.224.0/19":     "GB",
	"2a04:4e42::/32":      "GB",
	"190.0.0.0/12":        "AR",
	"201.0.0.0/12":        "MX",
	"2001:1288::/32":      "AR",
	"77.88.0.0/18":        "RU",
	"2a02:6b8::/32":       "RU",
	"110.0.0.0/12":        "KR",
	"2400:8900::/31":      "SG",
	"2001:4c08::/32":      "PL",
	"185.15.56.0/22":      "PL",
	"2c0f:fb50::/32":      "KE",
	"105.0.0.0/12":        "KE",
	"197.0.0.0/12":        "EG",
	"2001:df0::/32":       "AU",
	"175.45.176.0/22":     "KP",
	"2a0a:e5c0::/29":      "CH",
	"2001:620::/32":       "CH",
	"130.59.0.0/16":       "CH",
	"2001:67c:2e8::/48":   "NL",
	"2001:7fd::/32":       "SE",
	"2001:500::/30":       "US",
	"2620:fe::/48":        "US",
	"2001:4ba0::/32":      "DE",
	"2a03:2880::/32":      "IE",
	"157.240.0.0/16":      "IE",
	"2400:6180::/32":      "SG",
	"2604:a880::/32":      "US",
	"2a03:b0c0::/32":      "NL",
	"2001:41d0::/32":      "FR",
	"2001:bc8::/32":       "FR",
	"2a00:1098::/32":      "GB",
	"2a05:d000::/25":      "IE",
	"2406:da00::/24":      "JP",
	"2a01:111::/32":       "US",
	"2603:1000::/24":      "US",
	"2001:4998::/32":      "US",
	"2404:6800::/32":      "AU",
	"2001:4860:4860::/48": "US",
}

// ASNs are the ASN fixture's networks.
var ASNs = map[string]ASN{
	"8.8.8.0/24":      {15169, "GOOGLE"},
	"193.99.144.0/24": {12306, "Plus.line AG"},
	"2a00:1450::/32":  {15169, "GOOGLE"},
}

// ASN is one autonomous system.
type ASN struct {
	Number uint32
	Org    string
}

// WriteCountryDB writes a country database that maps each CIDR network in
// nets to its ISO code, in the given layout.
func WriteCountryDB(path string, nets map[string]string, layout Layout) error {
	typ := "ipinfo-country"
	if layout == GeoLite2 {
		typ = "GeoLite2-Country"
	}
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: typ, RecordSize: 24, Languages: []string{"en"}})
	if err != nil {
		return err
	}
	for cidr, code := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return fmt.Errorf("geotest: %w", err)
		}
		rec := mmdbtype.Map{"country_code": mmdbtype.String(code)}
		if layout == GeoLite2 {
			rec = mmdbtype.Map{
				"country":            mmdbtype.Map{"iso_code": mmdbtype.String(code), "names": mmdbtype.Map{"en": mmdbtype.String(code + " (GeoLite2)")}},
				"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String(code)},
			}
		}
		if err := w.Insert(n, rec); err != nil {
			return fmt.Errorf("geotest: insert %s: %w", cidr, err)
		}
	}
	return write(path, w)
}

// WriteASNDB writes a GeoLite2-ASN compatible database.
func WriteASNDB(path string, nets map[string]ASN) error {
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", RecordSize: 24})
	if err != nil {
		return err
	}
	for cidr, a := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return fmt.Errorf("geotest: %w", err)
		}
		rec := mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(a.Number),
			"autonomous_system_organization": mmdbtype.String(a.Org)}
		if err := w.Insert(n, rec); err != nil {
			return fmt.Errorf("geotest: insert %s: %w", cidr, err)
		}
	}
	return write(path, w)
}

// write writes the tree to a temporary file and renames it into place, as
// the fetch script does, so a reader never sees half a file.
func write(path string, w *mmdbwriter.Tree) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mmdb-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := w.WriteTo(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// CountryDB writes the standard fixture (Countries, ip-location-db layout)
// into a temporary directory and returns its path.
func CountryDB(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "country.mmdb")
	if err := WriteCountryDB(path, Countries, IPLocationDB); err != nil {
		t.Fatal(err)
	}
	return path
}

// ASNDB writes the ASN fixture into a temporary directory and returns its path.
func ASNDB(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "asn.mmdb")
	if err := WriteASNDB(path, ASNs); err != nil {
		t.Fatal(err)
	}
	return path
}
