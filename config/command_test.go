package config

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestHelpListsBothUsages(t *testing.T) {
	var out bytes.Buffer
	if _, err := Load([]string{"--help"}, func(string) string { return "" }, &out); !errors.Is(err, ErrHelp) {
		t.Fatalf("err = %v, want ErrHelp", err)
	}
	for _, want := range []string{"Usage: bangui [flags]", "bangui demo [flags]", "-listen"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLoadCommand(t *testing.T) {
	var out bytes.Buffer
	var extra *int
	cmd := Command{
		Name:     "demo",
		About:    "About the demo.",
		Defaults: map[string]string{"data-dir": "./data/demo"},
		Flags:    func(fs *flag.FlagSet) { extra = fs.Int("extra", 1, "an own flag") },
	}
	cfg, err := LoadCommand(cmd, []string{"--extra", "5"}, func(string) string { return "" }, &out)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "data/demo" || *extra != 5 || cfg.Listen != "127.0.0.1:8080" {
		t.Errorf("data dir %q, extra %d, listen %q", cfg.DataDir, *extra, cfg.Listen)
	}
	// The environment still wins over a command's default.
	cfg, err = LoadCommand(cmd, nil, func(k string) string { return map[string]string{"BANGUI_DATA_DIR": "/d"}[k] }, &out)
	if err != nil || cfg.DataDir != "/d" {
		t.Errorf("data dir %q, %v; want /d from the environment", cfg.DataDir, err)
	}
	out.Reset()
	if _, err := LoadCommand(cmd, []string{"-h"}, func(string) string { return "" }, &out); !errors.Is(err, ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	if s := out.String(); !strings.HasPrefix(s, "Usage: bangui demo [flags]\n\nAbout the demo.\n") || !strings.Contains(s, "-extra") {
		t.Errorf("help:\n%s", s)
	}
}
