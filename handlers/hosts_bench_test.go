package handlers

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"bangui/agent/agenttest"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/models"
	"bangui/repo"
	"bangui/services/fleet"
)

// BenchmarkHostsPage20 renders /hosts with the local host and 19 remote
// hosts: BANGUI_BENCH_AGENTS (default 3) real agents, each on its own
// fail2ban sandbox, enrolled through the fleet service, and the rest
// hosts whose agents do not answer (their port is closed). The page reads
// the hosts table and the status probe's cache and asks no host, so a
// dead agent costs it nothing. Reports the median request time.
func BenchmarkHostsPage20(b *testing.B) {
	a, br, _ := loggedInWithFail2banTB(b)
	ctx := context.Background()
	agents := 3
	if n, err := strconv.Atoi(os.Getenv("BANGUI_BENCH_AGENTS")); err == nil && n >= 0 && n <= 19 {
		agents = n
	}
	for i := range agents {
		sb := sandboxtest.Start(b, sandbox.Jail{Name: "sshd", MaxRetry: 5})
		ag := agenttest.Start(b, agentBin.Path(b), sb, "127.0.0.1:0", filepath.Join(b.TempDir(), "agent"))
		in, err := a.s.fleet.Probe(ctx, fleet.EnrollInput{Name: fmt.Sprintf("Agent %d", i), URL: ag.URL, Token: ag.Token})
		if err == nil {
			_, err = a.s.fleet.Enroll(ctx, in)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now
	store := repo.NewHostStore(a.db)
	for i := range 19 - agents {
		h := models.RemoteHost{ID: fmt.Sprintf("web-%02d", i), Name: fmt.Sprintf("Web server %d", i),
			URL: "https://" + dead, Fingerprint: fakeFingerprint(i), Credential: "not-a-real-credential", Enabled: true}
		if err := store.Create(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.s.fleet.Load(ctx); err != nil {
		b.Fatal(err)
	}
	a.s.status.Refresh(ctx) // every remote host offline, with its reason
	rec := br.get("/hosts")
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d", rec.Code)
	}
	doc := parse(b, rec)
	if n := doc.Find(`table[data-testid="hosts-table"] tbody tr[data-host]`).Length(); n != 20 {
		b.Fatalf("%d rows, want 20", n)
	}
	if n := doc.Find(`[data-testid="host-state"]:contains("Online")`).Length(); n != 1+agents {
		b.Fatalf("%d hosts online, want %d", n, 1+agents)
	}
	if agents < 19 {
		if st := doc.Find(`tr[data-host="web-00"] [data-testid="host-state"]`).Text(); st != "Offline" {
			b.Fatalf("a dead agent's host is %q", st)
		}
	}
	benchGET(b, br, "/hosts", nil)
}

// fakeFingerprint is a SHA-256 fingerprint's shape, distinct per i.
func fakeFingerprint(i int) string {
	s := fmt.Sprintf("%02X", i)
	for range 31 {
		s += ":AB"
	}
	return s
}
