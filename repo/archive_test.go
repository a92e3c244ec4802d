package repo

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
	"bangui/repo/f2bgen"
)

// openTestArchive returns an empty SQLite archive whose clock reads fixedNow.
func openTestArchive(t testing.TB) (*bun.DB, *sqliteArchive) {
	t.Helper()
	db := openTestDB(t)
	s := newSQLiteArchive(db)
	s.now = func() time.Time { return fixedNow }
	return db, s
}

// archiveDialects are the HistoryArchive implementations, one per database
// dialect; the archive's behaviour tests run against each of them. open
// returns an empty archive whose clock reads fixedNow, and its database.
var archiveDialects = []struct {
	name string
	open func(t testing.TB) (*bun.DB, HistoryArchive)
}{
	{"sqlite", func(t testing.TB) (*bun.DB, HistoryArchive) { return openTestArchive(t) }},
	{"postgres", func(t testing.TB) (*bun.DB, HistoryArchive) { return openTestPGArchive(t) }},
}

// openTestPGArchive returns an empty PostgreSQL archive whose clock reads fixedNow.
func openTestPGArchive(t testing.TB) (*bun.DB, *postgresArchive) {
	t.Helper()
	db := openTestPG(t)
	s := newPostgresArchive(db)
	s.now = func() time.Time { return fixedNow }
	return db, s
}

// forEachArchive runs test against an empty archive of every dialect.
func forEachArchive(t *testing.T, test func(t *testing.T, db *bun.DB, s HistoryArchive)) {
	for _, d := range archiveDialects {
		t.Run(d.name, func(t *testing.T) {
			db, s := d.open(t)
			test(t, db, s)
		})
	}
}

func archiveFixture() []models.ArchivedBan {
	de := "DE"
	return []models.ArchivedBan{
		/* a1 */ {Jail: "sshd", IP: "1.2.3.4", TimeOfBan: ago(240 * time.Hour), BanTime: 600, BanCount: 1, Failures: 2, Action: "ban", Origin: "selfblock",
			Data: `{"matches": [["", "Nov 18 12:00:00", " host sshd[1]: fail"], "line two"], "failures": 2}`},
		/* a2 */ {Jail: "sshd", IP: "1.2.3.4", TimeOfBan: ago(time.Hour), BanCount: 1, Action: "unban", Origin: "manual"},
		/* a3 */ {Jail: "manual-Jail", IP: "5.5.5.5", TimeOfBan: ago(2 * time.Hour), BanCount: 1, Action: "ban", Origin: "manual", Data: "{}"},
		/* a4 */ {Jail: "blocklist-import", IP: "6.6.6.6", TimeOfBan: ago(72 * time.Hour), BanTime: 86400, BanCount: 1}, // action and origin derived
		/* a5 */ {Jail: "sshd", IP: "10.0.0.%x", TimeOfBan: ago(30 * time.Minute), BanTime: 600, BanCount: 1, Action: "ban", Origin: "selfblock", CountryCode: &de},
		/* a6 */ {Jail: "sshd", IP: "10_0.0.1", TimeOfBan: ago(20 * time.Minute), BanTime: 600, BanCount: 1, Action: "ban", Origin: "selfblock", Data: "null"},
		/* a7 */ {Jail: "sshd", IP: `a'b"c`, TimeOfBan: ago(10 * time.Minute), BanTime: 600, BanCount: 1, Action: "ban", Origin: "selfblock"},
		/* a8 */ {Jail: "recidive", IP: "1.2.3.4", TimeOfBan: ago(400 * 24 * time.Hour), BanTime: -1, BanCount: 3, Action: "ban", Origin: "selfblock"},
	}
}

// archiveOrder maps records back to archiveFixture numbers.
func archiveOrder(t *testing.T, recs []models.BanRecord) []int {
	t.Helper()
	fx := archiveFixture()
	var out []int
	for _, r := range recs {
		n := slices.IndexFunc(fx, func(a models.ArchivedBan) bool {
			return a.IP == r.IP && a.TimeOfBan == r.TimeOfBan.Unix() && a.Jail == r.Jail
		})
		if n < 0 {
			t.Fatalf("record %+v not in fixture", r)
		}
		out = append(out, n+1)
	}
	return out
}

func TestArchiveInsertOrIgnore(t *testing.T) {
	ctx := context.Background()
	forEachArchive(t, func(t *testing.T, db *bun.DB, s HistoryArchive) {
		fx := archiveFixture()
		if n, err := s.Archive(ctx, fx); err != nil || n != 8 {
			t.Fatalf("first archive: %d %v", n, err)
		}
		if n, err := s.Archive(ctx, fx); err != nil || n != 0 {
			t.Fatalf("same events again: %d %v", n, err)
		}
		// One old, one new: only the new one counts. The same ip, jail and time
		// with another action is a different event.
		more := []models.ArchivedBan{fx[2], {Jail: "sshd", IP: "1.2.3.4", TimeOfBan: fx[1].TimeOfBan, Action: "ban", Origin: "manual"}}
		if n, err := s.Archive(ctx, more); err != nil || n != 1 {
			t.Fatalf("mixed: %d %v", n, err)
		}
		if n, err := s.Archive(ctx, nil); err != nil || n != 0 {
			t.Fatalf("nothing: %d %v", n, err)
		}
		// Bad events are refused before anything is written.
		for _, bad := range []models.ArchivedBan{
			{Jail: "sshd", IP: "7.7.7.7", TimeOfBan: 1, Action: "delete"},
			{Jail: "sshd", IP: "7.7.7.7", TimeOfBan: 1, Origin: "auto"},
		} {
			if _, err := s.Archive(ctx, []models.ArchivedBan{{Jail: "sshd", IP: "8.8.8.8", TimeOfBan: 1}, bad}); err == nil {
				t.Errorf("%+v archived", bad)
			}
		}
		sum, err := s.Summary(ctx)
		if err != nil || sum.Rows != 9 {
			t.Fatalf("rows = %d %v, want 9", sum.Rows, err)
		}
		// Defaults: action ban, origin from the jail, data {}.
		recs, _, err := s.Bans(ctx, models.HistoryFilter{Jail: "blocklist-import"}, models.Page{Number: 1, Size: 10})
		if err != nil || len(recs) != 1 || recs[0].Origin != models.OriginBlocklist {
			t.Fatalf("derived origin: %+v %v", recs, err)
		}
		var action, data string
		db.QueryRowContext(ctx, `SELECT action, data FROM history_archive WHERE ip = '6.6.6.6'`).Scan(&action, &data)
		if action != "ban" || data != "{}" {
			t.Fatalf("defaults: action %q data %q", action, data)
		}

		// More events than one INSERT carries.
		var many []models.ArchivedBan
		for i := range 1234 {
			many = append(many, models.ArchivedBan{Jail: "sshd", IP: "192.0.2." + strconv.Itoa(i%250), TimeOfBan: int64(1_000_000 + i), BanCount: 1})
		}
		if n, err := s.Archive(ctx, many); err != nil || n != 1234 {
			t.Fatalf("many: %d %v", n, err)
		}
		if n, err := s.Archive(ctx, many); err != nil || n != 0 {
			t.Fatalf("many again: %d %v", n, err)
		}
	})
}

func TestArchiveQueries(t *testing.T) {
	ctx := context.Background()
	forEachArchive(t, func(t *testing.T, db *bun.DB, s HistoryArchive) {
		if _, ok, err := s.MaxTimeOfBan(ctx); ok || err != nil {
			t.Fatalf("empty archive has a max time (%v)", err)
		}
		if _, err := s.Archive(ctx, archiveFixture()); err != nil {
			t.Fatal(err)
		}
		page := models.Page{Number: 1, Size: 100}
		day := 24 * time.Hour
		for _, tc := range []struct {
			name string
			f    models.HistoryFilter
			want []int
		}{
			{"all", models.HistoryFilter{}, []int{7, 6, 5, 2, 3, 4, 1, 8}},
			{"bans", models.HistoryFilter{Action: "ban"}, []int{7, 6, 5, 3, 4, 1, 8}},
			{"unbans", models.HistoryFilter{Action: "unban"}, []int{2}},
			{"manual", models.HistoryFilter{Origin: models.OriginManual}, []int{2, 3}},
			{"manual bans", models.HistoryFilter{Origin: models.OriginManual, Action: "ban"}, []int{3}},
			{"blocklist", models.HistoryFilter{Origin: models.OriginBlocklist}, []int{4}},
			{"selfblock", models.HistoryFilter{Origin: models.OriginSelfblock}, []int{7, 6, 5, 1, 8}},
			{"unknown origin", models.HistoryFilter{Origin: "auto"}, nil},
			{"24h", models.HistoryFilter{Since: fixedNow.Add(-day)}, []int{7, 6, 5, 2, 3}},
			{"jail sshd 7d", models.HistoryFilter{Jail: "sshd", Since: fixedNow.Add(-7 * day)}, []int{7, 6, 5, 2}},
			{"prefix", models.HistoryFilter{IPPrefix: "1.2.3.4"}, []int{2, 1, 8}},
			{"prefix percent", models.HistoryFilter{IPPrefix: "10.0.0.%"}, []int{5}},
			{"prefix underscore", models.HistoryFilter{IPPrefix: "10_"}, []int{6}},
			{"prefix lone percent", models.HistoryFilter{IPPrefix: "%"}, nil},
			{"prefix quotes", models.HistoryFilter{IPPrefix: `a'b"`}, []int{7}},
			{"prefix injection", models.HistoryFilter{IPPrefix: `' OR 1=1 --`}, nil},
		} {
			recs, total, err := s.Bans(ctx, tc.f, page)
			if err != nil {
				t.Fatal(err)
			}
			if got := archiveOrder(t, recs); !slices.Equal(got, tc.want) || total != int64(len(tc.want)) {
				t.Errorf("%s: %v total %d, want %v", tc.name, got, total, tc.want)
			}
			n, _, err := s.CountsByJail(ctx, tc.f)
			if err != nil || n != total {
				t.Errorf("%s: CountsByJail total %d %v, want %d", tc.name, n, err, total)
			}
		}
		// Pages.
		recs, total, err := s.Bans(ctx, models.HistoryFilter{}, models.Page{Number: 3, Size: 3})
		if got := archiveOrder(t, recs); err != nil || !slices.Equal(got, []int{1, 8}) || total != 8 {
			t.Errorf("page 3: %v %d %v", got, total, err)
		}
		recs, total, err = s.Bans(ctx, models.HistoryFilter{}, models.Page{Number: 4, Size: 3})
		if err != nil || len(recs) != 0 || total != 8 {
			t.Errorf("page 4: %v %d %v", recs, total, err)
		}
		// Record contents.
		recs, _, _ = s.Bans(ctx, models.HistoryFilter{}, page)
		byN := map[int]models.BanRecord{}
		for i, n := range archiveOrder(t, recs) {
			byN[n] = recs[i]
		}
		if r := byN[1]; r.Failures != 2 || !slices.Equal(r.Matches, []string{"Nov 18 12:00:00 host sshd[1]: fail", "line two"}) || r.Origin != models.OriginSelfblock {
			t.Errorf("a1 = %+v", r)
		}
		if r := byN[5]; r.Country != "DE" || byN[6].Country != "" || byN[6].Matches != nil {
			t.Errorf("a5 = %+v, a6 = %+v", r, byN[6])
		}
		if r := byN[8]; r.BanTime != -1 || r.BanCount != 3 || r.Jail != "recidive" {
			t.Errorf("a8 = %+v", r)
		}

		total, perJail, err := s.CountsByJail(ctx, models.HistoryFilter{})
		jc := func(j string, n int64) models.JailCount { return models.JailCount{Jail: j, Count: n} }
		if err != nil || total != 8 || !slices.Equal(perJail, []models.JailCount{jc("sshd", 5), jc("blocklist-import", 1), jc("manual-Jail", 1), jc("recidive", 1)}) {
			t.Errorf("CountsByJail = %d %v %v", total, perJail, err)
		}
		ips, err := s.CountsByIP(ctx, models.HistoryFilter{Action: "ban"})
		ic := func(ip string, n int64) models.IPCount { return models.IPCount{IP: ip, Count: n} }
		want := []models.IPCount{ic("1.2.3.4", 2), ic("10.0.0.%x", 1), ic("10_0.0.1", 1), ic("5.5.5.5", 1), ic("6.6.6.6", 1), ic(`a'b"c`, 1)}
		if err != nil || !slices.Equal(ips, want) {
			t.Errorf("CountsByIP = %v %v", ips, err)
		}
		buckets, err := s.CountsByBucket(ctx, models.HistoryFilter{}, time.Hour, 24)
		wantB := make([]int64, 24)
		wantB[21], wantB[22], wantB[23] = 1, 1, 3
		if err != nil || !slices.Equal(buckets, wantB) {
			t.Errorf("CountsByBucket = %v %v", buckets, err)
		}
		buckets, err = s.CountsByBucket(ctx, models.HistoryFilter{Origin: models.OriginManual, Action: "ban"}, day, 2)
		if err != nil || !slices.Equal(buckets, []int64{0, 1}) {
			t.Errorf("CountsByBucket manual = %v %v", buckets, err)
		}
		if _, err := s.CountsByBucket(ctx, models.HistoryFilter{}, 0, 3); err == nil {
			t.Error("zero bucket accepted")
		}
		hist, err := s.HistoryOfIP(ctx, "1.2.3.4")
		if got := archiveOrder(t, hist); err != nil || !slices.Equal(got, []int{2, 1, 8}) {
			t.Errorf("HistoryOfIP = %v %v", got, err)
		}
		sum, err := s.Summary(ctx)
		if err != nil || sum.Rows != 8 || !sum.Oldest.Equal(fixedNow.Add(-400*day)) || !sum.Newest.Equal(fixedNow.Add(-10*time.Minute)) {
			t.Errorf("Summary = %+v %v", sum, err)
		}
		if mt, ok, err := s.MaxTimeOfBan(ctx); err != nil || !ok || !mt.Equal(fixedNow.Add(-10*time.Minute)) {
			t.Errorf("MaxTimeOfBan = %v %v %v", mt, ok, err)
		}
		n, err := s.Purge(ctx, fixedNow.Add(-5*day))
		if err != nil || n != 2 {
			t.Fatalf("Purge = %d %v, want 2", n, err)
		}
		if sum, _ := s.Summary(ctx); sum.Rows != 6 || !sum.Oldest.Equal(fixedNow.Add(-72*time.Hour)) {
			t.Errorf("after purge: %+v", sum)
		}
		if n, err := s.Purge(ctx, fixedNow.Add(-5*day)); err != nil || n != 0 {
			t.Errorf("second purge = %d %v", n, err)
		}
	})
}

func TestArchivePurgeInBatches(t *testing.T) {
	ctx := context.Background()
	forEachArchive(t, func(t *testing.T, _ *bun.DB, s HistoryArchive) {
		var evs []models.ArchivedBan
		for i := range purgeBatch + 1500 {
			evs = append(evs, models.ArchivedBan{Jail: "sshd", IP: "198.51.100.1", TimeOfBan: int64(1000 + i)})
		}
		if _, err := s.Archive(ctx, evs); err != nil {
			t.Fatal(err)
		}
		n, err := s.Purge(ctx, time.Unix(int64(1000+purgeBatch+1000), 0))
		if err != nil || n != int64(purgeBatch+1000) {
			t.Fatalf("Purge = %d %v", n, err)
		}
		if sum, _ := s.Summary(ctx); sum.Rows != 500 {
			t.Fatalf("%d rows left, want 500", sum.Rows)
		}
	})
}

// ---------------------------------------------------------------------------
// Sync

// syncEnv is a fail2ban database, its reader and an archive to sync into.
type syncEnv struct {
	path     string
	f2b      *Fail2BanDBReader
	db       *bun.DB
	archive  HistoryArchive
	settings *SettingsStore
}

func newSyncEnv(t *testing.T, db *bun.DB, archive HistoryArchive, bans []f2bgen.Ban) *syncEnv {
	path := writeF2B(t, bans)
	return &syncEnv{
		db:       db,
		path:     path,
		f2b:      openTestReader(t, path, defaultReaderConfig()),
		archive:  archive,
		settings: NewSettingsStore(db),
	}
}

func (e *syncEnv) sync(t *testing.T) int64 {
	t.Helper()
	n, err := SyncArchive(context.Background(), models.LocalHost, e.f2b, e.archive, e.settings)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *syncEnv) exec(t *testing.T, q string, args ...any) int64 {
	t.Helper()
	res, err := openRW(t, e.path).ExecContext(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := res.RowsAffected()
	return n
}

func (e *syncEnv) addBan(t *testing.T, jail, ip string, at int64) int64 {
	t.Helper()
	db := openRW(t, e.path)
	res, err := db.Exec(`INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES (?, ?, ?, 600, 1, '{"matches": [], "failures": 4}')`, jail, ip, at)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return id
}

func (e *syncEnv) cursor(t *testing.T) int64 {
	t.Helper()
	v, err := e.settings.Get(context.Background(), SettingArchiveLastRowID)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

func (e *syncEnv) archived(t *testing.T) int64 {
	t.Helper()
	sum, err := e.archive.Summary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sum.Rows
}

// steady is a bans table growing in time, rowid i+1 at now-(n-i) minutes.
func steady(n int) []f2bgen.Ban {
	var out []f2bgen.Ban
	for i := range n {
		out = append(out, f2bgen.Ban{Jail: "sshd", IP: "203.0.113." + strconv.Itoa(i%200), TimeOfBan: ago(time.Duration(n-i) * time.Minute),
			BanTime: 600, BanCount: 1, Data: `{"matches": [], "failures": 5}`})
	}
	return out
}

func TestSyncArchiveBackfillsThenIncrements(t *testing.T) {
	forEachArchive(t, func(t *testing.T, db *bun.DB, a HistoryArchive) {
		ctx := context.Background()
		opts := f2bgen.Options{Rows: 2*SyncBatch + 345, End: fixedNow, Seed: 11}
		var bans []f2bgen.Ban
		keys := map[[3]string]bool{}
		for b := range f2bgen.Rows(opts) {
			bans = append(bans, b)
			keys[[3]string{b.IP, b.Jail, strconv.FormatInt(b.TimeOfBan, 10)}] = true
		}
		e := newSyncEnv(t, db, a, bans)
		if n := e.sync(t); n != int64(len(keys)) {
			t.Fatalf("backfill inserted %d, want %d", n, len(keys))
		}
		if c := e.cursor(t); c != int64(len(bans)) {
			t.Fatalf("cursor %d, want %d", c, len(bans))
		}
		if n := e.sync(t); n != 0 {
			t.Fatalf("second sync inserted %d", n)
		}
		// Origin and failures were derived.
		var blocklist, failures int64
		e.db.QueryRowContext(ctx, `SELECT count(*) FROM history_archive WHERE origin = 'blocklist' AND jail = 'blocklist-import'`).Scan(&blocklist)
		e.db.QueryRowContext(ctx, `SELECT count(*) FROM history_archive WHERE failures > 0`).Scan(&failures)
		if blocklist == 0 || failures == 0 {
			t.Fatalf("blocklist rows %d, rows with failures %d", blocklist, failures)
		}
		var wrongOrigin int64
		e.db.QueryRowContext(ctx, `SELECT count(*) FROM history_archive WHERE (jail = 'blocklist-import') != (origin = 'blocklist') OR action != 'ban' OR country_code IS NOT NULL`).Scan(&wrongOrigin)
		if wrongOrigin != 0 {
			t.Fatalf("%d rows with a wrong origin, action or country", wrongOrigin)
		}

		// fail2ban bans three more.
		e.addBan(t, "sshd", "198.51.100.7", fixedNow.Unix())
		e.addBan(t, "blocklist-import", "198.51.100.8", fixedNow.Unix())
		e.addBan(t, "recidive", "198.51.100.7", fixedNow.Unix())
		if n := e.sync(t); n != 3 {
			t.Fatalf("incremental sync inserted %d, want 3", n)
		}
		if n := e.sync(t); n != 0 {
			t.Fatalf("sync with nothing new inserted %d", n)
		}

		// Both sources answer alike through the one interface.
		for _, f := range []models.HistoryFilter{{}, {Since: fixedNow.Add(-7 * 24 * time.Hour)}, {Origin: models.OriginBlocklist}, {Jail: "sshd", IPPrefix: "1"}} {
			var answers [2][]any
			for i, src := range []BanSource{e.f2b, e.archive} {
				total, perJail, err := src.CountsByJail(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				buckets, err := src.CountsByBucket(ctx, f, 24*time.Hour, 30)
				if err != nil {
					t.Fatal(err)
				}
				recs, n, err := src.Bans(ctx, f, models.Page{Number: 2, Size: 20})
				if err != nil {
					t.Fatal(err)
				}
				var page []string
				for _, r := range recs {
					page = append(page, r.IP+"|"+r.Jail+"|"+r.TimeOfBan.String()+"|"+strconv.FormatInt(r.Failures, 10)+"|"+string(r.Origin))
				}
				answers[i] = []any{total, perJail, buckets, n, page}
			}
			if len(keys) == len(bans) && !slicesEqualAny(answers[0], answers[1]) {
				t.Errorf("%+v: fail2ban %v\narchive %v", f, answers[0], answers[1])
			}
		}
	})
}

func slicesEqualAny(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalAny(a[i], b[i]) {
			return false
		}
	}
	return true
}

func equalAny(a, b any) bool {
	switch x := a.(type) {
	case []models.JailCount:
		return slices.Equal(x, b.([]models.JailCount))
	case []int64:
		return slices.Equal(x, b.([]int64))
	case []string:
		return slices.Equal(x, b.([]string))
	default:
		return a == b
	}
}

func TestSyncArchiveKeepsRowsFail2BanDeletes(t *testing.T) {
	forEachArchive(t, func(t *testing.T, db *bun.DB, a HistoryArchive) {
		ctx := context.Background()
		e := newSyncEnv(t, db, a, steady(50))
		if n := e.sync(t); n != 50 {
			t.Fatalf("backfill %d", n)
		}
		// A manual unban deletes the IP's rows; a purge deletes old rows.
		if n := e.exec(t, `DELETE FROM bans WHERE ip = '203.0.113.7'`); n != 1 {
			t.Fatalf("deleted %d", n)
		}
		e.exec(t, `DELETE FROM bans WHERE timeofban < ?`, ago(30*time.Minute))
		if n := e.sync(t); n != 0 {
			t.Fatalf("sync after deletes inserted %d", n)
		}
		if n := e.archived(t); n != 50 {
			t.Fatalf("archive has %d rows, want 50", n)
		}
		hist, err := e.archive.HistoryOfIP(ctx, "203.0.113.7")
		if err != nil || len(hist) != 1 {
			t.Fatalf("archived history of the unbanned IP: %v %v", hist, err)
		}
		if hist, _ := e.f2b.HistoryOfIP(ctx, "203.0.113.7"); len(hist) != 0 {
			t.Fatal("fail2ban still has the unbanned IP")
		}
	})
}

func TestSyncArchiveSurvivesReusedRowids(t *testing.T) {
	forEachArchive(t, func(t *testing.T, db *bun.DB, a HistoryArchive) {
		e := newSyncEnv(t, db, a, steady(20))
		if n := e.sync(t); n != 20 || e.cursor(t) != 20 {
			t.Fatalf("backfill %d, cursor %d", n, e.cursor(t))
		}
		// The two newest rows go (manual unban); fail2ban's next bans reuse
		// rowids 19 and 20. A plain "rowid > 20" cursor would see only the third.
		e.exec(t, `DELETE FROM bans WHERE rowid >= 19`)
		ids := []int64{
			e.addBan(t, "sshd", "198.51.100.1", fixedNow.Unix()),
			e.addBan(t, "sshd", "198.51.100.2", fixedNow.Unix()),
			e.addBan(t, "sshd", "198.51.100.3", fixedNow.Unix()),
		}
		if !slices.Equal(ids, []int64{19, 20, 21}) {
			t.Fatalf("SQLite handed out rowids %v, the test expects reuse", ids)
		}
		if n := e.sync(t); n != 3 {
			t.Fatalf("sync after rowid reuse inserted %d, want 3", n)
		}
		if c := e.cursor(t); c != 21 {
			t.Fatalf("cursor %d, want 21", c)
		}
		if n := e.archived(t); n != 23 {
			t.Fatalf("archive has %d rows, want 23", n)
		}

		// The newest row goes and nothing replaces it yet: the cursor steps back
		// so that the next ban, which reuses rowid 21, is not missed.
		e.exec(t, `DELETE FROM bans WHERE rowid = 21`)
		if n := e.sync(t); n != 0 {
			t.Fatalf("sync after delete inserted %d", n)
		}
		if id := e.addBan(t, "sshd", "198.51.100.4", fixedNow.Unix()); id != 21 {
			t.Fatalf("rowid %d, want reuse of 21", id)
		}
		if n := e.sync(t); n != 1 {
			t.Fatalf("sync of the reused rowid inserted %d, want 1", n)
		}

		// fail2ban's purge empties the table; rowids start again at 1.
		e.exec(t, `DELETE FROM bans`)
		if id := e.addBan(t, "recidive", "198.51.100.5", fixedNow.Unix()); id != 1 {
			t.Fatalf("rowid %d after emptying, want 1", id)
		}
		e.addBan(t, "recidive", "198.51.100.6", fixedNow.Unix())
		if n := e.sync(t); n != 2 {
			t.Fatalf("sync after the table was emptied inserted %d, want 2", n)
		}
		if n := e.archived(t); n != 26 {
			t.Fatalf("archive has %d rows, want 26", n)
		}
		if n := e.sync(t); n != 0 {
			t.Fatalf("idle sync inserted %d", n)
		}
	})
}

func TestSyncArchiveWithoutRowIdentityRereads(t *testing.T) {
	forEachArchive(t, func(t *testing.T, db *bun.DB, a HistoryArchive) {
		ctx := context.Background()
		e := newSyncEnv(t, db, a, steady(30))
		if err := e.settings.Set(ctx, SettingArchiveLastRowID, "25"); err != nil {
			t.Fatal(err)
		}
		// A cursor without the row identity cannot be trusted: everything is
		// read again and the archive's unique key drops nothing new.
		if n := e.sync(t); n != 30 {
			t.Fatalf("inserted %d, want 30", n)
		}
		if err := e.settings.Set(ctx, SettingArchiveLastRowID, "garbage"); err != nil {
			t.Fatal(err)
		}
		if n := e.sync(t); n != 0 || e.cursor(t) != 30 {
			t.Fatalf("after a garbage cursor: inserted %d cursor %d", n, e.cursor(t))
		}
	})
}

func TestSyncArchiveStopsOnCancel(t *testing.T) {
	forEachArchive(t, func(t *testing.T, db *bun.DB, a HistoryArchive) {
		e := newSyncEnv(t, db, a, steady(10))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := SyncArchive(ctx, models.LocalHost, e.f2b, e.archive, e.settings); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if _, err := e.settings.Get(context.Background(), SettingArchiveLastRowID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("cursor saved after a cancelled sync: %v", err)
		}
	})
}

// TestCopyPendingLeavesTheCursor copies what a sync would copy, on both
// dialects, without moving the cursor: new rows, and rows at reused rowids
// (the cursor's row replaced), are archived; the sync after it finds them
// archived already and only moves the cursor.
func TestCopyPendingLeavesTheCursor(t *testing.T) {
	forEachArchive(t, func(t *testing.T, db *bun.DB, a HistoryArchive) {
		ctx := context.Background()
		e := newSyncEnv(t, db, a, steady(20))
		copyPending := func() int64 {
			t.Helper()
			n, err := CopyPending(ctx, models.LocalHost, e.f2b, e.archive, e.settings)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := copyPending(); n != 20 {
			t.Fatalf("first copy %d, want 20", n)
		}
		if _, err := e.settings.Get(ctx, SettingArchiveLastRowID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the copy saved a cursor (%v)", err)
		}
		if n := e.sync(t); n != 0 || e.cursor(t) != 20 {
			t.Fatalf("sync after the copy inserted %d, cursor %d; want 0 and 20", n, e.cursor(t))
		}
		// The newest row goes (an unban) and a new ban takes its rowid.
		e.exec(t, `DELETE FROM bans WHERE rowid = 20`)
		if id := e.addBan(t, "sshd", "198.51.100.9", fixedNow.Unix()); id != 20 {
			t.Fatalf("rowid %d, want reuse of 20", id)
		}
		e.addBan(t, "sshd", "198.51.100.10", fixedNow.Unix())
		if n := copyPending(); n != 2 {
			t.Fatalf("copy after rowid reuse %d, want 2", n)
		}
		if c := e.cursor(t); c != 20 {
			t.Fatalf("the copy moved the cursor to %d", c)
		}
		if n := e.sync(t); n != 0 || e.cursor(t) != 21 {
			t.Fatalf("sync after the copy inserted %d, cursor %d; want 0 and 21", n, e.cursor(t))
		}
		if n := e.archived(t); n != 22 {
			t.Fatalf("archive has %d rows, want 22", n)
		}
	})
}
