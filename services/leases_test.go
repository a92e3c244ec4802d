package services

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"bangui/repo"
)

func leaseDB(t *testing.T) *repo.Leases {
	t.Helper()
	db, err := repo.Open(context.Background(), repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return repo.NewLeases(db)
}

func quietLeases(store LeaseStore, ttl time.Duration) *Leases {
	return NewLeases(store, ttl, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Two processes' Leases on one database: work runs in one at a time, a
// released lease is free at once, a kept turn makes the other skip, and
// work that outlives its TTL keeps the lease by renewing it.
func TestLeasesRunOnceAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	store := leaseDB(t)
	const ttl = 300 * time.Millisecond
	a, b := quietLeases(store, ttl), quietLeases(store, ttl)
	if a.Holder() == b.Holder() || a.Holder() == "" {
		t.Fatalf("holder ids %q and %q; want two different ones", a.Holder(), b.Holder())
	}

	work, release, held, err := a.Hold(ctx, "import")
	if err != nil || !held {
		t.Fatalf("A.Hold = %v, %v", held, err)
	}
	if b.Run(ctx, "import", func(context.Context) { t.Error("B ran while A holds the lease") }) {
		t.Error("B.Run reported a run while A holds the lease")
	}
	// A works for three TTLs: its renewals keep the lease.
	until := time.Now().Add(3 * ttl)
	for time.Now().Before(until) {
		if work.Err() != nil {
			t.Fatal("A lost a lease it was renewing")
		}
		if h, _, _ := store.Holder(ctx, "import"); h != a.Holder() {
			t.Fatalf("holder during A's work = %q", h)
		}
		time.Sleep(20 * time.Millisecond)
	}
	release(0)
	if work.Err() == nil {
		t.Error("the work context lives on after release")
	}
	if !b.Run(ctx, "import", func(context.Context) {}) {
		t.Error("B did not get a released lease at once")
	}

	// A turn kept for an hour: B skips, A takes its next turn.
	if !a.Turn(ctx, "sync/local", time.Hour, func(context.Context) {}) {
		t.Fatal("A did not take a free turn")
	}
	if b.Turn(ctx, "sync/local", time.Hour, func(context.Context) {}) {
		t.Error("B ran a turn A keeps")
	}
	if !a.Turn(ctx, "sync/local", time.Hour, func(context.Context) {}) {
		t.Error("A did not take its own next turn")
	}
	// A shuts down: B takes the turn at once.
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.Turn(ctx, "sync/local", time.Hour, func(context.Context) {}) {
		t.Error("B did not take the turn of a process that shut down")
	}
}

// A holder that dies (stops renewing) loses the lease after its TTL and
// the other process takes the work over; a holder whose lease was taken
// over sees its work context end.
func TestLeasesTakeoverAfterHolderDies(t *testing.T) {
	ctx := context.Background()
	store := leaseDB(t)
	const ttl = 300 * time.Millisecond
	// The dead holder took the lease and never renewed it.
	if ok, err := store.TryAcquire(ctx, "geo-fill", "dead-panel", ttl); err != nil || !ok {
		t.Fatal(ok, err)
	}
	b := quietLeases(store, ttl)
	start := time.Now()
	if b.Run(ctx, "geo-fill", func(context.Context) {}) {
		t.Fatal("B ran while the dead holder's lease was live")
	}
	waitFor(t, 5*time.Second, "B takes over the dead holder's lease", func() bool {
		return b.Run(ctx, "geo-fill", func(context.Context) {})
	})
	if waited := time.Since(start); waited < ttl/2 {
		t.Errorf("takeover after %v; the lease had a TTL of %v", waited, ttl)
	}

	// B's lease taken from under it (its renewal finds another holder): its
	// work context ends.
	work, release, held, err := b.Hold(ctx, "archive-sync/local")
	if err != nil || !held {
		t.Fatal(held, err)
	}
	defer release(0)
	if err := store.Release(ctx, "archive-sync/local", b.Holder()); err != nil {
		t.Fatal(err)
	}
	if ok, err := store.TryAcquire(ctx, "archive-sync/local", "other-panel", time.Hour); err != nil || !ok {
		t.Fatal(ok, err)
	}
	waitFor(t, 5*time.Second, "B's work stops when its lease is lost", func() bool { return work.Err() != nil })
	release(0)
	if h, _, _ := store.Holder(ctx, "archive-sync/local"); h != "other-panel" {
		t.Errorf("B's release freed another holder's lease: holder %q", h)
	}
}

// A nil *Leases (one process, no database to share) runs everything.
func TestNilLeasesRunEverything(t *testing.T) {
	var l *Leases
	ran := 0
	l.Run(context.Background(), "x", func(context.Context) { ran++ })
	l.Turn(context.Background(), "x", time.Hour, func(context.Context) { ran++ })
	if ran != 2 {
		t.Errorf("nil leases ran %d of 2", ran)
	}
}
