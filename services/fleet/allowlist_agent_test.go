package fleet_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"bangui/agent/agenttest"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/allowlist"
	"bangui/services/configuration"
	"bangui/services/fleet"
)

// TestAllowListThroughAgent allow-lists an address on a host behind a real
// agent: the file is written and tested on that host, the running jail has
// the entry, and the ban the address had there is lifted.
func TestAllowListThroughAgent(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
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
	if _, err := sb.Client().Ban(ctx, "sshd", "192.0.2.90"); err != nil {
		t.Fatal(err)
	}
	conf := configuration.New(p.reg, p.status, configuration.Options{})
	al := allowlist.New(p.reg, conf, repo.NewAllowStore(p.db), services.NewJails(p.reg, p.status, nil))
	res, err := al.Allow(ctx, "edge", []models.AllowRequest{{Address: "192.0.2.90", Note: "edge monitor"}})
	if err != nil || !res[0].OK || !strings.Contains(res[0].Message.Error(), "unbanned, in sshd") {
		t.Fatalf("Allow = %+v, %v\n%s", res, err, ag.Log())
	}
	if l, _ := sb.Client().IgnoreIPs(ctx, "sshd"); !slices.Contains(l, "192.0.2.90") {
		t.Fatalf("the remote jail's ignore list = %v", l)
	}
	data, err := os.ReadFile(filepath.Join(sb.ConfigDir, allowlist.File))
	if err != nil || !strings.Contains(string(data), "192.0.2.90") {
		t.Fatalf("the remote file: %q, %v", data, err)
	}
	list, err := al.List(ctx, "edge")
	if err != nil || len(list.Items) == 0 || list.Items[0].Note != "edge monitor" || !list.Items[0].Applied {
		t.Fatalf("List = %+v, %v", list, err)
	}
}
