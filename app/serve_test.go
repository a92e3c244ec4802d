package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"bangui/agent/agenttest"
)

// get returns the status and body of a GET, with an optional bearer token.
func get(url, token string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// --metrics-listen serves the metrics on a listener of their own, started
// and shut down with the panel; the panel's address does not serve them
// without a token, and with --metrics-token the listener asks for it too.
func TestServeStartsAndStopsMetricsListener(t *testing.T) {
	for _, token := range []string{"", "listener-token-0123456789"} {
		cfg := testConfig(t)
		cfg.Listen, cfg.MetricsListen, cfg.MetricsToken, cfg.ShutdownGrace = agenttest.FreeAddr(t), agenttest.FreeAddr(t), token, 5*time.Second
		cfg.ArchiveEvery = time.Hour
		a, err := Build(context.Background(), cfg, quiet())
		if err != nil {
			t.Fatal(err)
		}
		panel := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
		ctx, stop := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- a.Serve(ctx, panel) }()

		metricsURL := "http://" + cfg.MetricsListen + "/metrics"
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, body, err := get(metricsURL, token)
			if err == nil && code == http.StatusOK && strings.Contains(body, `bangui_build_info{version="test"} 1`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("token %q: metrics listener: %d %v %.200s", token, code, err, body)
			}
			time.Sleep(50 * time.Millisecond) // polling interval, not a wait for an outcome
		}
		if code, _, err := get("http://"+cfg.MetricsListen+"/", token); err != nil || code != http.StatusNotFound {
			t.Errorf("token %q: / on the metrics listener: %d %v, want 404", token, code, err)
		}
		if token != "" {
			if code, _, err := get(metricsURL, ""); err != nil || code != http.StatusUnauthorized {
				t.Errorf("metrics listener without the token: %d %v, want 401", code, err)
			}
		}
		// The panel's own listener may start after the metrics one: poll
		// until it answers, then it must leave /metrics to its handler.
		for {
			code, _, err := get("http://"+cfg.Listen+"/metrics", token)
			if err == nil {
				if code != http.StatusNotFound {
					t.Errorf("token %q: the panel's handler got /metrics: %d", token, code)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("token %q: the panel does not answer: %v", token, err)
			}
			time.Sleep(50 * time.Millisecond) // polling interval, not a wait for an outcome
		}

		stop()
		select {
		case err := <-served:
			if err != nil {
				t.Fatalf("Serve = %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Serve did not return after its context ended")
		}
		if _, _, err := get(metricsURL, token); err == nil {
			t.Errorf("token %q: the metrics listener still answers after shutdown", token)
		}
		a.Close()
	}
}

// A metrics address that is taken stops Serve with an error naming it.
func TestServeFailsWhenMetricsAddressIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(t)
	cfg.Listen, cfg.MetricsListen, cfg.ShutdownGrace = agenttest.FreeAddr(t), ln.Addr().String(), time.Second
	cfg.ArchiveEvery = time.Hour
	a, err := Build(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	served := make(chan error, 1)
	go func() { served <- a.Serve(context.Background(), http.NotFoundHandler()) }()
	select {
	case err := <-served:
		if err == nil || !strings.Contains(err.Error(), "metrics") || !strings.Contains(err.Error(), ln.Addr().String()) {
			t.Fatalf("Serve = %v, want an error about the metrics address", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve kept running with its metrics address taken")
	}
}
