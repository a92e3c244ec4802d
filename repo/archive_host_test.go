package repo

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"bangui/models"
)

// TestArchiveKeepsEachHostsEvents checks the host dimension of the
// archive: the same ban on two hosts is two events, every query filters by
// host (empty: every host) and names each event's host, and the panel's
// own records without a host belong to the local host.
func TestArchiveKeepsEachHostsEvents(t *testing.T) {
	forEachArchive(t, func(t *testing.T, db *bun.DB, s HistoryArchive) {
		ctx := context.Background()
		de, us := "DE", "US"
		at := ago(time.Hour)
		events := []models.ArchivedBan{
			{Jail: "sshd", IP: "192.0.2.1", TimeOfBan: at, CountryCode: &de},               // local: no host given
			{Host: "web1", Jail: "sshd", IP: "192.0.2.1", TimeOfBan: at, CountryCode: &de}, // the same ban on web1
			{Host: "web1", Jail: "nginx", IP: "192.0.2.2", TimeOfBan: at - 60, CountryCode: &us},
			{Host: "web1", Jail: "nginx", IP: "192.0.2.2", TimeOfBan: at - 30, Action: ActionUnban},
		}
		if n, err := s.Archive(ctx, events); err != nil || n != 4 {
			t.Fatalf("archive = %d, %v; want 4 (one ban on two hosts is two events)", n, err)
		}
		if n, err := s.Archive(ctx, events); err != nil || n != 0 {
			t.Fatalf("archive again = %d, %v; want 0", n, err)
		}
		var local int64
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM history_archive WHERE host = ?`, models.LocalHost).Scan(&local); err != nil || local != 1 {
			t.Fatalf("%d events of the local host (%v), want the one archived without a host", local, err)
		}

		page := models.Page{Number: 1, Size: 10}
		for _, tc := range []struct {
			host    string
			want    []string // host|ip|action, newest first
			jails   []models.JailCount
			ips     []models.IPCount
			country []models.CountryCount
		}{
			{"", []string{"web1|192.0.2.1|ban", "local|192.0.2.1|ban", "web1|192.0.2.2|unban", "web1|192.0.2.2|ban"},
				[]models.JailCount{{Jail: "nginx", Count: 2}, {Jail: "sshd", Count: 2}},
				[]models.IPCount{{IP: "192.0.2.1", Count: 2}, {IP: "192.0.2.2", Count: 2}},
				[]models.CountryCount{{Code: "DE", Count: 2}, {Code: "US", Count: 1}}},
			{models.LocalHost, []string{"local|192.0.2.1|ban"},
				[]models.JailCount{{Jail: "sshd", Count: 1}},
				[]models.IPCount{{IP: "192.0.2.1", Count: 1}},
				[]models.CountryCount{{Code: "DE", Count: 1}}},
			{"web1", []string{"web1|192.0.2.1|ban", "web1|192.0.2.2|unban", "web1|192.0.2.2|ban"},
				[]models.JailCount{{Jail: "nginx", Count: 2}, {Jail: "sshd", Count: 1}},
				[]models.IPCount{{IP: "192.0.2.2", Count: 2}, {IP: "192.0.2.1", Count: 1}},
				[]models.CountryCount{{Code: "DE", Count: 1}, {Code: "US", Count: 1}}},
			{"nowhere", nil, nil, nil, nil},
		} {
			f := models.HistoryFilter{Host: tc.host}
			recs, total, err := s.Bans(ctx, f, page)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.Host+"|"+r.IP+"|"+r.Action)
			}
			// Events in the same second come in id order, newest first.
			if !slices.Equal(got, tc.want) || total != int64(len(tc.want)) {
				t.Errorf("host %q: Bans %v (total %d), want %v", tc.host, got, total, tc.want)
			}
			n, jails, err := s.CountsByJail(ctx, f)
			if err != nil || n != total || !slices.Equal(jails, tc.jails) {
				t.Errorf("host %q: CountsByJail %d %v %v, want %d %v", tc.host, n, jails, err, total, tc.jails)
			}
			ips, err := s.CountsByIP(ctx, f)
			if err != nil || !slices.Equal(ips, tc.ips) {
				t.Errorf("host %q: CountsByIP %v %v, want %v", tc.host, ips, err, tc.ips)
			}
			buckets, err := s.CountsByBucket(ctx, f, time.Hour, 3)
			if err != nil || buckets[1] != total {
				t.Errorf("host %q: CountsByBucket %v %v, want %d in the middle hour", tc.host, buckets, err, total)
			}
			// The cached counts are kept per host: asked for one host after
			// another, each gets its own answer.
			for _, since := range []time.Time{{}, fixedNow.Add(-24 * time.Hour)} {
				bans := models.HistoryFilter{Host: tc.host, Action: ActionBan, Since: since}
				counts, err := s.CountsByCountry(ctx, bans)
				if err != nil || fmt.Sprint(counts) != fmt.Sprint(tc.country) {
					t.Errorf("host %q since %v: CountsByCountry %v %v, want %v", tc.host, since, counts, err, tc.country)
				}
				recs, total, err := s.BansOfCountry(ctx, bans, "DE", page)
				if err != nil || int(total) != len(recs) || (tc.host != "" && slices.ContainsFunc(recs, func(r models.BanRecord) bool { return r.Host != tc.host })) {
					t.Errorf("host %q: BansOfCountry %+v %d %v", tc.host, recs, total, err)
				}
				var ofHost int64
				for _, c := range tc.country {
					ofHost += c.Count
				}
				all, err := s.PageOfCountry(ctx, bans, AnyCountry, ofHost, page)
				if err != nil || int64(len(all)) != ofHost {
					t.Errorf("host %q: PageOfCountry(any) %+v %v, want %d", tc.host, all, err, ofHost)
				}
			}
		}
		hist, err := s.HistoryOfIP(ctx, "192.0.2.1")
		if err != nil || len(hist) != 2 || hist[0].Host == hist[1].Host {
			t.Fatalf("HistoryOfIP = %+v %v, want the ban of both hosts", hist, err)
		}
		recent, err := s.RecentOfIP(ctx, "", "192.0.2.2", 5)
		if err != nil || len(recent) != 2 || recent[0].Host != "web1" {
			t.Fatalf("RecentOfIP = %+v %v", recent, err)
		}
		// One address on one host: its events and totals there only.
		for _, tc := range []struct {
			host        string
			events, ban int64
		}{{"", 2, 2}, {models.LocalHost, 1, 1}, {"web1", 1, 1}, {"nowhere", 0, 0}} {
			recent, err := s.RecentOfIP(ctx, tc.host, "192.0.2.1", 5)
			if err != nil || int64(len(recent)) != tc.events {
				t.Errorf("RecentOfIP(%q) = %+v %v, want %d events", tc.host, recent, err, tc.events)
			}
			for _, r := range recent {
				if tc.host != "" && r.Host != tc.host {
					t.Errorf("RecentOfIP(%q) returned an event of %q", tc.host, r.Host)
				}
			}
			totals, err := s.IPTotals(ctx, tc.host, "192.0.2.1", time.Time{})
			if err != nil || totals.Bans != tc.ban {
				t.Errorf("IPTotals(%q) = %+v %v, want %d bans", tc.host, totals, err, tc.ban)
			}
		}
	})
}

// TestMergeManualBansMatchesTheHost checks that the panel's record of a
// manual ban is folded only into fail2ban's row of the same host.
func TestMergeManualBansMatchesTheHost(t *testing.T) {
	forEachArchive(t, func(t *testing.T, _ *bun.DB, s HistoryArchive) {
		ctx := context.Background()
		at := ago(time.Hour)
		events := []models.ArchivedBan{
			{Jail: "sshd", IP: "192.0.2.9", TimeOfBan: at, Origin: string(models.OriginManual)},                                // the panel's record (local)
			{Host: "web1", Jail: "sshd", IP: "192.0.2.9", TimeOfBan: at + 1, Data: `{"matches": [], "failures": 3}`},           // web1's own ban
			{Host: models.LocalHost, Jail: "sshd", IP: "192.0.2.9", TimeOfBan: at + 2, Data: `{"matches": [], "failures": 1}`}, // fail2ban's row of the panel's ban
		}
		if _, err := s.Archive(ctx, events); err != nil {
			t.Fatal(err)
		}
		n, err := s.MergeManualBans(ctx, fixedNow.Add(-2*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("MergeManualBans = %d, %v; want the one local pair", n, err)
		}
		recs, _, err := s.Bans(ctx, models.HistoryFilter{}, models.Page{Number: 1, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.Host+"|"+string(r.Origin)+"|"+strconv.FormatInt(r.TimeOfBan.Unix()-at, 10))
		}
		if want := []string{"local|manual|2", "web1|selfblock|1"}; !slices.Equal(got, want) {
			t.Fatalf("after the merge: %v, want %v", got, want)
		}
	})
}

// TestSyncArchiveKeepsHostsApart syncs two hosts' fail2ban databases with
// the same rows into one archive: each host's events are kept, each host
// has its own cursor (the local host's under the keys it always had), and
// a sync of one host leaves the other's cursor alone.
func TestSyncArchiveKeepsHostsApart(t *testing.T) {
	forEachArchive(t, func(t *testing.T, db *bun.DB, a HistoryArchive) {
		ctx := context.Background()
		local := newSyncEnv(t, db, a, steady(30))
		web1 := &syncEnv{db: db, archive: a, settings: local.settings}
		web1.path = writeF2B(t, steady(30))
		web1.f2b = openTestReader(t, web1.path, defaultReaderConfig())
		syncHost := func(e *syncEnv, host string) int64 {
			t.Helper()
			n, err := SyncArchive(ctx, host, e.f2b, a, e.settings)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		cursor := func(key string) string {
			t.Helper()
			v, err := local.settings.Get(ctx, key)
			if err != nil {
				t.Fatalf("cursor %s: %v", key, err)
			}
			return v
		}
		if n := syncHost(local, models.LocalHost); n != 30 {
			t.Fatalf("local sync inserted %d, want 30", n)
		}
		if n := syncHost(web1, "web1"); n != 30 {
			t.Fatalf("web1 sync of the same rows inserted %d, want 30", n)
		}
		if n := local.archived(t); n != 60 {
			t.Fatalf("archive has %d events, want 60", n)
		}
		if cursor(SettingArchiveLastRowID) != "30" || cursor(SettingArchiveLastRowID+":web1") != "30" {
			t.Fatalf("cursors %s and %s, want 30 each", cursor(SettingArchiveLastRowID), cursor(SettingArchiveLastRowID+":web1"))
		}
		localRow := cursor(SettingArchiveLastRow)

		web1.addBan(t, "sshd", "198.51.100.1", fixedNow.Unix())
		web1.addBan(t, "sshd", "198.51.100.2", fixedNow.Unix())
		if n := syncHost(web1, "web1"); n != 2 {
			t.Fatalf("web1 sync inserted %d, want 2", n)
		}
		if n := syncHost(local, models.LocalHost); n != 0 {
			t.Fatalf("local sync inserted %d, want 0", n)
		}
		if cursor(SettingArchiveLastRowID) != "30" || cursor(SettingArchiveLastRow) != localRow || cursor(SettingArchiveLastRowID+":web1") != "32" {
			t.Fatalf("cursors after web1 grew: local %s, web1 %s", cursor(SettingArchiveLastRowID), cursor(SettingArchiveLastRowID+":web1"))
		}
		for host, want := range map[string]int64{"": 62, models.LocalHost: 30, "web1": 32} {
			recs, total, err := a.Bans(ctx, models.HistoryFilter{Host: host}, models.Page{Number: 1, Size: 5})
			if err != nil || total != want {
				t.Errorf("host %q: %d events %v, want %d", host, total, err, want)
			}
			for _, r := range recs {
				if host != "" && r.Host != host {
					t.Errorf("host %q: event of %q", host, r.Host)
				}
			}
		}
		// fail2ban's reader is one host's database: it ignores the host
		// filter and leaves the host to its caller.
		recs, total, err := web1.f2b.Bans(ctx, models.HistoryFilter{Host: "elsewhere"}, models.Page{Number: 1, Size: 5})
		if err != nil || total != 32 || len(recs) == 0 || recs[0].Host != "" {
			t.Errorf("fail2ban reader with a host filter: %d events, first %+v, %v; want all 32 without a host", total, recs, err)
		}
		if _, err := SyncArchive(ctx, "", local.f2b, a, local.settings); err == nil {
			t.Error("a sync without a host ran")
		}
	})
}

// TestArchiveHostMigration upgrades a database that the release before
// hosts made and filled: the events keep their ids and data and belong to
// the local host, every index and trigger of the earlier migrations is
// there again with the same definition, the unique key holds the host,
// AUTOINCREMENT hands out no id twice, the change counter still counts, and
// the sync resumes from its cursor.
func TestArchiveHostMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old, err := openSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	migrateBefore(t, old, dialect.SQLite, "20261207120000")
	schema := archiveSchema(t, old.DB)
	if len(schema) != 13 {
		t.Fatalf("the earlier migrations made %d indexes and triggers on history_archive, the test expects 13: %v", len(schema), schema)
	}
	// Events as the previous release wrote them; the newest is deleted
	// again, so AUTOINCREMENT's high-water mark is above the last id.
	for _, q := range []string{
		`INSERT INTO history_archive (jail, ip, timeofban, bantime, bancount, data, action, origin, country_code, failures)
			VALUES ('sshd', '192.0.2.1', 1000, 600, 1, '{"matches": ["x"], "failures": 4}', 'ban', 'selfblock', 'DE', 4)`,
		`INSERT INTO history_archive (jail, ip, timeofban, action, origin) VALUES ('sshd', '192.0.2.1', 1500, 'unban', 'manual')`,
		`INSERT INTO history_archive (jail, ip, timeofban) VALUES ('recidive', '192.0.2.2', 2000)`,
		`DELETE FROM history_archive WHERE id = 3`,
		`INSERT INTO settings (key, value) VALUES ('archive_last_rowid', '42'), ('archive_last_row', '{"jail":"sshd","ip":"192.0.2.1","timeofban":1000}')`,
	} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rowsBefore := archiveRows(t, old.DB, "'local'")
	versionBefore := archiveVersion(t, old.DB)
	old.Close()

	db, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatalf("upgrading: %v", err)
	}
	defer db.Close()
	if got := archiveRows(t, db.DB, "host"); !slices.Equal(got, rowsBefore) {
		t.Fatalf("events after the upgrade:\n%v\nwant\n%v", got, rowsBefore)
	}
	got := archiveSchema(t, db.DB)
	// Made by later migrations.
	if _, ok := got["history_archive_host_ban"]; !ok {
		t.Error("the index of one host's bans (history_archive_host_ban) is missing")
	}
	delete(got, "history_archive_host_ban")
	if !maps.Equal(got, schema) {
		t.Fatalf("indexes and triggers after the upgrade:\n%v\nwant\n%v", got, schema)
	}
	var keyCols []string
	rows, err := db.QueryContext(ctx, `SELECT ii.name FROM pragma_index_list('history_archive') il, pragma_index_info(il.name) ii
		WHERE il."unique" AND il.origin = 'u' ORDER BY ii.seqno`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		keyCols = append(keyCols, c)
	}
	rows.Close()
	if want := []string{"ip", "jail", "action", "timeofban", "host"}; !slices.Equal(keyCols, want) {
		t.Fatalf("unique key %v, want %v", keyCols, want)
	}
	if v := archiveVersion(t, db.DB); v <= versionBefore {
		t.Fatalf("change counter %d after the upgrade, was %d: cached counts would outlive it", v, versionBefore)
	}
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}

	a := NewHistoryArchive(db)
	v := archiveVersion(t, db.DB)
	n, err := a.Archive(ctx, []models.ArchivedBan{{Host: "web1", Jail: "sshd", IP: "192.0.2.1", TimeOfBan: 1000}})
	if err != nil || n != 1 {
		t.Fatalf("the same ban on another host: %d, %v", n, err)
	}
	if archiveVersion(t, db.DB) == v {
		t.Fatal("the change counter's triggers are gone")
	}
	var id int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM history_archive WHERE host = 'web1'`).Scan(&id); err != nil || id != 4 {
		t.Fatalf("new event's id %d (%v), want 4: an id of a deleted event was handed out again", id, err)
	}
	cur, err := loadCursor(ctx, NewSettingsStore(db), cursorKeysOf(models.LocalHost))
	if err != nil || cur.RowID != 42 || cur.Row == nil || cur.Row.TimeOfBan != 1000 {
		t.Fatalf("the local host's sync cursor after the upgrade: %+v %v", cur, err)
	}
}

// archiveSchema returns the SQL of history_archive's indexes and triggers
// by name (the unique key's automatic index aside).
func archiveSchema(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT name, sql FROM sqlite_master
		WHERE tbl_name = 'history_archive' AND type IN ('index', 'trigger') AND sql IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			t.Fatal(err)
		}
		out[name] = q
	}
	return out
}

// archiveRows lists history_archive's rows in id order with hostExpr as
// their host.
func archiveRows(t *testing.T, db *sql.DB, hostExpr string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT id, ` + hostExpr + `, jail, ip, timeofban, bantime, bancount, data, action, origin, ifnull(country_code, 'NULL'), failures
		FROM history_archive ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, t0, bantime, bancount, failures int64
		var host, jail, ip, data, action, origin, country string
		if err := rows.Scan(&id, &host, &jail, &ip, &t0, &bantime, &bancount, &data, &action, &origin, &country, &failures); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(id, host, jail, ip, t0, bantime, bancount, data, action, origin, country, failures))
	}
	if len(out) == 0 {
		t.Fatal("no rows")
	}
	return out
}

func archiveVersion(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	var v int64
	if err := db.QueryRow(`SELECT n FROM history_archive_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
