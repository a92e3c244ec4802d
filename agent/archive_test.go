package agent_test

import (
	"context"
	"path/filepath"
	"testing"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/repo"
	"bangui/repo/f2bgen"
)

// TestArchiveSyncThroughAgent: the panel's archive sync reads a remote
// host's fail2ban database through the agent and stores what a local sync
// of the same database stores; an agent that stopped fails the sync as
// unreachable, and after its restart the sync resumes without doubling.
func TestArchiveSyncThroughAgent(t *testing.T) {
	dir := t.TempDir()
	f2b := filepath.Join(dir, "fail2ban.sqlite3")
	if err := f2bgen.Generate(context.Background(), f2b, f2bgen.Options{Rows: 12_000, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sync := func(host string, src repo.BanRowSource, dataDir string) int64 {
		t.Helper()
		db, err := repo.Open(ctx, repo.Options{DataDir: dataDir})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		n, err := repo.SyncArchive(ctx, host, src, repo.NewHistoryArchive(db), repo.NewSettingsStore(db))
		if err != nil {
			t.Fatalf("sync %s: %v", host, err)
		}
		return n
	}

	local := hosts.NewLocal(hosts.LocalOptions{Socket: filepath.Join(dir, "none.sock"), DBPath: f2b})
	defer local.Close()
	lsrc, err := local.BanRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := sync("local", lsrc, filepath.Join(dir, "panel-local"))

	p := startAgent(t, agentOptions{extra: []string{"--fail2ban-db", f2b}})
	cred := enrollCredential(t, p)
	r, err := hosts.NewRemote(hosts.RemoteOptions{ID: "web1", URL: p.URL, Fingerprint: p.Fingerprint, Credential: cred})
	if err != nil {
		t.Fatal(err)
	}
	rsrc, err := r.BanRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	panel := filepath.Join(dir, "panel")
	if got := sync("web1", rsrc, panel); got != want || got < 10_000 {
		t.Fatalf("synced %d events through the agent, %d locally", got, want)
	}

	stop(t, p)
	if _, err := r.BanRows(ctx); !fail2ban.IsUnreachable(err) {
		t.Fatalf("rows of a stopped agent: %v", err)
	}
	p2 := startAgent(t, agentOptions{dataDir: p.DataDir, extra: []string{"--fail2ban-db", f2b}})
	r2, err := hosts.NewRemote(hosts.RemoteOptions{ID: "web1", URL: p2.URL, Fingerprint: p2.Fingerprint, Credential: cred})
	if err != nil {
		t.Fatal(err)
	}
	rsrc2, err := r2.BanRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again := sync("web1", rsrc2, panel); again != 0 {
		t.Fatalf("the sync after the agent's restart stored %d events again", again)
	}
}
