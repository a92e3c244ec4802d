package geo_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"bangui/geo"
	"bangui/geo/geotest"
	"bangui/models"
	"bangui/repo"
)

// counting passes lookups to a real resolver and counts the addresses asked.
type counting struct {
	geo.Resolver
	asked atomic.Int64
}

func (c *counting) LookupMany(ctx context.Context, ips []string) (map[string]models.GeoInfo, error) {
	c.asked.Add(int64(len(ips)))
	return c.Resolver.LookupMany(ctx, ips)
}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// cacheRig is a cache on a real MMDB (initially absent) and a real geo_cache table.
type cacheRig struct {
	db     *bun.DB
	store  *repo.GeoCacheStore
	mmdb   *geo.MMDB
	dbPath string
	inner  *counting
	clock  *clock
}

func newCacheRig(t *testing.T, installed bool) *cacheRig {
	t.Helper()
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &cacheRig{db: db, store: repo.NewGeoCacheStore(db), dbPath: filepath.Join(t.TempDir(), "country.mmdb"),
		clock: &clock{time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}}
	if installed {
		r.install(t)
	}
	if r.mmdb, err = geo.OpenMMDB(r.dbPath, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.mmdb.Close() })
	r.inner = &counting{Resolver: r.mmdb}
	return r
}

func (r *cacheRig) install(t *testing.T) {
	t.Helper()
	if err := geotest.WriteCountryDB(r.dbPath, geotest.Countries, geotest.IPLocationDB); err != nil {
		t.Fatal(err)
	}
	if r.mmdb != nil {
		if _, err := r.mmdb.Refresh(); err != nil {
			t.Fatal(err)
		}
	}
}

func (r *cacheRig) cache() *geo.Cache {
	c := geo.NewCache(r.inner, r.store, 0)
	c.SetClock(r.clock.now)
	return c
}

// rows returns the geo_cache table by IP.
func (r *cacheRig) rows(t *testing.T) map[string]models.GeoCacheEntry {
	t.Helper()
	var rows []models.GeoCacheEntry
	if err := r.db.NewSelect().Model(&rows).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := map[string]models.GeoCacheEntry{}
	for _, row := range rows {
		out[row.IP] = row
	}
	return out
}

func TestCacheWritesOnlyOnFlush(t *testing.T) {
	ctx := context.Background()
	r := newCacheRig(t, true)
	c := r.cache()
	got, err := c.LookupMany(ctx, []string{"8.8.8.8", "193.99.144.80", "9.9.9.9", "10.0.0.1", "8.8.8.8"})
	if err != nil {
		t.Fatal(err)
	}
	if got["8.8.8.8"].CountryCode != "US" || got["193.99.144.80"].CountryName != "Germany" ||
		got["9.9.9.9"].Known() || got["10.0.0.1"].Special != models.GeoPrivate {
		t.Fatalf("answers = %+v", got)
	}
	if n := r.inner.asked.Load(); n != 3 {
		t.Errorf("resolver asked %d addresses, want 3 (private ones and duplicates never go out)", n)
	}
	if rows := r.rows(t); len(rows) != 0 {
		t.Fatalf("lookups wrote %d rows; only the flush may write", len(rows))
	}
	if _, dirty := c.Len(); dirty != 3 {
		t.Errorf("dirty entries = %d, want 3", dirty)
	}
	n, err := c.Flush(ctx)
	if err != nil || n != 3 {
		t.Fatalf("flush = %d, %v", n, err)
	}
	rows := r.rows(t)
	if len(rows) != 3 {
		t.Fatalf("rows after flush = %v", rows)
	}
	if us := rows["8.8.8.8"]; us.CountryCode == nil || *us.CountryCode != "US" || *us.CountryName != "United States" {
		t.Errorf("8.8.8.8 row = %+v", us)
	}
	if unknown := rows["9.9.9.9"]; unknown.CountryCode != nil {
		t.Errorf("failed lookup stored with country %q, want NULL", *unknown.CountryCode)
	}
	if _, ok := rows["10.0.0.1"]; ok {
		t.Error("a private address was stored")
	}
	if n, _ := c.Flush(ctx); n != 0 {
		t.Errorf("second flush wrote %d entries, want 0", n)
	}

	// A fresh cache (a restart) answers from the table without asking the resolver.
	before := r.inner.asked.Load()
	c2 := r.cache()
	if g, _ := c2.Lookup(ctx, "193.99.144.80"); g.CountryCode != "DE" {
		t.Errorf("from the table: %+v", g)
	}
	if r.inner.asked.Load() != before {
		t.Error("the resolver was asked although the table had the answer")
	}
}

func TestCacheNegative(t *testing.T) {
	ctx := context.Background()
	r := newCacheRig(t, false) // no database yet: every lookup fails
	c := r.cache()
	g, err := c.Lookup(ctx, "8.8.8.8")
	if g.Known() || err == nil {
		t.Fatalf("without database = %+v, %v; want unknown and the error", g, err)
	}
	if _, err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if row := r.rows(t)["8.8.8.8"]; row.IP == "" || row.CountryCode != nil {
		t.Fatalf("failed lookup row = %+v, want a row with NULL country", row)
	}

	r.install(t) // the database arrives
	asked := r.inner.asked.Load()
	r.clock.advance(geo.NegativeTTL - time.Second)
	if g, _ := c.Lookup(ctx, "8.8.8.8"); g.Known() {
		t.Errorf("within the negative TTL the failure is remembered, got %+v", g)
	}
	// A restarted cache honours the stored failure too.
	if g, _ := r.cache().Lookup(ctx, "8.8.8.8"); g.Known() {
		t.Errorf("restarted cache within the negative TTL: %+v", g)
	}
	if r.inner.asked.Load() != asked {
		t.Fatal("the resolver was asked within the negative TTL")
	}
	r.clock.advance(2 * time.Second)
	if g, _ := c.Lookup(ctx, "8.8.8.8"); g.CountryCode != "US" {
		t.Errorf("after the negative TTL: %+v, want US", g)
	}
	if _, err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if row := r.rows(t)["8.8.8.8"]; row.CountryCode == nil || *row.CountryCode != "US" {
		t.Errorf("row after the retry = %+v", row)
	}
}

func TestCacheLastSeenAndCleanup(t *testing.T) {
	ctx := context.Background()
	r := newCacheRig(t, true)
	c := r.cache()
	start := r.clock.t
	if _, err := c.LookupMany(ctx, []string{"8.8.8.8", "1.1.1.1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// 8.8.8.8 is seen again 60 days later; 1.1.1.1 never again.
	r.clock.advance(60 * 24 * time.Hour)
	if _, err := c.Lookup(ctx, "8.8.8.8"); err != nil {
		t.Fatal(err)
	}
	if rows := r.rows(t); rows["8.8.8.8"].LastSeen != start.Unix() {
		t.Error("a lookup wrote last_seen before the flush")
	}
	if _, err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.rows(t)["8.8.8.8"].LastSeen; got != r.clock.t.Unix() {
		t.Errorf("last_seen = %d, want %d (refreshed)", got, r.clock.t.Unix())
	}
	// 91 days after the start: 1.1.1.1 is 91 days unseen, 8.8.8.8 only 31.
	r.clock.advance(31 * 24 * time.Hour)
	n, err := c.Cleanup(ctx)
	if err != nil || n != 1 {
		t.Fatalf("cleanup = %d, %v; want 1", n, err)
	}
	rows := r.rows(t)
	if _, ok := rows["1.1.1.1"]; ok {
		t.Error("1.1.1.1, unseen for 91 days, is still there")
	}
	if _, ok := rows["8.8.8.8"]; !ok {
		t.Error("8.8.8.8, seen 31 days ago, was removed")
	}
}

func TestCacheReResolveUnknown(t *testing.T) {
	ctx := context.Background()
	r := newCacheRig(t, false)
	c := r.cache()
	if _, err := c.LookupMany(ctx, []string{"8.8.8.8", "193.99.144.80", "9.9.9.9"}); err == nil {
		t.Fatal("want an error without database")
	}
	if _, err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.store.CountUnresolved(ctx); n != 3 {
		t.Fatalf("unresolved rows = %d, want 3", n)
	}
	r.install(t)
	// Within the negative TTL a lookup still says unknown; the action does not wait.
	res, err := r.cache().ReResolveUnknown(ctx) // a fresh cache: the work list comes from the table
	if err != nil {
		t.Fatal(err)
	}
	if res.Asked != 3 || res.Resolved != 2 {
		t.Errorf("re-resolve = %+v, want 3 asked, 2 resolved (9.9.9.9 is in no network)", res)
	}
	rows := r.rows(t)
	if de := rows["193.99.144.80"]; de.CountryCode == nil || *de.CountryCode != "DE" {
		t.Errorf("193.99.144.80 after re-resolve = %+v", de)
	}
	if n, _ := r.store.CountUnresolved(ctx); n != 1 {
		t.Errorf("unresolved rows after re-resolve = %d, want 1", n)
	}
	if g, _ := c.Lookup(ctx, "8.8.8.8"); g.Known() {
		// The first cache still holds its own negative entry until its TTL ends.
		t.Logf("old cache still negative: %+v", g)
	}
}

func TestCacheMemoryBound(t *testing.T) {
	ctx := context.Background()
	r := newCacheRig(t, true)
	c := geo.NewCache(r.inner, r.store, 10)
	c.SetClock(r.clock.now)
	var ips []string
	for i := range 30 {
		ips = append(ips, fmt.Sprintf("8.8.8.%d", i+1))
	}
	if _, err := c.LookupMany(ctx, ips); err != nil {
		t.Fatal(err)
	}
	if n, dirty := c.Len(); n != 30 || dirty != 30 {
		t.Fatalf("before flush: %d entries, %d dirty; unflushed answers must stay", n, dirty)
	}
	if _, err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Len(); n > 10 {
		t.Errorf("after flush %d entries in memory, bound is 10", n)
	}
	if rows := r.rows(t); len(rows) != 30 {
		t.Errorf("%d rows stored, want 30", len(rows))
	}
}
