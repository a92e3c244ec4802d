package services_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"bangui/fail2ban"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/models"
	"bangui/services"
	"bangui/services/internal/servicetest"
)

// fleet is a registry of real fail2ban sandboxes registered as local hosts
// under their own ids, plus hosts that do not answer.
type fleet struct {
	reg  *hosts.Registry
	sbs  map[string]*sandbox.Sandbox
	down []string // ids of the hosts that do not answer
}

// newFleet starts one sandbox per id in up (the first is "local") and
// registers a host on a missing socket ("gone") and one on a socket that
// never answers ("hung").
func newFleet(t *testing.T, up ...string) *fleet {
	t.Helper()
	f := &fleet{sbs: map[string]*sandbox.Sandbox{}}
	for i, id := range up {
		sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
		f.sbs[id] = sb
		opts := hosts.LocalOptions{ID: id, Socket: sb.SocketPath, ConfigDir: sb.ConfigDir, LogDirs: []string{sb.Dir}, ClientPath: "fail2ban-client"}
		if i == 0 {
			f.reg = servicetest.LocalHosts(opts)
			continue
		}
		if err := f.reg.Add(hosts.NewLocal(opts)); err != nil {
			t.Fatal(err)
		}
	}
	for id, sock := range map[string]string{"gone": filepath.Join(t.TempDir(), "gone.sock"), "hung": servicetest.HungSocket(t)} {
		if err := f.reg.Add(hosts.NewLocal(hosts.LocalOptions{ID: id, Socket: sock, ConfigDir: t.TempDir()})); err != nil {
			t.Fatal(err)
		}
		f.down = append(f.down, id)
	}
	slices.Sort(f.down)
	return f
}

// failed returns the ids of the results that carry an error, sorted.
func failed[T any](res []services.HostResult[T]) []string {
	var out []string
	for _, r := range res {
		if r.Err != nil {
			out = append(out, r.Host)
		}
	}
	slices.Sort(out)
	return out
}

// TestJailsOnEveryHost bans and unbans one address on every host of a
// fleet of two real fail2bans and two hosts that do not answer (one with
// no socket, one that hangs): the bans land in each fail2ban, the dead
// hosts are named in the result, and the whole call ends within the
// per-host deadline. A ban on one host lands only there.
func TestJailsOnEveryHost(t *testing.T) {
	f := newFleet(t, models.LocalHost, "web2")
	probe := services.NewStatusProbe(f.reg)
	jails := services.NewJails(f.reg, probe, nil)
	ctx := context.Background()
	local, web2 := f.sbs[models.LocalHost], f.sbs["web2"]

	// Grouped list: every host in registry order, the dead ones with errors.
	lists := jails.ListEveryHost(ctx)
	if len(lists) != 4 || lists[0].Host != models.LocalHost || lists[1].Host != "web2" {
		t.Fatalf("hosts of the grouped list: %+v", lists)
	}
	if got := failed(lists); !slices.Equal(got, f.down) {
		t.Fatalf("hosts that did not answer the list: %v, want %v", got, f.down)
	}
	if len(lists[1].Value) != 1 || lists[1].Value[0].Name != "sshd" {
		t.Fatalf("jails of web2: %+v", lists[1].Value)
	}

	// A ban on one host lands only there.
	if _, err := jails.Ban(ctx, "web2", "sshd", []string{"192.0.2.50"}); err != nil {
		t.Fatal(err)
	}
	if got := jailsOf(t, web2, "192.0.2.50"); !slices.Equal(got, []string{"sshd"}) {
		t.Fatalf("web2 bans 192.0.2.50 in %v", got)
	}
	if got := jailsOf(t, local, "192.0.2.50"); len(got) != 0 {
		t.Fatalf("the local host bans 192.0.2.50 in %v, want nowhere", got)
	}

	// Refused input: nothing is asked of any host.
	if _, err := jails.BanOnEveryHost(ctx, "sshd", []string{"300.1.2.3"}); !errorsAsValidation(err) {
		t.Fatalf("ban of a bad address on every host: %v, want a validation error", err)
	}
	if _, err := jails.BanOnEveryHost(ctx, "--all", []string{"192.0.2.1"}); !errorsAsValidation(err) {
		t.Fatalf("ban in a bad jail on every host: %v, want a validation error", err)
	}

	// Ban on every host.
	start := time.Now()
	res, err := jails.BanOnEveryHost(ctx, "sshd", []string{"198.51.100.7"})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ban on every host (two sandboxes, a missing and a hung host): %v", took)
	if took > services.HostWriteDeadline+time.Second {
		t.Errorf("ban on every host took %v with a hung host; the deadline is %v", took, services.HostWriteDeadline)
	}
	if got := failed(res); !slices.Equal(got, f.down) {
		t.Fatalf("hosts that failed the ban: %v, want %v (%+v)", got, f.down, res)
	}
	for _, r := range res {
		if r.Err == nil && (r.Value.NewBans != 1 || r.Value.Jail != "sshd") {
			t.Fatalf("ban on %s: %+v", r.Host, r.Value)
		}
		if r.Host == "hung" && !errors.Is(r.Err, fail2ban.ErrTimeout) && !errors.Is(r.Err, context.DeadlineExceeded) {
			t.Errorf("the hung host's error: %v, want a timeout", r.Err)
		}
		if r.Host == "gone" && !fail2ban.IsUnreachable(r.Err) {
			t.Errorf("the missing host's error: %v, want unreachable", r.Err)
		}
	}
	for id, sb := range f.sbs {
		if got := jailsOf(t, sb, "198.51.100.7"); !slices.Equal(got, []string{"sshd"}) {
			t.Fatalf("%s bans 198.51.100.7 in %v after the fleet-wide ban", id, got)
		}
	}

	// Unban on every host, from every jail.
	ures, err := jails.UnbanOnEveryHost(ctx, "", []string{"198.51.100.7", "192.0.2.50"})
	if err != nil {
		t.Fatal(err)
	}
	if got := failed(ures); !slices.Equal(got, f.down) {
		t.Fatalf("hosts that failed the unban: %v, want %v", got, f.down)
	}
	if ures[0].Value != 1 || ures[1].Value != 2 {
		t.Fatalf("lifted bans: local %d, web2 %d; want 1 and 2", ures[0].Value, ures[1].Value)
	}
	for id, sb := range f.sbs {
		if got := jailsOf(t, sb, "198.51.100.7"); len(got) != 0 {
			t.Fatalf("%s still bans 198.51.100.7 in %v", id, got)
		}
	}
}

func errorsAsValidation(err error) bool {
	var ve *fail2ban.ValidationError
	return errors.As(err, &ve)
}
