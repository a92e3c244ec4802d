package f2bgen

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var end = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func open(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+uriPath(path)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestGenerateWritesFail2BanSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "f2b.sqlite3")
	opts := Options{Rows: 5000, End: end, Seed: 42}
	if err := Generate(ctx, path, opts); err != nil {
		t.Fatal(err)
	}
	db := open(t, path)

	var version int
	if err := db.QueryRow(`SELECT version FROM fail2banDb`).Scan(&version); err != nil || version != SchemaVersion {
		t.Fatalf("version %d %v", version, err)
	}
	var names []string
	rows, err := db.Query(`SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	want := []string{
		"index bans_ip", "index bans_jail_ip", "index bans_jail_timeofban_ip", "index bips_ip", "index bips_timeofban",
		"index jails_name", "index logs_jail_path", "index logs_path",
		"table bans", "table bips", "table fail2banDb", "table jails", "table logs",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("schema objects %v, want %v", names, want)
	}
	var cols []string
	rows, _ = db.Query(`SELECT name || ' ' || type || ' ' || "notnull" FROM pragma_table_info('bans') ORDER BY cid`)
	for rows.Next() {
		var c string
		rows.Scan(&c)
		cols = append(cols, c)
	}
	rows.Close()
	if !slices.Equal(cols, []string{"jail TEXT 1", "ip TEXT 0", "timeofban INTEGER 1", "bantime INTEGER 1", "bancount INTEGER 1", "data JSON 0"}) {
		t.Fatalf("bans columns %v", cols)
	}

	var n, minT, maxT, nullData, permanent, jails, bips, badBips int64
	db.QueryRow(`SELECT count(*), min(timeofban), max(timeofban) FROM bans`).Scan(&n, &minT, &maxT)
	db.QueryRow(`SELECT count(*) FROM bans WHERE data = 'null'`).Scan(&nullData)
	db.QueryRow(`SELECT count(*) FROM bans WHERE bantime = -1`).Scan(&permanent)
	db.QueryRow(`SELECT count(*) FROM jails WHERE enabled = 1`).Scan(&jails)
	db.QueryRow(`SELECT count(*) FROM bips`).Scan(&bips)
	// Every bips row is the latest ban of its (ip, jail).
	db.QueryRow(`SELECT count(*) FROM bips p WHERE timeofban != (SELECT max(timeofban) FROM bans b WHERE b.ip = p.ip AND b.jail = p.jail)`).Scan(&badBips)
	if n != 5000 || maxT > end.Unix() || minT <= end.Add(-DefaultSpan).Unix() {
		t.Fatalf("rows %d, times [%d, %d]", n, minT, maxT)
	}
	if nullData == 0 || nullData > n/10 || permanent == 0 || jails != int64(len(jailSpecs)) || bips == 0 || badBips != 0 {
		t.Fatalf("null data %d, permanent %d, jails %d, bips %d (%d not latest)", nullData, permanent, jails, bips, badBips)
	}
	// Rowids follow time, as fail2ban appends them.
	var unordered int64
	db.QueryRow(`SELECT count(*) FROM bans a JOIN bans b ON b.rowid = a.rowid + 1 WHERE b.timeofban < a.timeofban`).Scan(&unordered)
	if unordered != 0 {
		t.Fatalf("%d rows older than their predecessor", unordered)
	}

	// sshd dominates; repeat offenders exist.
	var topJail string
	var topIPCount int64
	db.QueryRow(`SELECT jail FROM bans GROUP BY jail ORDER BY count(*) DESC LIMIT 1`).Scan(&topJail)
	db.QueryRow(`SELECT count(*) FROM bans GROUP BY ip ORDER BY count(*) DESC LIMIT 1`).Scan(&topIPCount)
	if topJail != "sshd" || topIPCount < 20 {
		t.Fatalf("top jail %s, top IP has %d bans", topJail, topIPCount)
	}

	// data is valid JSON in fail2ban's shape, with matches mixing 3-part
	// lists and strings.
	rows, err = db.Query(`SELECT jail, data FROM bans WHERE data != 'null'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lists, stringsSeen int
	for rows.Next() {
		var jail, data string
		rows.Scan(&jail, &data)
		var d struct {
			Matches  []any `json:"matches"`
			Failures *int  `json:"failures"`
		}
		if err := json.Unmarshal([]byte(data), &d); err != nil || d.Failures == nil {
			t.Fatalf("data %q: %v", data, err)
		}
		if jail == "blocklist-import" && (len(d.Matches) != 0 || *d.Failures != 0) {
			t.Fatalf("blocklist data %q", data)
		}
		if jail != "blocklist-import" && (len(d.Matches) == 0 || len(d.Matches) > 10 || *d.Failures < len(d.Matches)) {
			t.Fatalf("%s data %q", jail, data)
		}
		for _, m := range d.Matches {
			switch x := m.(type) {
			case string:
				stringsSeen++
			case []any:
				if len(x) != 3 {
					t.Fatalf("match %v is not a 3-part list", x)
				}
				lists++
			default:
				t.Fatalf("match %v", m)
			}
		}
	}
	if lists == 0 || stringsSeen == 0 {
		t.Fatalf("%d list matches, %d string matches", lists, stringsSeen)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	opts := Options{Rows: 2000, End: end, Seed: 5}
	a := slices.Collect(Rows(opts))
	b := slices.Collect(Rows(opts))
	if !slices.Equal(a, b) || len(a) != 2000 {
		t.Fatal("same options gave different rows")
	}
	opts.Seed = 6
	if c := slices.Collect(Rows(opts)); slices.Equal(a, c) {
		t.Fatal("another seed gave the same rows")
	}
	// The file holds exactly Rows' rows, in order.
	path := filepath.Join(t.TempDir(), "f2b.sqlite3")
	opts.Seed = 5
	if err := Generate(context.Background(), path, opts); err != nil {
		t.Fatal(err)
	}
	rows, err := open(t, path).Query(`SELECT jail, ip, timeofban, bantime, bancount, coalesce(data, '') FROM bans ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []Ban
	for rows.Next() {
		var b Ban
		rows.Scan(&b.Jail, &b.IP, &b.TimeOfBan, &b.BanTime, &b.BanCount, &b.Data)
		got = append(got, b)
	}
	if !slices.Equal(got, a) {
		t.Fatal("the file differs from Rows")
	}
}

func TestWriteRefusesExistingFileAndCleansUp(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "f2b.sqlite3")
	if err := Write(ctx, path, slices.Values([]Ban{{Jail: "sshd", IP: "192.0.2.1", TimeOfBan: 1, BanTime: 600, BanCount: 1}})); err != nil {
		t.Fatal(err)
	}
	if err := Generate(ctx, path, Options{Rows: 10}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("overwrite: %v", err)
	}
	// A cancelled write leaves no file, not even the temporary one.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := Generate(cctx, filepath.Join(dir, "other.sqlite3"), Options{Rows: 1000}); err == nil {
		t.Fatal("cancelled generate succeeded")
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(entries) != 1 || !strings.HasSuffix(entries[0], "f2b.sqlite3") {
		t.Fatalf("files left: %v", entries)
	}
	// SQL NULL data from an empty Data.
	var isNull bool
	open(t, path).QueryRow(`SELECT data IS NULL FROM bans`).Scan(&isNull)
	if !isNull {
		t.Fatal("empty Data was not written as NULL")
	}
}
