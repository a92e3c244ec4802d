package jobs

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"bangui/geo/geotest"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
)

// TestGeoJobs runs the geo jobs against a real database and a real
// country file: the flush job writes what lookups left in memory, the fill
// job gives archived bans their country (after the file appears), and the
// cleanup job removes addresses unseen for 90 days.
func TestGeoJobs(t *testing.T) {
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	archive := repo.NewHistoryArchive(db)
	if _, err := archive.Archive(ctx, []models.ArchivedBan{{Jail: "sshd", IP: "8.8.8.8", TimeOfBan: time.Now().Unix()}}); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "country.mmdb")
	store := repo.NewGeoCacheStore(db)
	g := services.OpenGeo(services.GeoConfig{CountryDB: dbPath}, store, repo.NewSettingsStore(db), archive, quietLog())
	defer g.Close()
	rows := func() map[string]models.GeoCacheEntry {
		got, err := store.Get(ctx, []string{"8.8.8.8", "193.99.144.80", "old.example"})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]models.GeoCacheEntry{}
		for _, r := range got {
			m[r.IP] = r
		}
		return m
	}

	if err := geotest.WriteCountryDB(dbPath, geotest.Countries, geotest.IPLocationDB); err != nil {
		t.Fatal(err)
	}
	// The refresh job notices the new file, the fill job fills the archive.
	RefreshGeoDatabases(g, quietLog())(ctx)
	FillArchiveCountries(g, quietLog())(ctx)
	if n, _ := archive.CountWithoutCountry(ctx); n != 0 {
		t.Errorf("fill job left %d events without country", n)
	}
	counts, _ := archive.CountsByCountry(ctx, models.HistoryFilter{})
	if len(counts) != 1 || counts[0] != (models.CountryCount{Code: "US", Count: 1}) {
		t.Errorf("counts after the fill job = %v", counts)
	}

	g.Lookup(ctx, []string{"193.99.144.80"})
	if len(rows()) != 0 {
		t.Fatal("a lookup wrote to the database")
	}
	FlushGeoCache(g, quietLog())(ctx)
	if r, ok := rows()["193.99.144.80"]; !ok || r.CountryCode == nil || *r.CountryCode != "DE" {
		t.Fatalf("flush job wrote %+v", rows())
	}

	old := time.Now().Add(-91 * 24 * time.Hour).Unix()
	if _, err := store.Upsert(ctx, []models.GeoCacheEntry{{IP: "old.example", CachedAt: old, LastSeen: old}}); err != nil {
		t.Fatal(err)
	}
	CleanupGeoCache(g, quietLog())(ctx)
	got := rows()
	if _, ok := got["old.example"]; ok {
		t.Error("cleanup job kept an entry unseen for 91 days")
	}
	if _, ok := got["193.99.144.80"]; !ok {
		t.Error("cleanup job removed a fresh entry")
	}
}
