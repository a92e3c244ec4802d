package repo

import (
	"context"
	"testing"
	"time"

	"bangui/models"
)

// The warmer counts again after fail2ban wrote to its file, before any
// request asks: the next request finds the new counts computed.
func TestWarmerCountsAgainAfterAChange(t *testing.T) {
	ctx := context.Background()
	path := writeF2B(t, fixture())
	r := openTestReader(t, path, defaultReaderConfig())
	r.cache.mu.Lock()
	r.cache.warmEvery, r.cache.warmGap = 10*time.Millisecond, 0
	r.cache.mu.Unlock()
	week := models.HistoryFilter{Since: fixedNow.Add(-7 * 24 * time.Hour)}
	if total, _, err := r.CountsByJail(ctx, week); err != nil || total != 10 {
		t.Fatalf("CountsByJail = %d, %v; want 10", total, err)
	}
	rw := openRW(t, path)
	if _, err := rw.ExecContext(ctx, `INSERT INTO bans (jail, ip, timeofban, bantime, bancount, data) VALUES ('sshd', '192.0.2.9', ?, 600, 1, '{}')`, fixedNow.Unix()); err != nil {
		t.Fatal(err)
	}
	v, err := r.version.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := cacheKey("jail", week)
	warmed := func() (int64, bool) {
		r.cache.mu.Lock()
		defer r.cache.mu.Unlock()
		for _, e := range r.cache.entries[key] {
			if e.version != v {
				continue
			}
			select {
			case <-e.done:
				if e.err == nil {
					return e.val.(jailCounts).total, true
				}
			default:
			}
		}
		return 0, false
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if total, ok := warmed(); ok {
			if total != 11 {
				t.Fatalf("the warmer counted %d, want 11", total)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the warmer did not count again within 10 s of the change")
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
	if total, _, err := r.CountsByJail(ctx, week); err != nil || total != 11 {
		t.Fatalf("CountsByJail after the change = %d, %v; want 11", total, err)
	}
}

// A query nobody asked for warmKeep is forgotten, and the warmer stops
// when none is left or the cache is closed.
func TestWarmerForgetsAndStops(t *testing.T) {
	c := newResultCache(func(context.Context) (int64, error) { return 1, nil })
	clock := time.Now()
	c.now = func() time.Time { return clock }
	c.warmEvery = time.Hour // rounds run by hand below
	runs := 0
	p := func(ctx context.Context, f models.HistoryFilter) (int64, func() (any, error), error) {
		return 0, func() (any, error) { runs++; return int64(runs), nil }, nil
	}
	if _, err := c.getPlanned(context.Background(), "k", models.HistoryFilter{}, p); err != nil || runs != 1 {
		t.Fatalf("getPlanned: %v, %d runs", err, runs)
	}
	clock = clock.Add(resultTTL - warmAhead)
	if !c.warmOnce() || runs != 2 {
		t.Fatalf("before resultTTL the warmer should count again: %d runs", runs)
	}
	clock = clock.Add(warmKeep + time.Second)
	c.warmOnce() // forgets k
	if c.warmOnce() {
		t.Error("the warmer goes on with nothing to warm")
	}
	if _, err := c.getPlanned(context.Background(), "k", models.HistoryFilter{}, p); err != nil {
		t.Fatal(err)
	}
	c.close()
	if c.warmOnce() {
		t.Error("the warmer goes on after close")
	}
}
