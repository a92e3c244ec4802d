package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"bangui/agent/agenttest"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
)

// agentBin is the bangui binary run as `bangui agent`, built on first use.
var agentBin agenttest.Binary

func TestMain(m *testing.M) {
	code := m.Run()
	agentBin.Remove()
	os.Exit(code)
}

// flowHosts adds a host in two steps with a real agent on its own
// fail2ban (the fingerprint shown is the one the agent printed), sees it
// online with its bans, and removes it after the confirmation.
func flowHosts(t *testing.T, b *browser) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
	if _, err := sb.Client().Ban(t.Context(), "sshd", "192.0.2.201", "192.0.2.202", "192.0.2.203"); err != nil {
		t.Fatal(err)
	}
	ag := agenttest.Start(t, agentBin.Path(t), sb, "127.0.0.1:0", filepath.Join(t.TempDir(), "agent"))
	name := "Edge " + b.dev.name
	id := "edge-" + b.dev.name
	row := fmt.Sprintf(`tr[data-host=%q]`, id)

	b.visit(t, "/hosts")
	b.do(t, chromedp.WaitVisible(chromedp.CSS(`[data-testid="hosts-empty"]`)))
	b.typeInto(t, "#host-name", name)
	b.typeInto(t, "#host-url", ag.URL)
	b.typeInto(t, "#host-token", ag.Token)
	b.do(t, b.press(button("Check the agent")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="fingerprint"]`)))
	if fp := strings.Join(strings.Fields(b.text(t, `[data-testid="fingerprint"]`)), ""); fp != ag.Fingerprint {
		t.Fatalf("%s: the page shows the fingerprint %q, the agent printed %q", b.dev.name, fp, ag.Fingerprint)
	}
	b.check(t, "hosts-confirm")

	b.do(t, b.press(button("They are the same: enrol "+name)), chromedp.WaitVisible(chromedp.CSS(row)))
	if msg := b.text(t, "#flash"); !strings.Contains(msg, "Enrolled "+name) {
		t.Errorf("%s: flash after enrolment = %q", b.dev.name, msg)
	}
	if st := b.text(t, row+` [data-testid="host-state"]`); st != "Online" {
		t.Errorf("%s: the new host is %q", b.dev.name, st)
	}
	if bans := b.text(t, row+` [data-testid="host-bans"]`); bans != "3" {
		t.Errorf("%s: the new host has %q bans, want 3", b.dev.name, bans)
	}
	b.check(t, "hosts-enrolled")

	b.do(t, b.press(row+` form[action$="/delete"] button`), chromedp.WaitNotPresent(chromedp.CSS(row)))
	if d := b.dialogs.last(); !strings.Contains(d, "Remove the host "+name+"?") {
		t.Errorf("%s: remove asked %q", b.dev.name, d)
	}
	if msg := b.text(t, "#flash"); !strings.Contains(msg, "Removed "+name+" and revoked its credential") {
		t.Errorf("%s: flash after removal = %q", b.dev.name, msg)
	}
}
