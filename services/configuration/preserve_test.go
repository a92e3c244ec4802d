package configuration

import (
	"context"
	"testing"
	"time"

	"bangui/hosts"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
)

// TestDeactivateJailArchivesFirst deactivates a jail with a ban in it: the
// ban reaches the archive in the same request (the reload that stops the
// jail goes through the Preserver), and a later sync doubles nothing.
func TestDeactivateJailArchivesFirst(t *testing.T) {
	c, sb := configSandbox(t)
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	archive := repo.NewHistoryArchive(db)
	sync := services.NewArchiveSync(services.NewBanSources(c.hosts, archive), repo.NewSettingsStore(db))
	c.Preserver = sync
	const ip = "192.0.2.61"
	if _, err := sb.Client().Ban(ctx, "alpha", ip); err != nil {
		t.Fatal(err)
	}
	h, _ := c.hosts.Get(models.LocalHost)
	f2b, err := h.(*hosts.Local).Fail2banDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		rows, err := f2b.RecentOfIP(ctx, ip, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("fail2ban did not write the ban's row within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res, err := c.SetJailEnabled(ctx, models.LocalHost, "alpha", false); err != nil || !res.OK {
		t.Fatalf("deactivate: %+v, %v", res, err)
	}
	count := func() int64 {
		tot, err := archive.IPTotals(ctx, models.LocalHost, ip, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return tot.Bans
	}
	if n := count(); n != 1 {
		t.Fatalf("archive holds %d bans of %s right after the deactivation, want 1", n, ip)
	}
	if _, err := sync.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("archive holds %d bans of %s after a later sync, want 1", n, ip)
	}
}
