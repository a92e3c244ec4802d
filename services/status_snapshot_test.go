package services_test

import (
	"context"
	"testing"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/models"
	"bangui/services"
	"bangui/services/internal/servicetest"
)

// The probe keeps every jail's counters for the metrics: Snapshot answers
// from what the last refresh read, without asking fail2ban, and a host
// that stopped answering has no jail counters, only its offline status.
func TestProbeSnapshotKeepsJailCounters(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	probe := services.NewStatusProbe(reg)
	ctx := context.Background()
	if snap := probe.Snapshot(); len(snap) != 0 {
		t.Fatalf("snapshot before any refresh: %+v", snap)
	}
	if _, err := sb.Client().Call(ctx, "set", "sshd", "banip", "192.0.2.1", "192.0.2.2"); err != nil {
		t.Fatal(err)
	}
	probe.Refresh(ctx)
	want := services.JailCounters{Name: "sshd", CurrentlyBanned: 2, TotalBanned: 2}
	check := func(when string) {
		t.Helper()
		snap := probe.Snapshot()
		if len(snap) != 1 || snap[0].Host != models.LocalHost || !snap[0].Status.Online || snap[0].Status.Banned != 2 ||
			len(snap[0].Jails) != 1 || snap[0].Jails[0] != want {
			t.Fatalf("%s: snapshot %+v, want the local host online with %+v", when, snap, want)
		}
	}
	check("after the refresh")

	if err := sb.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	check("fail2ban stopped, no refresh yet (nothing is asked)")
	probe.Refresh(ctx)
	snap := probe.Snapshot()
	if len(snap) != 1 || snap[0].Status.Online || snap[0].Status.Error.IsZero() || len(snap[0].Jails) != 0 {
		t.Fatalf("after fail2ban stopped: %+v, want the host offline without jails", snap)
	}
	probe.Forget(models.LocalHost)
	if snap := probe.Snapshot(); len(snap) != 0 {
		t.Fatalf("after Forget: %+v", snap)
	}
}
