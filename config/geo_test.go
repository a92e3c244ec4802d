package config

import (
	"io"
	"path/filepath"
	"testing"
)

func TestGeoSettings(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := Load([]string{"--data-dir", "/srv/bangui"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GeoCountryDB != filepath.FromSlash("/srv/bangui/geo/geo-whois-asn-country.mmdb") ||
		cfg.GeoASNDB != filepath.FromSlash("/srv/bangui/geo/GeoLite2-ASN.mmdb") || cfg.GeoOnline != "" {
		t.Errorf("defaults: %q %q %q; want files under the data dir and no online resolver", cfg.GeoCountryDB, cfg.GeoASNDB, cfg.GeoOnline)
	}
	cfg, err = Load([]string{"--geo-country-db", "/var/lib/GeoLite2-Country.mmdb", "--geo-online", "ip-api"},
		env(map[string]string{"BANGUI_GEO_ASN_DB": "/var/lib/asn.mmdb"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GeoCountryDB != "/var/lib/GeoLite2-Country.mmdb" || cfg.GeoASNDB != "/var/lib/asn.mmdb" || cfg.GeoOnline != "http://ip-api.com/batch" {
		t.Errorf("set: %+v", cfg)
	}
	if _, err := Load([]string{"--geo-online", "yes please"}, env(nil), io.Discard); err == nil {
		t.Error("a bad --geo-online was accepted")
	}
}
