package services

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"bangui/geo"
	"bangui/geo/geotest"
	"bangui/models"
	"bangui/repo"
)

// archiveCountries returns each archived event's country by IP (nil: NULL).
func archiveCountries(t *testing.T, a repo.HistoryArchive) map[string]*string {
	t.Helper()
	recs, _, err := a.Bans(context.Background(), models.HistoryFilter{}, models.Page{Number: 1, Size: 500})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*string{}
	for _, r := range recs {
		c := r.Country
		out[r.IP] = &c
	}
	// Bans reports NULL as ""; tell NULL apart with the count of rows not looked up.
	return out
}

func geoRig(t *testing.T) (repo.HistoryArchive, string, *Geo) {
	t.Helper()
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	archive := repo.NewHistoryArchive(db)
	now := time.Now()
	var events []models.ArchivedBan
	for i, ip := range []string{"193.99.144.80", "8.8.8.8", "2a00:1450::1", "10.0.0.1", "9.9.9.9", "193.99.144.80"} {
		events = append(events, models.ArchivedBan{Jail: "sshd", IP: ip, TimeOfBan: now.Add(-time.Duration(i+1) * time.Minute).Unix()})
	}
	if _, err := archive.Archive(ctx, events); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "country.mmdb")
	g := OpenGeo(GeoConfig{CountryDB: dbPath}, db, archive, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { g.Close() })
	return archive, dbPath, g
}

func TestFillArchiveCountries(t *testing.T) {
	ctx := context.Background()
	archive, dbPath, g := geoRig(t)

	// Without a database nothing is written and every event stays NULL.
	local, err := geo.OpenMMDB(dbPath, "")
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	n, err := FillArchiveCountries(ctx, archive, local)
	if !errors.Is(err, geo.ErrNoDatabase) || n != 1 {
		// the private address is answered without a database
		t.Fatalf("fill without database = %d, %v; want 1 (the private address) and ErrNoDatabase", n, err)
	}
	if left, _ := archive.CountWithoutCountry(ctx); left != 5 {
		t.Fatalf("%d events without country, want 5", left)
	}
	// The job's variant is quiet about the missing database.
	if _, err := g.FillArchive(ctx); err != nil {
		t.Fatalf("FillArchive without database: %v", err)
	}

	if err := geotest.WriteCountryDB(dbPath, geotest.Countries, geotest.IPLocationDB); err != nil {
		t.Fatal(err)
	}
	if changed, err := g.RefreshDatabases(ctx); err != nil || !changed {
		t.Fatalf("refresh = %v, %v", changed, err)
	}
	// The refresh turned the private address's "" back into NULL, so all 6 are filled.
	n, err = g.FillArchive(ctx)
	if err != nil || n != 6 {
		t.Fatalf("fill = %d, %v; want 6 events", n, err)
	}
	if left, _ := archive.CountWithoutCountry(ctx); left != 0 {
		t.Errorf("%d events still without country", left)
	}
	got := archiveCountries(t, archive)
	for ip, want := range map[string]string{"193.99.144.80": "DE", "8.8.8.8": "US", "2a00:1450::1": "IE", "10.0.0.1": "", "9.9.9.9": ""} {
		if got[ip] == nil || *got[ip] != want {
			t.Errorf("%s stored as %v, want %q", ip, got[ip], want)
		}
	}
	counts, err := archive.CountsByCountry(ctx, models.HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []models.CountryCount{{Code: "DE", Count: 2}, {Code: "IE", Count: 1}, {Code: "US", Count: 1}, {Code: "", Count: 2}}
	if len(counts) != len(want) {
		t.Fatalf("counts = %v, want %v", counts, want)
	}
	for i := range want {
		if counts[i] != want[i] {
			t.Errorf("counts = %v, want %v", counts, want)
			break
		}
	}
	// Nothing left: a second run does nothing.
	if n, err := g.FillArchive(ctx); n != 0 || err != nil {
		t.Errorf("second fill = %d, %v", n, err)
	}
	// A changed database makes the unknown ones eligible again.
	nets := map[string]string{"9.9.9.0/24": "CH"}
	for k, v := range geotest.Countries {
		nets[k] = v
	}
	if err := geotest.WriteCountryDB(dbPath, nets, geotest.IPLocationDB); err != nil {
		t.Fatal(err)
	}
	if changed, err := g.RefreshDatabases(ctx); err != nil || !changed {
		t.Fatalf("refresh after update = %v, %v", changed, err)
	}
	if n, err := g.FillArchive(ctx); n != 2 || err != nil {
		t.Errorf("fill after update = %d, %v; want the 2 unknown events", n, err)
	}
	if c := archiveCountries(t, archive)["9.9.9.9"]; c == nil || *c != "CH" {
		t.Errorf("9.9.9.9 after the update = %v", c)
	}
}

func TestGeoReResolveUnknownAndLookup(t *testing.T) {
	ctx := context.Background()
	archive, dbPath, g := geoRig(t)
	// A page asks while no database is there: unknown, cached as failed.
	got := g.Lookup(ctx, []string{"8.8.8.8", "10.0.0.1"})
	if got["8.8.8.8"].Known() || got["10.0.0.1"].Special != models.GeoPrivate {
		t.Fatalf("lookup = %+v", got)
	}
	if n, err := g.Flush(ctx); err != nil || n != 1 {
		t.Fatalf("flush = %d, %v", n, err)
	}
	if err := geotest.WriteCountryDB(dbPath, geotest.Countries, geotest.IPLocationDB); err != nil {
		t.Fatal(err)
	}
	// Within the negative TTL the page still says unknown…
	if g.Lookup(ctx, []string{"8.8.8.8"})["8.8.8.8"].Known() {
		t.Fatal("negative cache ignored")
	}
	// …until someone presses "Re-resolve unknown".
	rep, err := g.ReResolveUnknown(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Asked != 1 || rep.Resolved != 1 || rep.Archived != 6 {
		t.Errorf("report = %+v, want 1 asked, 1 resolved, 6 archived events", rep)
	}
	if g := g.Lookup(ctx, []string{"8.8.8.8"})["8.8.8.8"]; g.CountryCode != "US" {
		t.Errorf("after re-resolve: %+v", g)
	}
	if left, _ := archive.CountWithoutCountry(ctx); left != 0 {
		t.Errorf("%d archived events without country", left)
	}
	if st := g.Status(); !st.Country.Loaded || st.Online {
		t.Errorf("status = %+v", st)
	}
}

func TestThresholds(t *testing.T) {
	ctx := context.Background()
	_, _, g := geoRig(t)
	if th, err := g.Thresholds(ctx); err != nil || th != models.DefaultMapThresholds {
		t.Fatalf("defaults = %+v, %v", th, err)
	}
	var verr *ValidationError
	for _, in := range []ThresholdsInput{{"0", "5", "9"}, {"10", "5", "20"}, {"1", "2", "2"}, {"a", "2", "3"}} {
		if _, err := g.SetThresholds(ctx, in); !errors.As(err, &verr) {
			t.Errorf("%+v accepted (%v)", in, err)
		}
	}
	if _, err := g.SetThresholds(ctx, ThresholdsInput{" 10 ", "40", "200"}); err != nil {
		t.Fatal(err)
	}
	if th, _ := g.Thresholds(ctx); th != (models.MapThresholds{Low: 10, Medium: 40, High: 200}) {
		t.Errorf("saved = %+v", th)
	}
}
