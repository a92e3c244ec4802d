package services

import (
	"context"
	"errors"
	"testing"
	"time"

	"bangui/models"
	"bangui/repo"
)

// TestAuditRetention keeps 365 days until another retention is chosen,
// refuses a retention out of bounds, and prunes only entries past it.
func TestAuditRetention(t *testing.T) {
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	log := repo.NewAuditStore(db)
	r := AuditRetention{Log: log, Settings: repo.NewSettingsStore(db), Now: func() time.Time { return now }}
	if d, err := r.Days(ctx); err != nil || d != 365 {
		t.Fatalf("default retention: %d, %v", d, err)
	}
	for _, age := range []time.Duration{400 * 24 * time.Hour, 364 * 24 * time.Hour, 20 * 24 * time.Hour, time.Hour} {
		if err := log.Record(ctx, models.AuditEntry{At: now.Add(-age).Unix(), Actor: "a", Action: models.AuditBan, Result: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := r.Prune(ctx); err != nil || n != 1 {
		t.Fatalf("prune at 365 days: %d, %v", n, err)
	}
	for _, bad := range []string{"", "0", "-3", "36501", "ten"} {
		var verr *ValidationError
		if _, err := r.SetDays(ctx, bad); !errors.As(err, &verr) || len(verr.Fields[AuditRetentionField]) == 0 {
			t.Errorf("retention %q: %v, want a validation error", bad, err)
		}
	}
	if d, err := r.SetDays(ctx, " 30 "); err != nil || d != 30 {
		t.Fatalf("set 30: %d, %v", d, err)
	}
	if n, err := r.Prune(ctx); err != nil || n != 1 {
		t.Fatalf("prune at 30 days: %d, %v", n, err)
	}
	if n, _ := log.Count(ctx, models.AuditFilter{}); n != 2 {
		t.Fatalf("left: %d entries, want 2", n)
	}
}
