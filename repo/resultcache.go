package repo

import (
	"context"
	"slices"
	"sync"
	"time"
)

// resultCache keeps the results of expensive read-only statements (counts
// over a million archived events) for as long as the archive is unchanged
// and at most resultTTL, so that the many requests of a busy panel share one
// computation instead of each walking the same index. Whether the archive
// changed comes from the archive's change counter (version), which the
// database itself raises on every insert, update and delete of the
// archive, whoever makes it (this pool, another store, another process);
// writes to other tables do not count. A window that moves with the clock ("the last 365 days") is
// matched within resultTTL: a result computed for a window starting up to
// resultTTL earlier is reused. Concurrent misses of one key wait for a
// single computation.
type resultCache struct {
	version func(ctx context.Context) (int64, error) // the archive's change counter

	mu       sync.Mutex
	disabled bool                     // benchmarks measure the statements themselves
	entries  map[string][]*cacheEntry // by key: one per window start
	size     int
	now      func() time.Time

	// The warmer (see getPlanned): the queries asked lately, by key, and
	// whether its goroutine runs; seen is the version get read last.
	warm    map[string]*warmQuery
	warming bool
	closed  bool
	seen    int64
	// how often the warmer looks and how soon it counts again after a
	// change (warmEvery, warmGap; tests shorten them)
	warmEvery, warmGap time.Duration
}

// resultTTL bounds how old a cached result may be, and how far the start of
// its window may differ from the one asked for.
const resultTTL = time.Minute

// maxCacheEntries bounds the cache; it is emptied when full.
const maxCacheEntries = 512

type cacheEntry struct {
	version int64
	at      time.Time
	since   int64         // window start in unix seconds, 0 for none
	done    chan struct{} // closed when val and err are set
	val     any
	err     error
}

func newResultCache(version func(ctx context.Context) (int64, error)) *resultCache {
	return &resultCache{version: version, entries: map[string][]*cacheEntry{}, now: time.Now, warm: map[string]*warmQuery{},
		warmEvery: warmEvery, warmGap: warmGap}
}

// get returns the cached result of key for a window starting at since, or
// runs compute and caches what it returns. Errors are not cached.
func (c *resultCache) get(ctx context.Context, key string, since int64, compute func() (any, error)) (any, error) {
	c.mu.Lock()
	disabled := c.disabled
	c.mu.Unlock()
	if disabled {
		return compute()
	}
	v, err := c.version(ctx)
	if err != nil {
		return compute()
	}
	c.mu.Lock()
	c.seen = v
	now := c.now()
	var fresh []*cacheEntry
	var hit *cacheEntry
	for _, e := range c.entries[key] {
		if e.version != v || now.Sub(e.at) > resultTTL {
			c.size--
			continue // outdated: drop it
		}
		fresh = append(fresh, e)
		if hit == nil && absDiff(e.since, since) <= int64(resultTTL/time.Second) {
			hit = e
		}
	}
	c.entries[key] = fresh
	if hit != nil {
		c.mu.Unlock()
		select {
		case <-hit.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if hit.err == nil {
			return hit.val, nil
		}
		return compute() // the shared computation failed (perhaps its caller left): try on our own
	}
	e := c.addLocked(key, v, now, since)
	c.mu.Unlock()
	c.fill(key, e, compute)
	return e.val, e.err
}

// addLocked adds an entry of key under computation (c.mu held), emptying
// the cache when it is full.
func (c *resultCache) addLocked(key string, v int64, now time.Time, since int64) *cacheEntry {
	if c.size >= maxCacheEntries {
		clear(c.entries)
		c.size = 0
	}
	e := &cacheEntry{version: v, at: now, since: since, done: make(chan struct{})}
	c.entries[key] = append(c.entries[key], e)
	c.size++
	return e
}

// fill computes the entry e of key; a failed computation is not kept.
func (c *resultCache) fill(key string, e *cacheEntry, compute func() (any, error)) {
	e.val, e.err = compute()
	if e.err != nil {
		c.drop(key, e)
	}
	close(e.done)
}

// drop removes the entry e of key (its computation failed).
func (c *resultCache) drop(key string, e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if list := c.entries[key]; len(list) > 0 {
		if k := slices.Index(list, e); k >= 0 {
			c.entries[key] = slices.Delete(list, k, k+1)
			c.size--
		}
	}
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}
