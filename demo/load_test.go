package demo_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"bangui/config"
	"bangui/demo"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoad(t *testing.T) {
	var out bytes.Buffer
	cfg, opts, err := demo.Load(nil, env(nil), &out)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "data/demo" || cfg.Listen != "127.0.0.1:8080" {
		t.Errorf("defaults: data dir %q, listen %q", cfg.DataDir, cfg.Listen)
	}
	if cfg.GeoCountryDB != "data/demo/geo/geo-whois-asn-country.mmdb" {
		t.Errorf("country database %q, want it in the demo's data dir", cfg.GeoCountryDB)
	}
	if opts.Rate != demo.DefaultRate || opts.HistoryDays != demo.DefaultHistoryDays || opts.Password != "" || opts.ServerPath != "" {
		t.Errorf("default options: %+v", opts)
	}

	e := env(map[string]string{"BANGUI_DEMO_RATE": "30", "BANGUI_DEMO_HISTORY_DAYS": "7",
		demo.PasswordEnv: "Secret-Demo-1", "BANGUI_DATA_DIR": "/srv/demo", "BANGUI_LISTEN": "127.0.0.1:9000"})
	cfg, opts, err = demo.Load([]string{"--rate", "600", "--listen", "127.0.0.1:9001"}, e, &out)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Rate != 600 || opts.HistoryDays != 7 || opts.Password != "Secret-Demo-1" {
		t.Errorf("flags over environment: %+v", opts)
	}
	if cfg.DataDir != "/srv/demo" || cfg.Listen != "127.0.0.1:9001" {
		t.Errorf("panel settings: data dir %q, listen %q", cfg.DataDir, cfg.Listen)
	}

	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--rate", "-1"}, nil, "invalid --rate"},
		{[]string{"--rate", "fast"}, nil, "invalid --rate"},
		{[]string{"--history-days", "61"}, nil, "invalid --history-days"},
		{nil, map[string]string{demo.PasswordEnv: "short"}, "invalid " + demo.PasswordEnv + ": Use at least 8 characters."},
		{[]string{"extra"}, nil, `unexpected argument "extra" (see bangui demo --help)`},
		{[]string{"--listen", "nonsense"}, nil, "invalid --listen"},
	} {
		if _, _, err := demo.Load(c.args, env(c.env), &out); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%q, %v) = %v, want %q", c.args, c.env, err, c.want)
		}
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if _, _, err := demo.Load([]string{"--help"}, env(nil), &out); !errors.Is(err, config.ErrHelp) {
		t.Fatalf("err = %v, want ErrHelp", err)
	}
	for _, want := range []string{"Usage: bangui demo [flags]", "Debian package fail2ban", "-rate", "-history-days", "-fail2ban-server", `-data-dir string`, `(default "./data/demo")`, "BANGUI_DEMO_RATE"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo --help lacks %q:\n%s", want, out.String())
		}
	}
}
