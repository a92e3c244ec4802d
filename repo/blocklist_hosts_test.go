package repo

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/uptrace/bun/dialect"

	"bangui/models"
)

// TestBlocklistHostsMigration upgrades a database from the release before
// blocklist target hosts, holding a pending run with its addresses: the
// run and its addresses survive and belong to the local host, sources
// target the local host, and afterwards one content may have a run per
// host, but not two on the same host.
func TestBlocklistHostsMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old, err := openSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	migrateBefore(t, old, dialect.SQLite, "20261208120000")
	for _, q := range []string{
		`INSERT INTO blocklist_sources (id, name, url, enabled, created_at, updated_at) VALUES (1, 'a', 'https://example.org/a', 1, 1, 1)`,
		`INSERT INTO import_runs (id, source_id, content_hash, state, created_at, updated_at, total, done) VALUES (7, 1, 'h1', 'pending', 1, 1, 2, 1)`,
		`INSERT INTO import_run_targets (run_id, targets) VALUES (7, '192.0.2.1
192.0.2.2')`,
		`INSERT INTO import_log (source_id, source_url, timestamp) VALUES (1, 'https://example.org/a', 5)`,
	} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	db, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatalf("upgrading: %v", err)
	}
	defer db.Close()
	runs, sources, logs := NewImportRunStore(db), NewBlocklistStore(db), NewImportLogStore(db)
	pending, err := runs.Pending(ctx)
	if err != nil || len(pending) != 1 || pending[0].ID != 7 || pending[0].Host != models.LocalHost || pending[0].Done != 1 {
		t.Fatalf("pending runs after the upgrade: %+v, %v", pending, err)
	}
	if targets, err := runs.Targets(ctx, 7); err != nil || !slices.Equal(targets, []string{"192.0.2.1", "192.0.2.2"}) {
		t.Fatalf("the pending run's addresses after the upgrade: %v, %v", targets, err)
	}
	src, err := sources.Get(ctx, 1)
	if err != nil || src.Hosts != "" {
		t.Fatalf("source after the upgrade: %+v, %v", src, err)
	}
	entries, _, err := logs.List(ctx, nil, models.Page{Number: 1, Size: 10})
	if err != nil || len(entries) != 1 || entries[0].Host != models.LocalHost {
		t.Fatalf("import log after the upgrade: %+v, %v", entries, err)
	}

	// One content, one run per host.
	if _, err := runs.CreatePending(ctx, 1, "web2", "h1", []string{"192.0.2.1"}, 0); err != nil {
		t.Fatalf("a run of the same content on another host: %v", err)
	}
	if _, err := runs.CreatePending(ctx, 1, "web2", "h1", nil, 0); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("a second run of the same content on the same host: %v, want ErrDuplicate", err)
	}
	if r, err := runs.BySourceAndHash(ctx, 1, "web2", "h1"); err != nil || r.Host != "web2" || r.ID == 7 {
		t.Fatalf("web2's run: %+v, %v", r, err)
	}
	// Superseding on one host leaves the other host's pending run alone.
	if err := runs.SupersedeOthers(ctx, 1, "web2", 0, "changed"); err != nil {
		t.Fatal(err)
	}
	if r, err := runs.Get(ctx, 7); err != nil || r.State != models.ImportPending {
		t.Fatalf("the local run after web2's were superseded: %+v, %v", r, err)
	}

	// Target hosts are saved.
	src.Hosts = models.TargetsOf(false, []string{"local", "web2"})
	if err := sources.Update(ctx, src); err != nil {
		t.Fatal(err)
	}
	if got, _ := sources.Get(ctx, 1); got.Hosts != "local,web2" {
		t.Fatalf("target hosts saved as %q", got.Hosts)
	}
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA foreign_key_check`).Scan(&check); err == nil {
		t.Fatalf("foreign key check found %q", check)
	}
}
