package fleet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bangui/agent"
	"bangui/agent/agenttest"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/lang"
	"bangui/repo"
	"bangui/services"
	"bangui/services/fleet"
)

// bin is the bangui binary the tests run as agents, built on first use.
var bin agenttest.Binary

func TestMain(m *testing.M) {
	code := m.Run()
	bin.Remove()
	os.Exit(code)
}

func fieldMessage(err error, field string) string {
	var verr *services.ValidationError
	if !errors.As(err, &verr) {
		return ""
	}
	return strings.Join(verr.In(lang.Get("en"))[field], " ")
}

// The whole life of a host with a real agent on a real fail2ban: enrol
// (a wrong token and a reused one refused with a clear message), rename,
// disable and enable, a changed certificate that stops the host until it
// is accepted, removal that revokes the credential.
func TestHostLifeWithRealAgent(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
	addr, dataDir := agenttest.FreeAddr(t), filepath.Join(t.TempDir(), "agent")
	ag := agenttest.Start(t, bin.Path(t), sb, addr, dataDir)
	p := newPanel(t)
	ctx := context.Background()

	// Step 1: the fingerprint the panel sees is the one the agent printed.
	in, err := p.fleet.Probe(ctx, fleet.EnrollInput{Name: "Edge 1", URL: ag.URL, Token: ag.Token})
	if err != nil || in.Fingerprint != ag.Fingerprint || in.ID != "edge-1" {
		t.Fatalf("probe: %+v, %v; the agent printed %q", in, err, ag.Fingerprint)
	}
	// A wrong token is refused by the agent, clearly, and nothing is stored.
	bad := in
	bad.Token = "AAAAA-AAAAA-AAAAA-AAAAA"
	if _, err := p.fleet.Enroll(ctx, bad); !strings.Contains(fieldMessage(err, "token"), "refused this enrolment token") {
		t.Fatalf("wrong token: %v", err)
	}
	if list, _ := p.store.List(ctx); len(list) != 0 {
		t.Fatalf("a refused enrolment stored %+v", list)
	}
	// Step 2 with the right token.
	h, err := p.fleet.Enroll(ctx, in)
	if err != nil {
		t.Fatalf("enrol: %v\n%s", err, ag.Log())
	}
	if st := p.status.Current("edge-1"); !st.Online || st.ActiveJails != 1 || st.LastContact.IsZero() {
		t.Fatalf("status after enrolment: %+v", st)
	}
	if p.reg.Name("edge-1") != "Edge 1" || h.Fingerprint != ag.Fingerprint {
		t.Fatalf("registered as %q, %+v", p.reg.Name("edge-1"), h)
	}
	remote, err := p.reg.Get("edge-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Ban(ctx, "sshd", "192.0.2.77"); err != nil {
		t.Fatalf("ban through the enrolled host: %v", err)
	}
	if n, _ := sb.Client().JailStatus(ctx, "sshd"); n.CurrentlyBanned != 1 {
		t.Fatalf("the sandbox bans %d", n.CurrentlyBanned)
	}
	stored, _ := p.store.Get(ctx, "edge-1")
	if stored.Credential == "" || stored.Credential == ag.Token {
		t.Fatalf("stored credential %q", stored.Credential)
	}

	// The token is single-use: a second panel cannot enrol with it.
	other := newPanel(t)
	if _, err := other.fleet.Enroll(ctx, in); !strings.Contains(fieldMessage(err, "token"), "refused this enrolment token") {
		t.Fatalf("reused token: %v", err)
	}

	// Disable: out of the registry; enable: back and online.
	if _, err := p.fleet.Disable(ctx, "edge-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.reg.Get("edge-1"); !errors.Is(err, hosts.ErrUnknownHost) {
		t.Fatalf("disabled host still registered: %v", err)
	}
	if _, err := p.fleet.Enable(ctx, "edge-1"); err != nil {
		t.Fatal(err)
	}
	if st := p.status.Current("edge-1"); !st.Online {
		t.Fatalf("enabled host: %+v", st)
	}

	// Start-up: a new panel process on the same database loads the host.
	again := &panel{store: p.store, reg: newPanel(t).reg}
	again.status = services.NewStatusProbe(again.reg)
	again.fleet = fleet.New(again.store, again.reg, again.status, nil)
	if err := again.fleet.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if st := again.status.RefreshHost(ctx, "edge-1"); !st.Online {
		t.Fatalf("host loaded at start: %+v", st)
	}

	// The agent gets a new certificate (its key is gone) on the same
	// address: the panel stops with a clear message until the admin
	// accepts the fingerprint they compared.
	ag.Stop()
	for _, f := range []string{agent.KeyFile, agent.CertFile} {
		if err := os.Remove(filepath.Join(dataDir, f)); err != nil {
			t.Fatal(err)
		}
	}
	ag2 := agenttest.Start(t, bin.Path(t), sb, addr, dataDir)
	if ag2.Fingerprint == ag.Fingerprint {
		t.Fatal("the agent kept its certificate")
	}
	st := p.status.RefreshHost(ctx, "edge-1")
	if st.Online || st.NewFingerprint != ag2.Fingerprint || !strings.Contains(st.Error.Error(), "certificate changed") {
		t.Fatalf("status with a changed certificate: %+v", st)
	}
	list, _ := p.fleet.List(ctx)
	if fp, ok := list[1].FingerprintChanged(); !ok || fp != ag2.Fingerprint || list[1].Fingerprint != ag.Fingerprint {
		t.Fatalf("listed: %+v", list[1])
	}
	if _, err := p.fleet.AcceptFingerprint(ctx, "edge-1", ag.Fingerprint); !strings.Contains(fieldMessage(err, "fingerprint"), "another certificate") {
		t.Fatalf("accepting the old fingerprint: %v", err)
	}
	if _, err := p.fleet.AcceptFingerprint(ctx, "edge-1", ag2.Fingerprint); err != nil {
		t.Fatal(err)
	}
	if st := p.status.Current("edge-1"); !st.Online || st.NewFingerprint != "" {
		t.Fatalf("after accepting: %+v\n%s", st, ag2.Log())
	}

	// Remove revokes: the agent refuses the old credential afterwards.
	r, err := p.fleet.Remove(ctx, "edge-1")
	if err != nil || !r.RevokeError.IsZero() {
		t.Fatalf("remove: %+v, %v", r, err)
	}
	if _, err := p.store.Get(ctx, "edge-1"); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("removed host still stored: %v", err)
	}
	old, err := hosts.NewRemote(hosts.RemoteOptions{ID: "edge-1", URL: stored.URL, Fingerprint: ag2.Fingerprint, Credential: stored.Credential})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Version(ctx); !errors.Is(err, hosts.ErrAgentRefused) {
		t.Fatalf("the revoked credential: %v, want refused", err)
	}
}
