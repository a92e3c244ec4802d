package repo

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun/dialect"

	"bangui/internal/pgtest"
	"bangui/models"
)

// rollupsMatch checks that every roll-up of the PostgreSQL archive holds
// exactly the counts of history_archive (rows with a zero count aside).
func rollupsMatch(t *testing.T, s *postgresArchive) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []struct{ rollup, raw string }{
		{`SELECT day, host, action, origin, jail, n FROM history_archive_jail_day WHERE n <> 0`,
			`SELECT timeofban - ((timeofban % 86400 + 86400) % 86400), host, action, origin, jail, count(*) FROM history_archive GROUP BY 1, 2, 3, 4, 5`},
		{`SELECT day, action, origin, country, n FROM history_archive_country_day WHERE n <> 0`,
			`SELECT timeofban - ((timeofban % 86400 + 86400) % 86400), action, origin, coalesce(country_code, ''), count(*) FROM history_archive GROUP BY 1, 2, 3, 4`},
		{`SELECT hour, action, origin, n FROM history_archive_hour WHERE n <> 0`,
			`SELECT timeofban - ((timeofban % 3600 + 3600) % 3600), action, origin, count(*) FROM history_archive GROUP BY 1, 2, 3`},
	} {
		lines := func(q string) []string {
			rows, err := s.sql.QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			var out []string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprint(vals...))
			}
			slices.Sort(out)
			return out
		}
		if got, want := lines(c.rollup), lines(c.raw); !slices.Equal(got, want) {
			t.Errorf("roll-up out of step:\n%s\n got %q\nwant %q", c.rollup, got, want)
		}
	}
}

// TestPostgresRollupsFollowEveryChange archives events, then changes them
// the ways the panel does (country fill and reset, merging manual bans,
// purging, archiving duplicates): the roll-ups match history_archive after
// each step, and the windowed counts match a count of the rows.
func TestPostgresRollupsFollowEveryChange(t *testing.T) {
	ctx := context.Background()
	_, s := openTestPGArchive(t)
	at := func(d time.Duration) int64 { return fixedNow.Add(-d).Unix() }
	var events []models.ArchivedBan
	for i := range 300 {
		events = append(events, models.ArchivedBan{Host: []string{"", "web1", "mail"}[i%3], Jail: []string{"sshd", "postfix", models.BlocklistJail}[i%3],
			IP: fmt.Sprintf("192.0.2.%d", i%50), TimeOfBan: at(time.Duration(i) * 97 * time.Minute)})
	}
	events = append(events, models.ArchivedBan{Jail: "sshd", IP: "192.0.2.1", TimeOfBan: at(0) - 2, Origin: "manual"},
		models.ArchivedBan{Jail: "sshd", IP: "192.0.2.1", TimeOfBan: at(0), Data: `{"failures": 3, "matches": ["a"]}`})
	steps := []struct {
		name string
		do   func() error
	}{
		{"archive", func() error { _, err := s.Archive(ctx, events); return err }},
		{"archive again", func() error { _, err := s.Archive(ctx, events); return err }},
		{"set countries", func() error {
			_, err := s.SetCountries(ctx, map[string]string{"192.0.2.1": "de", "192.0.2.2": "", "192.0.2.3": "US"})
			return err
		}},
		{"reset unknown", func() error { _, err := s.ResetUnknownCountries(ctx); return err }},
		{"merge manual", func() error {
			n, err := s.MergeManualBans(ctx, fixedNow.Add(-time.Hour))
			if err == nil && n != 1 {
				err = fmt.Errorf("merged %d pairs, want 1", n)
			}
			return err
		}},
		{"purge", func() error { _, err := s.Purge(ctx, fixedNow.Add(-10*day)); return err }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		rollupsMatch(t, s)
		for _, f := range []models.HistoryFilter{{}, {Since: fixedNow.Add(-36 * time.Hour)}, {Since: fixedNow.Add(-5*day - 7*time.Minute), Host: "web1", Action: ActionBan}} {
			w := pgWhere(f)
			want, err := s.count(ctx, "test", `SELECT count(*) FROM history_archive`+w.Clause(), w.Args()...)
			if err != nil {
				t.Fatal(err)
			}
			if _, got, err := s.Bans(ctx, f, models.Page{Number: 1, Size: 1}); err != nil || got != want {
				t.Errorf("%s: %+v: Bans total %d, %v; want %d", st.name, f, got, err, want)
			}
		}
	}
}

// TestPgTextRoundTrips: the escape keeps valid text as it is, gives every
// other string back byte for byte, and keeps prefixes of whole characters
// prefixes.
func TestPgTextRoundTrips(t *testing.T) {
	for _, v := range []string{"", "10.0.0.1", "é", "a\x00b", "\xff", "10.0.0.\xff1", "\U0010FE41", "\xf4\x8f\xb9\x81x", "\xc3"} {
		e := pgText(v)
		if pgPlain(e) != v {
			t.Errorf("%q: escaped %q, back %q", v, e, pgPlain(e))
		}
		if v == "10.0.0.1" || v == "é" || v == "" {
			if e != v {
				t.Errorf("%q changed to %q", v, e)
			}
		}
	}
	if e := pgText("10.0.0.\x00"); len(pgText("10.0.0.\x001")) <= len(e) || pgText("10.0.0.\x001")[:len(e)] != e {
		t.Error("a prefix is no longer a prefix once escaped")
	}
}

// TestPostgresArchiveUpgrade upgrades a PostgreSQL database migrated up to
// the release before hosts, holding events: they become the local host's,
// the roll-ups are filled from them, the unique key holds the host, and
// the change counter moved.
func TestPostgresArchiveUpgrade(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	old, err := openPostgres(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	migrateBefore(t, old, dialect.PG, "20261207120000")
	for _, q := range []string{
		`INSERT INTO history_archive (jail, ip, timeofban, bantime, bancount, data, action, origin, country_code, failures)
			VALUES ('sshd', '192.0.2.1', 1000, 600, 1, '{"matches": ["x"], "failures": 4}', 'ban', 'selfblock', 'DE', 4)`,
		`INSERT INTO history_archive (jail, ip, timeofban, action, origin) VALUES ('sshd', '192.0.2.1', 1500, 'unban', 'manual')`,
		`INSERT INTO history_archive (jail, ip, timeofban) VALUES ('recidive', '192.0.2.2', 90000)`,
	} {
		if _, err := old.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var versionBefore int64
	if err := old.QueryRowContext(ctx, `SELECT n FROM history_archive_version`).Scan(&versionBefore); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db, err := Open(ctx, Options{URL: u})
	if err != nil {
		t.Fatalf("upgrading: %v", err)
	}
	defer db.Close()
	s := newPostgresArchive(db)
	rollupsMatch(t, s)
	recs, total, err := s.Bans(ctx, models.HistoryFilter{}, models.Page{Number: 1, Size: 10})
	if err != nil || total != 3 || len(recs) != 3 {
		t.Fatalf("after the upgrade: %+v (%d), %v", recs, total, err)
	}
	for _, r := range recs {
		if r.Host != models.LocalHost {
			t.Errorf("event %+v: host %q, want %q", r, r.Host, models.LocalHost)
		}
	}
	if recs[2].Failures != 4 || recs[2].Country != "DE" || len(recs[2].Matches) != 1 {
		t.Errorf("oldest event lost data: %+v", recs[2])
	}
	n, err := s.Archive(ctx, []models.ArchivedBan{
		{Jail: "sshd", IP: "192.0.2.1", TimeOfBan: 1000, Origin: "selfblock"},               // the local event again
		{Host: "web1", Jail: "sshd", IP: "192.0.2.1", TimeOfBan: 1000, Origin: "selfblock"}, // another host's
	})
	if err != nil || n != 1 {
		t.Fatalf("Archive after the upgrade = %d, %v; want only web1's event new", n, err)
	}
	if v, err := s.version(ctx); err != nil || v <= versionBefore {
		t.Errorf("change counter %d after the upgrade, %d before (%v)", v, versionBefore, err)
	}
	rollupsMatch(t, s)
}
