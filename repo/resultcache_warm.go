package repo

import (
	"context"
	"time"

	"bangui/models"
)

// The warmer keeps the counts that pages asked for lately computed ahead
// of the next request: a year of bans takes a few hundred milliseconds to
// count, and without it the first request after a change of the data (or
// after resultTTL) would wait for that. A query asked through getPlanned
// is noted with its plan; every warmEvery the warmer computes again, one
// after the other, the noted queries whose result is outdated — the data
// changed (at most once per warmGap for each, so a steady stream of bans
// costs a bounded share of a core) or it is about to pass resultTTL — as
// the cache's entry for the current version. A request arriving meanwhile
// waits for that computation rather than starting its own. A query not
// asked for warmKeep is forgotten, and the goroutine ends when none is
// left, when the version cannot be read (the database closed) or at close.

const (
	warmEvery = time.Second
	warmGap   = 5 * time.Second
	warmAhead = 20 * time.Second // refresh this long before resultTTL
	warmKeep  = 5 * time.Minute
	// warmTimeout bounds one computation of the warmer.
	warmTimeout = 30 * time.Second
)

// countPlan is how to compute one cached result for a filter: the window start
// the cache matches on and the computation, which runs with ctx.
type countPlan func(ctx context.Context, f models.HistoryFilter) (since int64, compute func() (any, error), err error)

// warmQuery is a query the warmer keeps current.
type warmQuery struct {
	f       models.HistoryFilter
	window  time.Duration // now - f.Since when asked; 0 for a filter without a window
	plan    countPlan
	asked   time.Time
	version int64     // the version it was last computed for
	at      time.Time // when
}

// getPlanned is get for the result p computes for f, noted for the warmer.
func (c *resultCache) getPlanned(ctx context.Context, key string, f models.HistoryFilter, p countPlan) (any, error) {
	since, compute, err := p(ctx, f)
	if err != nil {
		return nil, err
	}
	v, err := c.get(ctx, key, since, compute)
	if err == nil {
		c.note(key, f, p)
	}
	return v, err
}

// note remembers key's query for the warmer and starts it if needed.
func (c *resultCache) note(key string, f models.HistoryFilter, p countPlan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.disabled || c.closed {
		return
	}
	now := c.now()
	q := c.warm[key]
	if q == nil {
		q = &warmQuery{version: c.seen, at: now} // just computed (or found) by get
		c.warm[key] = q
	}
	q.f, q.plan, q.asked, q.window = f, p, now, 0
	if !f.Since.IsZero() {
		q.window = now.Sub(f.Since)
	}
	if !c.warming {
		c.warming = true
		go c.warmLoop()
	}
}

// close stops the warmer.
func (c *resultCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

func (c *resultCache) warmLoop() {
	t := time.NewTicker(c.warmEvery)
	defer t.Stop()
	for range t.C {
		if !c.warmOnce() {
			return
		}
	}
}

// warmOnce runs one round of the warmer; false ends it.
func (c *resultCache) warmOnce() bool {
	stop := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closed || len(c.warm) == 0 {
			c.warming = false
			return true
		}
		return false
	}
	if stop() {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), warmTimeout)
	defer cancel()
	v, err := c.version(ctx)
	if err != nil {
		c.mu.Lock()
		c.warming = false
		c.mu.Unlock()
		return false
	}
	type due struct {
		key string
		q   *warmQuery
		f   models.HistoryFilter
		p   countPlan
	}
	var todo []due
	c.mu.Lock()
	now := c.now()
	for key, q := range c.warm {
		switch {
		case now.Sub(q.asked) > warmKeep:
			delete(c.warm, key)
		case q.version != v && now.Sub(q.at) >= c.warmGap, now.Sub(q.at) >= resultTTL-warmAhead:
			f := q.f
			if q.window > 0 {
				f.Since = now.Add(-q.window)
			}
			todo = append(todo, due{key, q, f, q.plan})
		}
	}
	c.mu.Unlock()
	for _, d := range todo {
		if stop() {
			return false
		}
		since, compute, err := d.p(ctx, d.f)
		if err == nil {
			c.refresh(ctx, d.key, since, v, compute)
		}
		c.mu.Lock()
		d.q.version, d.q.at = v, c.now()
		c.mu.Unlock()
	}
	return true
}

// refresh computes key for a window starting at since as an entry of
// version v, unless the cache holds one of v for that window computed
// lately (a request did it, or is doing it). The older entries keep
// answering until they expire.
func (c *resultCache) refresh(ctx context.Context, key string, since, v int64, compute func() (any, error)) {
	c.mu.Lock()
	now := c.now()
	for _, e := range c.entries[key] {
		if e.version == v && now.Sub(e.at) < resultTTL-warmAhead && absDiff(e.since, since) <= int64(resultTTL/time.Second) {
			c.mu.Unlock()
			return
		}
	}
	e := c.addLocked(key, v, now, since)
	c.mu.Unlock()
	c.fill(key, e, compute)
}
