package repo

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
)

// leaseClock is a settable clock for lease tests.
type leaseClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *leaseClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *leaseClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// A lease is held by one holder at a time; it can be extended and renewed
// by its holder, is taken over once it expired, and a released lease is
// free at once; on SQLite and on PostgreSQL.
func TestLeasesExpiryTakeoverRenew(t *testing.T) {
	forEachDialect(t, testLeasesExpiryTakeoverRenew)
}

// Many processes racing for one free lease: exactly one gets it.
func TestLeasesOneWinnerOfARace(t *testing.T) {
	forEachDialect(t, testLeasesOneWinnerOfARace)
}

func testLeasesExpiryTakeoverRenew(t *testing.T, db *bun.DB) {
	ctx := context.Background()
	clock := &leaseClock{t: time.Unix(1_800_000_000, 0)}
	l := NewLeases(db)
	l.now = clock.now
	const ttl = time.Minute
	must := func(ok bool, err error, want bool, what string) {
		t.Helper()
		if err != nil || ok != want {
			t.Fatalf("%s = %v, %v; want %v", what, ok, err, want)
		}
	}
	holder := func(want string) {
		t.Helper()
		h, _, err := l.Holder(ctx, "import")
		if err != nil || h != want {
			t.Fatalf("Holder = %q, %v; want %q", h, err, want)
		}
	}

	ok, err := l.TryAcquire(ctx, "import", "A", ttl)
	must(ok, err, true, "A takes a free lease")
	holder("A")
	ok, err = l.TryAcquire(ctx, "import", "B", ttl)
	must(ok, err, false, "B takes A's live lease")
	ok, err = l.TryAcquire(ctx, "sync/local", "B", ttl)
	must(ok, err, true, "B takes another lease")
	ok, err = l.Renew(ctx, "import", "B", ttl)
	must(ok, err, false, "B renews A's lease")

	clock.add(40 * time.Second)
	ok, err = l.TryAcquire(ctx, "import", "A", ttl) // the holder again: extended to 100 s
	must(ok, err, true, "A takes its own lease again")
	clock.add(40 * time.Second) // 80 s: past the first expiry, inside the extended one
	ok, err = l.TryAcquire(ctx, "import", "B", ttl)
	must(ok, err, false, "B takes A's extended lease")
	ok, err = l.Renew(ctx, "import", "A", ttl) // to 140 s
	must(ok, err, true, "A renews")
	clock.add(50 * time.Second) // 130 s
	ok, err = l.TryAcquire(ctx, "import", "B", ttl)
	must(ok, err, false, "B takes A's renewed lease")

	clock.add(10 * time.Second) // 140 s: A stopped renewing, the lease expired
	holder("")
	ok, err = l.TryAcquire(ctx, "import", "B", ttl)
	must(ok, err, true, "B takes over A's expired lease")
	holder("B")
	ok, err = l.Renew(ctx, "import", "A", ttl)
	must(ok, err, false, "A renews a lease B took over")
	ok, err = l.TryAcquire(ctx, "import", "A", ttl)
	must(ok, err, false, "A takes B's live lease")

	if err := l.Release(ctx, "import", "A"); err != nil { // not A's: nothing happens
		t.Fatal(err)
	}
	holder("B")
	if err := l.Release(ctx, "import", "B"); err != nil {
		t.Fatal(err)
	}
	holder("")
	ok, err = l.TryAcquire(ctx, "import", "A", ttl)
	must(ok, err, true, "A takes a released lease at once")
	ok, err = l.Renew(ctx, "sync/local", "B", ttl)
	must(ok, err, true, "B's other lease is untouched")
}

func testLeasesOneWinnerOfARace(t *testing.T, db *bun.DB) {
	ctx := context.Background()
	l := NewLeases(db)
	const n = 8
	var wg sync.WaitGroup
	won := make(chan string, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := fmt.Sprintf("holder-%d", i)
			ok, err := l.TryAcquire(ctx, "race", h, time.Minute)
			if err != nil {
				errs <- err
			}
			if ok {
				won <- h
			}
		}()
	}
	wg.Wait()
	close(won)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var winners []string
	for h := range won {
		winners = append(winners, h)
	}
	if len(winners) != 1 {
		t.Fatalf("winners = %v; want exactly one", winners)
	}
	if h, _, err := l.Holder(ctx, "race"); err != nil || h != winners[0] {
		t.Errorf("Holder = %q, %v; want the winner %q", h, err, winners[0])
	}
}
