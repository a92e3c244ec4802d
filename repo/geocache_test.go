package repo

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// TestGeoCacheStore checks the geo cache on every dialect: upserts replace
// an address's answer but keep the later last_seen, failed lookups (no
// country) are listed and counted, and rows unseen since a cutoff go.
func TestGeoCacheStore(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		st := NewGeoCacheStore(db)
		de, fr := "DE", "FR"
		entry := func(ip string, code *string, seen int64) models.GeoCacheEntry {
			return models.GeoCacheEntry{IP: ip, CountryCode: code, CachedAt: seen, LastSeen: seen}
		}
		if n, err := st.Upsert(ctx, []models.GeoCacheEntry{entry("192.0.2.1", &de, 200), entry("192.0.2.2", nil, 100), entry("192.0.2.3", nil, 300)}); err != nil || n != 3 {
			t.Fatalf("Upsert = %d, %v", n, err)
		}
		// A new answer for .1 seen earlier, and .2 resolved now.
		if _, err := st.Upsert(ctx, []models.GeoCacheEntry{entry("192.0.2.1", &fr, 150), entry("192.0.2.2", &de, 400)}); err != nil {
			t.Fatal(err)
		}
		got, err := st.Get(ctx, []string{"192.0.2.1", "192.0.2.2", "198.51.100.1"})
		if err != nil || len(got) != 2 {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		slices.SortFunc(got, func(a, b models.GeoCacheEntry) int { return int(a.LastSeen - b.LastSeen) })
		if *got[0].CountryCode != "FR" || got[0].LastSeen != 200 || *got[1].CountryCode != "DE" || got[1].LastSeen != 400 {
			t.Fatalf("after the second upsert: %+v %+v", got[0], got[1])
		}
		if ips, err := st.Unresolved(ctx); err != nil || !slices.Equal(ips, []string{"192.0.2.3"}) {
			t.Fatalf("Unresolved = %v, %v", ips, err)
		}
		if n, err := st.CountUnresolved(ctx); err != nil || n != 1 {
			t.Fatalf("CountUnresolved = %d, %v", n, err)
		}
		if n, err := st.DeleteUnseenSince(ctx, time.Unix(300, 0)); err != nil || n != 1 {
			t.Fatalf("DeleteUnseenSince = %d, %v", n, err)
		}
		if got, _ := st.Get(ctx, []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}); len(got) != 2 {
			t.Fatalf("after cleanup: %+v", got)
		}
	})
}
