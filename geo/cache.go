package geo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"bangui/models"
)

// Store persists cached lookups (the geo_cache table). A nil country code
// marks a failed lookup.
type Store interface {
	// Get returns the stored entries of the given addresses (absent ones are skipped).
	Get(ctx context.Context, ips []string) ([]models.GeoCacheEntry, error)
	// Unresolved returns every stored address without a country.
	Unresolved(ctx context.Context) ([]string, error)
	// Upsert inserts or replaces entries, keeping the later last_seen.
	Upsert(ctx context.Context, entries []models.GeoCacheEntry) (int64, error)
	// DeleteUnseenSince removes entries last seen before cutoff.
	DeleteUnseenSince(ctx context.Context, cutoff time.Time) (int64, error)
}

// Cache timings and sizes.
const (
	// NegativeTTL is how long a failed lookup is not tried again.
	NegativeTTL = 5 * time.Minute
	// PositiveTTL is how long a found country is trusted before it is looked up again.
	PositiveTTL = 30 * 24 * time.Hour
	// UnseenTTL is how long an address may go unseen before the cleanup removes it.
	UnseenTTL = 90 * 24 * time.Hour
	// touchEvery is how stale last_seen may get in the store before a hit rewrites it.
	touchEvery = time.Hour
	// DefaultCacheEntries bounds the entries held in memory.
	DefaultCacheEntries = 50_000
	// flushBatch entries go into one Upsert.
	flushBatch = 500
)

// Cache is a Resolver in front of another one. It keeps answers in memory
// and in a Store: found countries for PositiveTTL, failed lookups (no
// country) for NegativeTTL. Lookups only read the store; every write (new
// answers, refreshed last_seen) waits in memory for Flush, which a
// background job calls, so serving a page never writes to the database.
// Special ranges are answered at once and never stored.
type Cache struct {
	next     Resolver
	store    Store // nil: memory only
	classify *Classifier
	now      func() time.Time
	max      int

	mu      sync.Mutex
	entries map[string]*entry
}

// entry is one cached answer.
type entry struct {
	info      models.GeoInfo
	cachedAt  time.Time // when it was looked up
	lastSeen  time.Time // when it was last asked for
	savedSeen time.Time // last_seen as stored; zero when not stored yet
	dirty     bool      // needs writing
	version   uint64    // bumped on every change, so Flush can tell
}

// NewCache returns a cache in front of next, persisting to store (may be
// nil), holding at most max entries in memory (DefaultCacheEntries if max <= 0).
func NewCache(next Resolver, store Store, max int) *Cache {
	if max <= 0 {
		max = DefaultCacheEntries
	}
	return &Cache{next: next, store: store, classify: NewClassifier(), now: time.Now, max: max,
		entries: map[string]*entry{}}
}

// SetClock replaces the cache's clock (tests).
func (c *Cache) SetClock(now func() time.Time) { c.now = now }

// fresh reports whether a cached answer may still be used at now.
func fresh(info models.GeoInfo, cachedAt, now time.Time) bool {
	if info.Known() {
		return now.Sub(cachedAt) < PositiveTTL
	}
	return now.Sub(cachedAt) < NegativeTTL
}

// Lookup resolves one address.
func (c *Cache) Lookup(ctx context.Context, ip string) (models.GeoInfo, error) {
	return lookupOne(ctx, c, ip)
}

// LookupMany answers every valid address: from memory, else from the
// store, else from the next resolver. Addresses the next resolver could
// not answer are cached as failed (unknown) and returned as unknown, with
// the resolver's error. Invalid addresses are left out.
func (c *Cache) LookupMany(ctx context.Context, ips []string) (map[string]models.GeoInfo, error) {
	now := c.now()
	out := make(map[string]models.GeoInfo, len(ips))
	var misses []string
	var invalid bool
	prev := map[string]models.GeoInfo{} // stale countries, kept if the resolver fails
	c.mu.Lock()
	for _, ip := range ips {
		if _, done := out[ip]; done {
			continue
		}
		a, err := ParseIP(ip)
		if err != nil {
			invalid = true
			continue
		}
		if sp := c.classify.Special(a); sp != "" {
			out[ip] = models.GeoInfo{IP: ip, Special: sp}
			continue
		}
		if e, ok := c.entries[ip]; ok {
			if fresh(e.info, e.cachedAt, now) {
				c.touch(e, now)
				out[ip] = e.info
				continue
			}
			if e.info.Known() {
				prev[ip] = e.info
			}
		}
		out[ip] = models.GeoInfo{IP: ip}
		misses = append(misses, ip)
	}
	c.mu.Unlock()
	if len(misses) == 0 {
		return out, invalidErr(invalid)
	}

	// Second level: the store (read only).
	stored := map[string]models.GeoCacheEntry{}
	if c.store != nil {
		rows, err := c.store.Get(ctx, misses)
		if err != nil {
			return out, fmt.Errorf("geo: cache: %w", err)
		}
		for _, r := range rows {
			stored[r.IP] = r
		}
	}
	var ask []string
	c.mu.Lock()
	for _, ip := range misses {
		r, ok := stored[ip]
		if !ok {
			ask = append(ask, ip)
			continue
		}
		info := infoOfEntry(r)
		cachedAt := time.Unix(r.CachedAt, 0)
		if !fresh(info, cachedAt, now) {
			if info.Known() {
				prev[ip] = info
			}
			ask = append(ask, ip)
			continue
		}
		e := &entry{info: info, cachedAt: cachedAt, lastSeen: time.Unix(r.LastSeen, 0), savedSeen: time.Unix(r.LastSeen, 0)}
		c.put(ip, e)
		c.touch(e, now)
		out[ip] = info
	}
	c.mu.Unlock()
	if len(ask) == 0 {
		return out, invalidErr(invalid)
	}

	// Third level: the resolver.
	got, err := c.next.LookupMany(ctx, ask)
	if errors.Is(err, ErrInvalidIP) {
		err = nil
	}
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	c.mu.Lock()
	for _, ip := range ask {
		info, ok := got[ip]
		cachedAt := now
		if !ok {
			info = models.GeoInfo{IP: ip}
			if p, had := prev[ip]; had {
				// Keep the old country and try again after NegativeTTL.
				info, cachedAt = p, now.Add(NegativeTTL-PositiveTTL)
			}
		}
		info.IP = ip
		e := &entry{info: info, cachedAt: cachedAt, lastSeen: now, dirty: true}
		if r, ok := stored[ip]; ok {
			e.savedSeen = time.Unix(r.LastSeen, 0)
		}
		c.put(ip, e)
		out[ip] = info
	}
	c.mu.Unlock()
	if err != nil {
		return out, err
	}
	return out, invalidErr(invalid)
}

func invalidErr(invalid bool) error {
	if invalid {
		return ErrInvalidIP
	}
	return nil
}

// touch records that e was asked for at now; the store learns it at the
// next flush when its last_seen is more than touchEvery old.
func (c *Cache) touch(e *entry, now time.Time) {
	if now.After(e.lastSeen) {
		e.lastSeen = now
	}
	if !e.dirty && now.Sub(e.savedSeen) >= touchEvery {
		e.dirty = true
		e.version++
	}
}

// put stores e under ip and makes room when memory is full: clean entries
// go first; dirty ones stay until they are flushed. Called with c.mu held.
func (c *Cache) put(ip string, e *entry) {
	if old, ok := c.entries[ip]; ok {
		e.version = old.version + 1
		if old.dirty {
			e.dirty = true
		}
		if old.savedSeen.After(e.savedSeen) {
			e.savedSeen = old.savedSeen
		}
	}
	c.entries[ip] = e
	if len(c.entries) <= c.max {
		return
	}
	c.evictClean()
}

// evictClean drops clean entries until memory is at 90% of its bound.
// Called with c.mu held.
func (c *Cache) evictClean() {
	target := c.max * 9 / 10
	for ip, e := range c.entries {
		if len(c.entries) <= target {
			return
		}
		if !e.dirty {
			delete(c.entries, ip)
		}
	}
}

// Len is how many entries are in memory, and how many of them wait for a flush.
func (c *Cache) Len() (entries, dirty int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.dirty {
			dirty++
		}
	}
	return len(c.entries), dirty
}

// Flush writes every changed entry to the store in batches and returns how
// many it wrote. Entries that change while it writes stay dirty.
func (c *Cache) Flush(ctx context.Context) (int, error) {
	if c.store == nil {
		return 0, nil
	}
	type snap struct {
		ip      string
		version uint64
		seen    time.Time
	}
	var rows []models.GeoCacheEntry
	var snaps []snap
	c.mu.Lock()
	for ip, e := range c.entries {
		if !e.dirty {
			continue
		}
		rows = append(rows, entryOfInfo(e.info, e.cachedAt, e.lastSeen))
		snaps = append(snaps, snap{ip, e.version, e.lastSeen})
	}
	c.mu.Unlock()
	written := 0
	for start := 0; start < len(rows); start += flushBatch {
		end := min(start+flushBatch, len(rows))
		if _, err := c.store.Upsert(ctx, rows[start:end]); err != nil {
			return written, fmt.Errorf("geo: flush cache: %w", err)
		}
		c.mu.Lock()
		for _, s := range snaps[start:end] {
			if e, ok := c.entries[s.ip]; ok && e.version == s.version {
				e.dirty = false
				e.savedSeen = s.seen
			}
		}
		if len(c.entries) > c.max {
			c.evictClean()
		}
		c.mu.Unlock()
		written += end - start
	}
	return written, nil
}

// Cleanup removes entries unseen for UnseenTTL, from memory and the store.
func (c *Cache) Cleanup(ctx context.Context) (int64, error) {
	cutoff := c.now().Add(-UnseenTTL)
	c.mu.Lock()
	for ip, e := range c.entries {
		if e.lastSeen.Before(cutoff) {
			delete(c.entries, ip)
		}
	}
	c.mu.Unlock()
	if c.store == nil {
		return 0, nil
	}
	n, err := c.store.DeleteUnseenSince(ctx, cutoff)
	if err != nil {
		return 0, fmt.Errorf("geo: cache cleanup: %w", err)
	}
	return n, nil
}

// ForgetUnknown drops failed lookups from memory, so the next request for
// them asks the resolver again (after a database update, for example).
func (c *Cache) ForgetUnknown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ip, e := range c.entries {
		if !e.info.Known() && !e.dirty {
			delete(c.entries, ip)
		}
	}
}

// ReResolveResult says what ReResolveUnknown did.
type ReResolveResult struct {
	Asked    int // addresses without a country that were looked up again
	Resolved int // of those, how many now have a country
}

// ReResolveUnknown looks up again, at once, every address cached without a
// country (in memory or in the store), ignoring the negative cache, and
// writes the answers to the store.
func (c *Cache) ReResolveUnknown(ctx context.Context) (ReResolveResult, error) {
	var res ReResolveResult
	set := map[string]bool{}
	if c.store != nil {
		ips, err := c.store.Unresolved(ctx)
		if err != nil {
			return res, fmt.Errorf("geo: re-resolve: %w", err)
		}
		for _, ip := range ips {
			set[ip] = true
		}
	}
	c.mu.Lock()
	for ip, e := range c.entries {
		if !e.info.Known() && e.info.Special == "" {
			set[ip] = true
		}
	}
	c.mu.Unlock()
	ips := make([]string, 0, len(set))
	for ip := range set {
		ips = append(ips, ip)
	}
	const batch = 1000
	var firstErr error
	for start := 0; start < len(ips); start += batch {
		part := ips[start:min(start+batch, len(ips))]
		got, err := c.next.LookupMany(ctx, part)
		if err != nil && !errors.Is(err, ErrInvalidIP) && firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		now := c.now()
		c.mu.Lock()
		for _, ip := range part {
			info, ok := got[ip]
			if !ok {
				info = models.GeoInfo{IP: ip}
			}
			info.IP = ip
			res.Asked++
			if info.Known() {
				res.Resolved++
			}
			last := now
			if old, ok := c.entries[ip]; ok && old.lastSeen.After(last) {
				last = old.lastSeen
			}
			c.put(ip, &entry{info: info, cachedAt: now, lastSeen: last, dirty: true})
		}
		c.mu.Unlock()
	}
	if _, err := c.Flush(ctx); err != nil {
		return res, err
	}
	return res, firstErr
}

// infoOfEntry turns a stored row into an answer.
func infoOfEntry(r models.GeoCacheEntry) models.GeoInfo {
	g := models.GeoInfo{IP: r.IP}
	if r.CountryCode != nil {
		g.CountryCode = *r.CountryCode
	}
	if r.CountryName != nil {
		g.CountryName = *r.CountryName
	}
	if r.ASN != nil {
		if n, err := strconv.ParseUint(*r.ASN, 10, 32); err == nil {
			g.ASN = uint(n)
		}
	}
	if r.Org != nil {
		g.Org = *r.Org
	}
	return withName(g)
}

// entryOfInfo turns an answer into a row to store.
func entryOfInfo(g models.GeoInfo, cachedAt, lastSeen time.Time) models.GeoCacheEntry {
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	e := models.GeoCacheEntry{IP: g.IP, CountryCode: str(g.CountryCode), CountryName: str(g.CountryName),
		Org: str(g.Org), CachedAt: cachedAt.Unix(), LastSeen: lastSeen.Unix()}
	if g.ASN != 0 {
		e.ASN = str(strconv.FormatUint(uint64(g.ASN), 10))
	}
	return e
}
