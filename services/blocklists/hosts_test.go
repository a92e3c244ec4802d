package blocklists

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
	"bangui/services"
)

// bannedIn returns what a sandbox bans in the blocklist jail, sorted.
func bannedIn(t *testing.T, sb *sandbox.Sandbox) []string {
	t.Helper()
	st, err := sb.Client().JailStatus(context.Background(), models.BlocklistJail)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(st.Banned)
	return st.Banned
}

// TestImportToSeveralHosts imports lists whose sources choose their
// target hosts, on a panel with two real fail2bans and a host that is
// down: a source for the local host bans there only, a source for two
// hosts bans on both, and a source for every host bans on the two that
// answer and names the one that did not, with one import log entry per
// host. The next run finds nothing new on the hosts that banned.
func TestImportToSeveralHosts(t *testing.T) {
	e := newImportEnv(t)
	ctx := context.Background()
	web2 := sandboxtest.Start(t)
	for _, opts := range []hosts.LocalOptions{
		{ID: "web2", Socket: web2.SocketPath, ConfigDir: web2.ConfigDir},
		{ID: "gone", Socket: filepath.Join(t.TempDir(), "gone.sock"), ConfigDir: t.TempDir()},
	} {
		opts.ClientPath = "fail2ban-client"
		if err := e.hosts.Add(hosts.NewLocal(opts)); err != nil {
			t.Fatal(err)
		}
	}
	b := e.service(2, nil)

	// A host the panel does not know is refused.
	_, err := b.CreateSource(ctx, SourceInput{Name: "X", URL: e.lists.URL + "/list/good", Enabled: true, Hosts: "local,nope"})
	var verr *services.ValidationError
	if !errors.As(err, &verr) || !strings.Contains(strings.Join(verr.In(lang.Get("en"))[FieldHosts], " "), "nope") {
		t.Fatalf("a source for an unknown host: %v", err)
	}

	localOnly := e.addSource(b, "Local", e.lists.set("local", "192.0.2.1\n"))
	both, err := b.CreateSource(ctx, SourceInput{Name: "Both", URL: e.lists.set("both", "192.0.2.2\n192.0.2.3\n"), Enabled: true,
		Hosts: models.TargetsOf(false, []string{"local", "web2"})})
	if err != nil || both.Hosts != "local,web2" {
		t.Fatalf("source for two hosts: %+v, %v", both, err)
	}
	every, err := b.CreateSource(ctx, SourceInput{Name: "Every", URL: e.lists.set("every", "198.51.100.0/24\n"), Enabled: true, Hosts: models.AllHosts})
	if err != nil {
		t.Fatal(err)
	}

	p, err := b.Import(ctx, 0, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Error.IsZero() {
		t.Fatalf("the run failed as a whole: %q", p.Error)
	}
	if r := resultOf(t, p, "Local"); r.Imported != 1 || !r.Error.IsZero() || len(r.Hosts) != 1 || r.Hosts[0].Host != "local" {
		t.Errorf("local source: %+v", r)
	}
	if r := resultOf(t, p, "Both"); r.Imported != 4 || !r.Error.IsZero() || len(r.Hosts) != 2 {
		t.Errorf("source for two hosts: %+v", r)
	}
	r := resultOf(t, p, "Every")
	if r.Imported != 2 || len(r.Hosts) != 3 || r.Hosts[2].Host != "gone" || r.Hosts[2].Error.IsZero() ||
		r.Hosts[0].Imported != 1 || r.Hosts[1].Imported != 1 || !strings.HasPrefix(r.Error.Error(), "gone: ") {
		t.Errorf("source for every host: %+v", r)
	}
	if got, want := bannedIn(t, e.sb), []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "198.51.100.0/24"}; !slices.Equal(got, want) {
		t.Errorf("the local fail2ban bans %v, want %v", got, want)
	}
	if got, want := bannedIn(t, web2), []string{"192.0.2.2", "192.0.2.3", "198.51.100.0/24"}; !slices.Equal(got, want) {
		t.Errorf("web2 bans %v, want %v", got, want)
	}

	// One log entry per host, the failed host's with its error.
	logs, _, err := b.ImportLog(ctx, every.ID, models.Page{Number: 1, Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	byHost := map[string]models.ImportLog{}
	for _, l := range logs {
		byHost[l.Host] = l
	}
	if len(logs) != 3 || byHost["local"].IPsImported != 1 || byHost["web2"].IPsImported != 1 ||
		byHost["gone"].Errors == nil || byHost["local"].Errors != nil {
		t.Fatalf("import log of the source for every host: %+v", logs)
	}
	if logs, _, _ := b.ImportLog(ctx, localOnly.ID, models.Page{Number: 1, Size: 10}); len(logs) != 1 || logs[0].Host != "local" {
		t.Fatalf("import log of the local source: %+v", logs)
	}

	// The next run: unchanged where it banned, the dead host still named.
	p, err = b.Import(ctx, every.ID, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	r = resultOf(t, p, "Every")
	if r.Imported != 0 || !r.Hosts[0].Unchanged || !r.Hosts[1].Unchanged || r.Hosts[2].Error.IsZero() {
		t.Errorf("source for every host, second run: %+v", r)
	}
}

// TestImportCatchesUpOnAHostThatWasDown: a source bans on two hosts while
// one of them is stopped; the other's bans and log stand, the stopped one
// is named, and once it is back the next import bans the list there
// without banning again where it was banned.
func TestImportCatchesUpOnAHostThatWasDown(t *testing.T) {
	e := newImportEnv(t)
	ctx := context.Background()
	web2 := sandboxtest.Start(t)
	if err := e.hosts.Add(hosts.NewLocal(hosts.LocalOptions{ID: "web2", Socket: web2.SocketPath, ConfigDir: web2.ConfigDir, ClientPath: "fail2ban-client"})); err != nil {
		t.Fatal(err)
	}
	b := e.service(2, nil)
	all := testAddresses(9, 5)
	if _, err := b.CreateSource(ctx, SourceInput{Name: "Five", URL: e.lists.set("five", strings.Join(all, "\n")), Enabled: true,
		Hosts: models.TargetsOf(false, []string{"local", "web2"})}); err != nil {
		t.Fatal(err)
	}
	if err := web2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := b.Import(ctx, 0, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	r := resultOf(t, p, "Five")
	if r.Imported != 5 || len(r.Hosts) != 2 || r.Hosts[0].Imported != 5 || !strings.HasPrefix(r.Error.Error(), "web2: ") {
		t.Fatalf("import with web2 stopped: %+v", r)
	}
	e.assertBannedOnce(all)

	if err := web2.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	p, err = b.Import(ctx, 0, models.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	r = resultOf(t, p, "Five")
	if !r.Error.IsZero() || !r.Hosts[0].Unchanged || r.Hosts[1].Imported != 5 || r.Imported != 5 {
		t.Fatalf("import after web2 came back: %+v", r)
	}
	e.assertBannedOnce(all)
	want := slices.Clone(all)
	slices.Sort(want)
	if got := bannedIn(t, web2); !slices.Equal(got, want) {
		t.Fatalf("web2 bans %v, want %v", got, want)
	}
}
