package repo

import (
	"context"
	"errors"
	"github.com/uptrace/bun"
	"slices"
	"testing"

	"bangui/models"
)

func TestBlocklistStores(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		sources, logs, runs := NewBlocklistStore(db), NewImportLogStore(db), NewImportRunStore(db)

		a, err := sources.Create(ctx, "b-list", "https://example.org/a.txt", true)
		if err != nil {
			t.Fatal(err)
		}
		bID, err := sources.Create(ctx, "A-list", "https://example.org/b.txt", false)
		if err != nil {
			t.Fatal(err)
		}
		var de *DuplicateError
		if _, err := sources.Create(ctx, "b-list", "https://example.org/c.txt", true); !errors.As(err, &de) || de.Column != "name" || !errors.Is(err, ErrDuplicate) {
			t.Fatalf("duplicate name: %v", err)
		}
		if _, err := sources.Create(ctx, "c", "https://example.org/a.txt", true); !errors.As(err, &de) || de.Column != "url" {
			t.Fatalf("duplicate url: %v", err)
		}
		all, _ := sources.List(ctx)
		enabled, _ := sources.ListEnabled(ctx)
		if len(all) != 2 || all[0].Name != "A-list" || len(enabled) != 1 || enabled[0].ID != a {
			t.Fatalf("lists: %+v / %+v", all, enabled)
		}
		src, _ := sources.Get(ctx, bID)
		src.URL = "https://example.org/a.txt"
		if err := sources.Update(ctx, src); !errors.As(err, &de) || de.Column != "url" {
			t.Fatalf("update to a taken url: %v", err)
		}

		// A run's life: pending with its addresses, progress, completed.
		id, err := runs.CreatePending(ctx, a, models.LocalHost, "hash1", []string{"192.0.2.1", "192.0.2.0/24"}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := runs.CreatePending(ctx, a, models.LocalHost, "hash1", nil, 0); err == nil {
			t.Fatal("a second run of the same content was created")
		}
		if got, _ := runs.Targets(ctx, id); !slices.Equal(got, []string{"192.0.2.1", "192.0.2.0/24"}) {
			t.Fatalf("targets %q", got)
		}
		if err := runs.Advance(ctx, id, 1, 1, 0); err != nil {
			t.Fatal(err)
		}
		if p, _ := runs.Pending(ctx); len(p) != 1 || p[0].Done != 1 || p[0].Total != 2 || p[0].SkippedCount != 3 {
			t.Fatalf("pending %+v", p)
		}
		if err := runs.MarkFailed(ctx, id, "boom"); err != nil {
			t.Fatal(err)
		}
		if err := runs.Reopen(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := runs.MarkCompleted(ctx, id, 2, 3); err != nil {
			t.Fatal(err)
		}
		r, _ := runs.BySourceAndHash(ctx, a, models.LocalHost, "hash1")
		if r.State != models.ImportCompleted || r.Done != 2 || r.ImportedCount != 2 || r.Error != nil {
			t.Fatalf("completed run %+v", r)
		}
		if _, err := runs.Targets(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("targets of a completed run: %v", err)
		}
		// New content supersedes an unfinished run and drops its addresses.
		old, _ := runs.CreatePending(ctx, a, models.LocalHost, "hash2", []string{"192.0.2.9"}, 0)
		cur, _ := runs.CreatePending(ctx, a, models.LocalHost, "hash3", []string{"192.0.2.10"}, 0)
		if err := runs.SupersedeOthers(ctx, a, models.LocalHost, cur, "changed"); err != nil {
			t.Fatal(err)
		}
		if r, _ := runs.Get(ctx, old); r.State != models.ImportFailed || r.Error == nil || *r.Error != "changed" {
			t.Fatalf("superseded run %+v", r)
		}
		if r, _ := runs.Get(ctx, id); r.State != models.ImportCompleted {
			t.Fatalf("a completed run was superseded: %+v", r)
		}
		if _, err := runs.Targets(ctx, old); !errors.Is(err, ErrNotFound) {
			t.Fatal("the superseded run kept its addresses")
		}
		if got, _ := runs.Targets(ctx, cur); len(got) != 1 {
			t.Fatal("the current run lost its addresses")
		}

		// The log: batches by trigger; deleting a source keeps its rows.
		for i, by := range []models.ImportTrigger{models.TriggerSchedule, models.TriggerSchedule, models.TriggerManual} {
			batch := int64(100 + i/2*100) // rows 0 and 1 share batch 100
			if _, err := logs.Add(ctx, models.ImportLog{SourceID: &a, SourceURL: "https://example.org/a.txt", SourceName: "b-list",
				Timestamp: int64(1000 + i), StartedBy: by, Batch: batch, IPsImported: int64(i)}); err != nil {
				t.Fatal(err)
			}
		}
		last, err := logs.LastBatch(ctx, models.TriggerSchedule)
		if err != nil || len(last) != 2 {
			t.Fatalf("last scheduled batch: %+v, %v", last, err)
		}
		if err := sources.Delete(ctx, a); err != nil {
			t.Fatal(err)
		}
		rows, total, err := logs.List(ctx, nil, models.Page{Number: 1, Size: 2})
		if err != nil || total != 3 || len(rows) != 2 || rows[0].SourceID != nil || rows[0].SourceName != "b-list" || rows[0].IPsImported != 2 {
			t.Fatalf("log after delete: %+v (%d), %v", rows, total, err)
		}
		if p, _ := runs.Pending(ctx); len(p) != 0 {
			t.Fatalf("runs of the deleted source remain: %+v", p)
		}
		if err := sources.Delete(ctx, a); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
	})
}
