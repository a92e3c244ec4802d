package config

import (
	"bytes"
	"strings"
	"testing"
)

func TestPublicURL(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string // PublicURL, or the start of the error
	}{
		{nil, nil, ""},
		{[]string{"--base-path", "/bangui/", "--public-url", "https://Panel.Example/bangui/"}, nil, "https://panel.example/bangui"},
		{[]string{"--base-path", "/bangui"}, map[string]string{"BANGUI_PUBLIC_URL": "https://panel.example:8443/bangui"}, "https://panel.example:8443/bangui"},
		{[]string{"--public-url", "https://panel.example"}, nil, "https://panel.example"},
		{[]string{"--public-url", "http://localhost:8080/"}, nil, "http://localhost:8080"},
		{[]string{"--public-url", "http://panel.example/"}, nil, "error: want https://"},
		{[]string{"--public-url", "https://panel.example/other/"}, nil, `error: its path must be the base path "/"`},
		{[]string{"--base-path", "/bangui/", "--public-url", "https://panel.example/"}, nil, `error: its path must be the base path "/bangui/"`},
		{[]string{"--public-url", "panel.example"}, nil, "error: want an address"},
		{[]string{"--public-url", "https://user@panel.example/"}, nil, "error: want an address"},
		{[]string{"--public-url", "https://panel.example/?x=1"}, nil, "error: want an address"},
	} {
		cfg, err := Load(tc.args, env(tc.env), &bytes.Buffer{})
		if want, isErr := strings.CutPrefix(tc.want, "error: "); isErr {
			if err == nil || !strings.Contains(err.Error(), "public-url") && !strings.Contains(err.Error(), "PUBLIC_URL") || !strings.Contains(err.Error(), want) {
				t.Errorf("%v: err %v, want one naming the setting and saying %q", tc.args, err, want)
			}
			continue
		}
		if err != nil || cfg.PublicURL != tc.want {
			t.Errorf("%v %v: PublicURL %q, %v; want %q", tc.args, tc.env, cfg.PublicURL, err, tc.want)
		}
	}
}
