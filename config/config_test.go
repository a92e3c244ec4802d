package config

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	cfg, err := Load(nil, env(nil), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.BasePath != "" || cfg.DataDir != "data" ||
		cfg.Socket != "/var/run/fail2ban/fail2ban.sock" || cfg.ConfigDir != "/etc/fail2ban" ||
		cfg.ClientPath != "fail2ban-client" || len(cfg.TrustedProxies) != 2 {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestFlagsBeatEnvironmentBeatsDefaults(t *testing.T) {
	e := env(map[string]string{"BANGUI_LISTEN": "127.0.0.1:9000", "BANGUI_BASE_PATH": "/env/", "BANGUI_DATA_DIR": "/tmp/envdata"})
	cfg, err := Load([]string{"--base-path", "/bangui/"}, e, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9000" || cfg.BasePath != "/bangui" || cfg.DataDir != "/tmp/envdata" {
		t.Fatalf("precedence: %+v", cfg)
	}
}

func TestInvalidValuesNameTheSetting(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--listen", "8080"}, nil, "--listen"},
		{nil, map[string]string{"BANGUI_LISTEN": "nonsense"}, "BANGUI_LISTEN"},
		{[]string{"--base-path", "/a/../b"}, nil, "--base-path"},
		{[]string{"--socket", "relative.sock"}, nil, "--socket"},
		{[]string{"--config-dir", "etc"}, nil, "--config-dir"},
		{[]string{"--trusted-proxies", "10.0.0.0/8,bogus"}, nil, "--trusted-proxies"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{nil, map[string]string{"BANGUI_SHUTDOWN_GRACE": "-1s"}, "BANGUI_SHUTDOWN_GRACE"},
		{[]string{"stray"}, nil, "unexpected argument"},
	} {
		_, err := Load(tc.args, env(tc.env), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: err %v, want it to name %s", tc.args, tc.env, err, tc.want)
		}
	}
}

func TestHelpListsEverySettingWithDefaults(t *testing.T) {
	var out bytes.Buffer
	_, err := Load([]string{"--help"}, env(nil), &out)
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, s := range settings() {
		if !strings.Contains(out.String(), "-"+s.name) || !strings.Contains(out.String(), EnvName(s.name)) {
			t.Errorf("--help does not list %s / %s", s.name, EnvName(s.name))
		}
	}
	if !strings.Contains(out.String(), `(default "127.0.0.1:8080")`) {
		t.Error("--help does not show defaults")
	}
}

func TestNormalizeBasePath(t *testing.T) {
	for in, want := range map[string]string{"/": "", "": "", "bangui": "/bangui", "/bangui/": "/bangui", "/a/b/": "/a/b"} {
		if got, err := NormalizeBasePath(in); err != nil || got != want {
			t.Errorf("NormalizeBasePath(%q) = %q, %v", in, got, err)
		}
	}
}

// TestDatabaseURL checks --database / BANGUI_DATABASE: SQLite in the data
// dir by default, a postgres:// URL passed on as given, anything else
// refused without repeating the value (it may hold a password).
func TestDatabaseURL(t *testing.T) {
	cfg, err := Load(nil, env(map[string]string{"BANGUI_DATABASE": "postgres://bangui:s3cret@db:5432/bangui?sslmode=verify-full"}), &bytes.Buffer{})
	if err != nil || cfg.Database != "postgres://bangui:s3cret@db:5432/bangui?sslmode=verify-full" {
		t.Fatalf("env: %q, %v", cfg.Database, err)
	}
	for _, v := range []string{"", "sqlite:", "postgresql:///bangui?host=/run/postgresql"} {
		cfg, err := Load([]string{"--database", v}, env(nil), &bytes.Buffer{})
		if err != nil || cfg.Database != v {
			t.Errorf("--database %q: %q, %v", v, cfg.Database, err)
		}
	}
	_, err = Load([]string{"--database", "mysql://bangui:s3cret@db/bangui"}, env(nil), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--database") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("mysql URL: %v, want an error naming --database without the password", err)
	}
	var out bytes.Buffer
	Load([]string{"--help"}, env(nil), &out)
	if !strings.Contains(out.String(), "postgres://") || !strings.Contains(out.String(), "SQLite") {
		t.Errorf("help does not name SQLite and postgres://:\n%s", out.String())
	}
}

// Metrics are off by default; --metrics-listen and --metrics-token, or
// their BANGUI_ twins, turn them on; bad values are refused with a message
// that never repeats the token.
func TestMetricsSettings(t *testing.T) {
	cfg, err := Load(nil, env(nil), &bytes.Buffer{})
	if err != nil || cfg.MetricsOn() || cfg.MetricsListen != "" || cfg.MetricsToken != "" {
		t.Fatalf("defaults: %+v %v; want metrics off", cfg, err)
	}
	const tok = "0123456789abcdef0123"
	cfg, err = Load(nil, env(map[string]string{"BANGUI_METRICS_LISTEN": "127.0.0.1:9810", "BANGUI_METRICS_TOKEN": tok}), &bytes.Buffer{})
	if err != nil || !cfg.MetricsOn() || cfg.MetricsListen != "127.0.0.1:9810" || cfg.MetricsToken != tok {
		t.Fatalf("environment: %+v %v", cfg, err)
	}
	cfg, err = Load([]string{"--metrics-token", tok}, env(nil), &bytes.Buffer{})
	if err != nil || !cfg.MetricsOn() || cfg.MetricsListen != "" {
		t.Fatalf("--metrics-token alone: %+v %v", cfg, err)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--metrics-listen", "9810"}, nil, "--metrics-listen"},
		{[]string{"--metrics-listen", "127.0.0.1:8080"}, nil, "must differ from --listen"},
		{nil, map[string]string{"BANGUI_METRICS_TOKEN": "short-secret"}, "BANGUI_METRICS_TOKEN"},
		{[]string{"--metrics-token", "a secret with spaces"}, nil, "--metrics-token"},
	} {
		var out bytes.Buffer
		_, err := Load(tc.args, env(tc.env), &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: err %v, want it to say %s", tc.args, tc.env, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "short-secret") || strings.Contains(err.Error(), "with spaces") {
			t.Errorf("the error repeats the token: %v", err)
		}
	}
}
