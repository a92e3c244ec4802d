package services_test

import (
	"context"
	"slices"
	"testing"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/models"
	"bangui/services"
	"bangui/services/internal/servicetest"
)

// The status probe keeps a jail's ban list current: after it saw the
// counters move, the jail page finds the list without asking fail2ban for
// it, and the list is never stale after fail2ban's own bans or the panel's
// unbans.
func TestProbeKeepsBanListsCurrent(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	edge := newRecordingHost("edge", sb)
	if err := reg.Add(edge); err != nil {
		t.Fatal(err)
	}
	probe := services.NewStatusProbe(reg)
	jails := services.NewJails(reg, probe, nil)
	probe.OnJails = jails.KeepCurrent
	ctx := context.Background()
	page := models.Page{Number: 1, Size: 50}
	lists := func() int { // how often the list was asked of fail2ban
		n := 0
		for _, m := range edge.received() {
			if m == "BannedWithTime" {
				n++
			}
		}
		return n
	}
	ips := func() []string {
		t.Helper()
		bans, total, err := jails.Banned(ctx, "edge", "sshd", "", page)
		if err != nil || int(total) != len(bans) {
			t.Fatalf("bans of sshd: %+v (%d), %v", bans, total, err)
		}
		var out []string
		for _, b := range bans {
			out = append(out, b.IP)
		}
		slices.Sort(out)
		return out
	}
	if _, err := sb.Client().Call(ctx, "set", "sshd", "banip", "192.0.2.1", "192.0.2.2"); err != nil {
		t.Fatal(err)
	}
	// fail2ban bans on its own; the probe sees the counters move and
	// fetches the list, so the page does not ask fail2ban for it.
	probe.Refresh(ctx)
	n := lists()
	if got := ips(); n != 1 || lists() != n || !slices.Equal(got, []string{"192.0.2.1", "192.0.2.2"}) {
		t.Fatalf("bans after the probe: %v (the list was asked %d times, %d of them by the page)", got, lists(), lists()-n)
	}

	// A ban the probe has not seen yet moves the counters: the page asks
	// fail2ban again instead of showing the old list.
	if _, err := sb.Client().Call(ctx, "set", "sshd", "banip", "192.0.2.3"); err != nil {
		t.Fatal(err)
	}
	if got := ips(); !slices.Equal(got, []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}) {
		t.Fatalf("bans after fail2ban's own ban: %v", got)
	}
	// The panel's unban drops the list at once.
	if _, err := jails.Unban(ctx, "edge", "sshd", []string{"192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if got := ips(); !slices.Equal(got, []string{"192.0.2.2", "192.0.2.3"}) {
		t.Fatalf("bans after the panel's unban: %v", got)
	}
	// Unchanged counters: the probe fetches nothing more, nor does the page.
	probe.Refresh(ctx)
	n = lists()
	probe.Refresh(ctx)
	ips()
	if lists() != n {
		t.Fatalf("the list was fetched again although no counter moved (%d → %d)", n, lists())
	}
}

// A ban fail2ban made on its own, once archived, shows on the per-IP page
// at once, even when the page's jail counters were read just before it
// (they are shared between pages for up to a second).
func TestArchivedBanShowsOnTheAddressAtOnce(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
	reg := servicetest.LocalHosts(hosts.LocalOptions{Socket: sb.SocketPath, ConfigDir: sb.ConfigDir})
	jails := services.NewJails(reg, services.NewStatusProbe(reg), nil)
	ctx := context.Background()
	const ip = "192.0.2.7"
	bannedIn := func() []string {
		t.Helper()
		bans, _, err := jails.CurrentBansOf(ctx, models.LocalHost, ip)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range bans {
			out = append(out, b.Jail)
		}
		return out
	}
	if got := bannedIn(); len(got) != 0 {
		t.Fatalf("%s banned in %v before the test", ip, got)
	}
	if _, err := sb.Client().Call(ctx, "set", "sshd", "banip", ip); err != nil {
		t.Fatal(err)
	}
	jails.Archived(models.LocalHost)
	if got := bannedIn(); !slices.Equal(got, []string{"sshd"}) {
		t.Fatalf("%s banned in %v after its ban was archived, want [sshd]", ip, got)
	}
}
