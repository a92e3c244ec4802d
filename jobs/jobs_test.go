package jobs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"bangui/repo"
	"bangui/services"
)

// Two panel processes' job groups on one database: an EveryOnce job runs
// in one of them, turn after turn, while an Every job runs in both.
func TestEveryOnceRunsInOneProcess(t *testing.T) {
	db, err := repo.Open(context.Background(), repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := repo.NewLeases(db)
	ctx, cancel := context.WithCancel(context.Background())
	var once [2]atomic.Int64
	var every [2]atomic.Int64
	var groups [2]*Group
	for i := range groups {
		groups[i] = &Group{Leases: services.NewLeases(store, time.Minute, quietLog())}
		groups[i].EveryOnce(ctx, "cleanup", 20*time.Millisecond, func(context.Context) { once[i].Add(1) })
		groups[i].Every(ctx, 20*time.Millisecond, func(context.Context) { every[i].Add(1) })
	}
	deadline := time.Now().Add(10 * time.Second)
	for once[0].Load()+once[1].Load() < 10 || every[0].Load() < 3 || every[1].Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("runs: once %d/%d, every %d/%d", once[0].Load(), once[1].Load(), every[0].Load(), every[1].Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	for _, g := range groups {
		g.Wait()
	}
	if a, b := once[0].Load(), once[1].Load(); a > 0 && b > 0 {
		t.Errorf("the EveryOnce job ran in both processes (%d and %d times)", a, b)
	}
}
