package fleet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/agent/agenttest"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/repo"
	"bangui/services"
	"bangui/services/fleet"
)

// TestUnbanThroughAgentKeepsMatchedLines bans attackers from failed logins
// on a real fail2ban behind a real agent and unbans them from the panel as
// soon as fail2ban wrote each ban, before any archive sync: the archive
// holds each ban with its matched lines, read through the agent, and a
// later sync doubles nothing. It logs what archiving first cost beside the
// unban over the agent.
func TestUnbanThroughAgentKeepsMatchedLines(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 2})
	addr, dataDir := agenttest.FreeAddr(t), filepath.Join(t.TempDir(), "agent")
	ag := agenttest.Start(t, bin.Path(t), sb, addr, dataDir)
	p := newPanel(t)
	ctx := context.Background()
	in, err := p.fleet.Probe(ctx, fleet.EnrollInput{Name: "Edge", URL: ag.URL, Token: ag.Token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.fleet.Enroll(ctx, in); err != nil {
		t.Fatalf("enrol: %v\n%s", err, ag.Log())
	}
	db, err := repo.Open(ctx, repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	archive := repo.NewHistoryArchive(db)
	sync := services.NewArchiveSync(services.NewBanSources(p.reg, archive), repo.NewSettingsStore(db))
	jails := services.NewJails(p.reg, p.status, archive)
	jails.Preserver = sync
	remote, err := p.reg.Get("edge")
	if err != nil {
		t.Fatal(err)
	}

	// ban makes fail2ban ban ip from failed logins and waits until the
	// agent serves the ban's row with its matched lines.
	ban := func(ip string) {
		t.Helper()
		f, err := os.OpenFile(sb.LogPath("sshd"), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().Format(time.Stamp)
		for i := range 2 {
			fmt.Fprintf(f, "%s testhost sshd[%d]: Failed password for root from %s port %d ssh2\n", now, 1000+i, ip, 40000+i)
		}
		f.Close()
		for deadline := time.Now().Add(20 * time.Second); ; {
			src, err := remote.BanRows(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := src.NewRowsSince(ctx, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(rows, func(r repo.F2BRow) bool { return r.IP == ip && strings.Contains(r.Data, "Failed password") }) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the agent does not serve the ban of %s within 20 s", ip)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	kept := func(ip string) int {
		t.Helper()
		events, err := archive.RecentOfIP(ctx, "edge", ip, 10)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.Action == repo.ActionBan && len(e.Matches) == 2 && strings.Contains(e.Matches[0], "Failed password for root from "+ip) {
				n++
			}
		}
		return n
	}

	ban("192.0.2.71")
	if _, err := jails.Unban(ctx, "edge", "sshd", []string{"192.0.2.71"}); err != nil {
		t.Fatal(err)
	}
	if n := kept("192.0.2.71"); n != 1 {
		t.Fatalf("the archive holds %d bans of 192.0.2.71 with their matched lines, want 1", n)
	}
	ban("192.0.2.72")
	if _, err := jails.UnbanAll(ctx, "edge"); err != nil {
		t.Fatal(err)
	}
	if n := kept("192.0.2.72"); n != 1 {
		t.Fatalf("unban all: the archive holds %d bans of 192.0.2.72 with their matched lines, want 1", n)
	}
	_, _ = sync.Run(ctx) // the local host has no fail2ban here: its part fails
	for _, ip := range []string{"192.0.2.71", "192.0.2.72"} {
		if n := kept(ip); n != 1 {
			t.Fatalf("after a later sync the archive holds %d bans of %s, want 1", n, ip)
		}
	}

	// What archiving first costs beside the unban, through the agent.
	var preserve, unban time.Duration
	const rounds = 5
	for i := range rounds {
		ip := fmt.Sprintf("192.0.2.%d", 80+i)
		ban(ip)
		t0 := time.Now()
		if _, err := sync.Preserve(ctx, "edge"); err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		if _, err := remote.Unban(ctx, "sshd", ip); err != nil {
			t.Fatal(err)
		}
		preserve, unban = preserve+t1.Sub(t0), unban+time.Since(t1)
	}
	t.Logf("through the agent, per unban: archive first %s, the unban itself %s", preserve/rounds, unban/rounds)
}
