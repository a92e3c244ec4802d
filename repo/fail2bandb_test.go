package repo

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/models"
	"bangui/repo/f2bgen"
	"bangui/repo/sqlkit"
)

// fixedNow is "now" for every test that depends on it.
var fixedNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) int64 { return fixedNow.Add(-d).Unix() }

// writeF2B writes a fail2ban database holding bans (rowids 1..n in order).
func writeF2B(t testing.TB, bans []f2bgen.Ban) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fail2ban.sqlite3")
	if err := f2bgen.Write(context.Background(), path, slices.Values(bans)); err != nil {
		t.Fatal(err)
	}
	return path
}

func openTestReader(t testing.TB, path string, cfg readerConfig) *Fail2BanDBReader {
	t.Helper()
	r, err := openFail2BanDB(context.Background(), path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.now = func() time.Time { return fixedNow }
	t.Cleanup(func() { r.Close() })
	return r
}

// openRW opens a database file read-write, as fail2ban itself would.
func openRW(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// fixture is a small bans table with hand-computed answers below. Row n of
// the slice has rowid n+1.
func fixture() []f2bgen.Ban {
	return []f2bgen.Ban{
		/* 1 */ {Jail: "sshd", IP: "1.2.3.4", TimeOfBan: ago(240 * time.Hour), BanTime: 600, BanCount: 1,
			Data: `{"matches": [["", "Nov 18 12:00:00", " host sshd[1]: fail from 1.2.3.4"], "Nov 18 12:00:01 host sshd[1]: fail again"], "failures": 2, "user": "o'brien"}`},
		/* 2 */ {Jail: "sshd", IP: "1.2.3.40", TimeOfBan: ago(72 * time.Hour), BanTime: 600, BanCount: 1, Data: `null`},
		/* 3 */ {Jail: "blocklist-import", IP: "5.6.7.8", TimeOfBan: ago(48 * time.Hour), BanTime: 86400, BanCount: 1, Data: `{"matches": [], "failures": 0}`},
		/* 4 */ {Jail: "sshd", IP: "1.2.3.4", TimeOfBan: ago(25 * time.Hour), BanTime: 1200, BanCount: 2, Data: `{"user": "x"}`},
		/* 5 */ {Jail: "recidive", IP: "1.2.3.4", TimeOfBan: ago(23 * time.Hour), BanTime: -1, BanCount: 1, Data: `{"matches": ["a", null, 42, ["x", 1, "y"]], "failures": "7"}`},
		/* 6 */ {Jail: "nginx-http-auth", IP: "10.0.0.1", TimeOfBan: ago(2 * time.Hour), BanTime: 3600, BanCount: 1, Data: `garbage{`},
		/* 7 */ {Jail: "sshd", IP: "9.9.9.9", TimeOfBan: ago(30 * time.Minute), BanTime: 600, BanCount: 1, Data: ``},
		/* 8 */ {Jail: "sshd", IP: "10.0.0.%x", TimeOfBan: ago(20 * time.Minute), BanTime: 600, BanCount: 1, Data: `{"matches": "not a list", "failures": 3}`},
		/* 9 */ {Jail: "sshd", IP: "10_0.0.1", TimeOfBan: ago(10 * time.Minute), BanTime: 600, BanCount: 1, Data: `[1, 2]`},
		/* 10 */ {Jail: "sshd", IP: `a'b"c`, TimeOfBan: ago(5 * time.Minute), BanTime: 600, BanCount: 1, Data: `"just a string"`},
		/* 11 */ {Jail: "postfix", IP: "1.2.3.4", TimeOfBan: fixedNow.Unix(), BanTime: 1800, BanCount: 1, Data: `{"matches": [["", "Nov 28 12:00:00", " mail postfix: x"]], "failures": 1.0}`},
		/* 12 */ {Jail: "sshd", IP: "1.2.3.5", TimeOfBan: ago(400 * 24 * time.Hour), BanTime: 600, BanCount: 1, Data: `{"matches": [], "failures": 5}`},
	}
}

// rowOrder maps records back to fixture row numbers via (ip, time).
func rowOrder(t *testing.T, recs []models.BanRecord) []int {
	t.Helper()
	fx := fixture()
	var out []int
	for _, r := range recs {
		n := slices.IndexFunc(fx, func(b f2bgen.Ban) bool {
			return b.IP == r.IP && b.TimeOfBan == r.TimeOfBan.Unix() && b.Jail == r.Jail
		})
		if n < 0 {
			t.Fatalf("record %+v not in fixture", r)
		}
		out = append(out, n+1)
	}
	return out
}

func TestFail2BanDBFiltersOnFixture(t *testing.T) {
	ctx := context.Background()
	r := openTestReader(t, writeF2B(t, fixture()), defaultReaderConfig())
	all := models.Page{Number: 1, Size: 100}
	cases := []struct {
		name string
		f    models.HistoryFilter
		want []int // fixture rows, newest first
	}{
		{"all time", models.HistoryFilter{}, []int{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 12}},
		{"last 24h", models.HistoryFilter{Since: fixedNow.Add(-24 * time.Hour)}, []int{11, 10, 9, 8, 7, 6, 5}},
		{"last 7d", models.HistoryFilter{Since: fixedNow.Add(-7 * 24 * time.Hour)}, []int{11, 10, 9, 8, 7, 6, 5, 4, 3, 2}},
		{"jail sshd", models.HistoryFilter{Jail: "sshd"}, []int{10, 9, 8, 7, 4, 2, 1, 12}},
		{"jail sshd 24h", models.HistoryFilter{Jail: "sshd", Since: fixedNow.Add(-24 * time.Hour)}, []int{10, 9, 8, 7}},
		{"unknown jail", models.HistoryFilter{Jail: "nope"}, nil},
		{"jail with quote", models.HistoryFilter{Jail: `ss'hd"`}, nil},
		{"origin blocklist", models.HistoryFilter{Origin: models.OriginBlocklist}, []int{3}},
		{"origin selfblock", models.HistoryFilter{Origin: models.OriginSelfblock}, []int{11, 10, 9, 8, 7, 6, 5, 4, 2, 1, 12}},
		{"origin selfblock 24h", models.HistoryFilter{Origin: models.OriginSelfblock, Since: fixedNow.Add(-24 * time.Hour)}, []int{11, 10, 9, 8, 7, 6, 5}},
		{"origin manual", models.HistoryFilter{Origin: models.OriginManual}, nil},
		{"blocklist jail but selfblock", models.HistoryFilter{Origin: models.OriginSelfblock, Jail: "blocklist-import"}, nil},
		{"blocklist jail and origin", models.HistoryFilter{Origin: models.OriginBlocklist, Jail: "blocklist-import"}, []int{3}},
		{"sshd but blocklist", models.HistoryFilter{Origin: models.OriginBlocklist, Jail: "sshd"}, nil},
		{"action ban", models.HistoryFilter{Action: "ban"}, []int{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 12}},
		{"action unban", models.HistoryFilter{Action: "unban"}, nil},
		{"prefix 1.2.3.4", models.HistoryFilter{IPPrefix: "1.2.3.4"}, []int{11, 5, 4, 2, 1}},
		{"prefix 1.2.3.4 24h", models.HistoryFilter{IPPrefix: "1.2.3.4", Since: fixedNow.Add(-24 * time.Hour)}, []int{11, 5}},
		{"prefix 1.2.3.4 sshd", models.HistoryFilter{IPPrefix: "1.2.3.4", Jail: "sshd"}, []int{4, 2, 1}},
		{"prefix 1.2.3.4 selfblock 7d", models.HistoryFilter{IPPrefix: "1.2.3.4", Origin: models.OriginSelfblock, Since: fixedNow.Add(-7 * 24 * time.Hour)}, []int{11, 5, 4, 2}},
		{"prefix 10.", models.HistoryFilter{IPPrefix: "10."}, []int{8, 6}},
		{"prefix percent is literal", models.HistoryFilter{IPPrefix: "10.0.0.%"}, []int{8}},
		{"prefix lone percent", models.HistoryFilter{IPPrefix: "%"}, nil},
		{"prefix underscore is literal", models.HistoryFilter{IPPrefix: "10_"}, []int{9}},
		{"prefix lone underscore", models.HistoryFilter{IPPrefix: "_"}, nil},
		{"prefix with quotes", models.HistoryFilter{IPPrefix: `a'b"`}, []int{10}},
		{"prefix single quote", models.HistoryFilter{IPPrefix: `'`}, nil},
		{"prefix double quote", models.HistoryFilter{IPPrefix: `"`}, nil},
		{"prefix injection attempt", models.HistoryFilter{IPPrefix: `1' OR '1'='1`}, nil},
		{"prefix of 0xff bytes", models.HistoryFilter{IPPrefix: "\xff\xff"}, nil},
		{"prefix none matches", models.HistoryFilter{IPPrefix: "203.0.113."}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs, total, err := r.Bans(ctx, tc.f, all)
			if err != nil {
				t.Fatal(err)
			}
			if got := rowOrder(t, recs); !slices.Equal(got, tc.want) || total != int64(len(tc.want)) {
				t.Fatalf("rows %v total %d, want %v total %d", got, total, tc.want, len(tc.want))
			}
			// The aggregates agree with the list.
			n, perJail, err := r.CountsByJail(ctx, tc.f)
			if err != nil || n != total {
				t.Fatalf("CountsByJail total %d, %v; want %d", n, err, total)
			}
			wantJails := map[string]int64{}
			wantIPs := map[string]int64{}
			for _, rec := range recs {
				wantJails[rec.Jail]++
				wantIPs[rec.IP]++
			}
			for _, c := range perJail {
				if wantJails[c.Jail] != c.Count {
					t.Fatalf("jail %s count %d, want %d", c.Jail, c.Count, wantJails[c.Jail])
				}
			}
			if len(perJail) != len(wantJails) {
				t.Fatalf("per jail %v, want %v", perJail, wantJails)
			}
			ips, err := r.CountsByIP(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(ips) != len(wantIPs) {
				t.Fatalf("per IP %v, want %v", ips, wantIPs)
			}
			for _, c := range ips {
				if wantIPs[c.IP] != c.Count {
					t.Fatalf("IP %s count %d, want %d", c.IP, c.Count, wantIPs[c.IP])
				}
			}
		})
	}
}

func TestFail2BanDBPages(t *testing.T) {
	ctx := context.Background()
	r := openTestReader(t, writeF2B(t, fixture()), defaultReaderConfig())
	for _, tc := range []struct {
		page  models.Page
		f     models.HistoryFilter
		want  []int
		total int64
	}{
		{models.Page{Number: 1, Size: 5}, models.HistoryFilter{}, []int{11, 10, 9, 8, 7}, 12},
		{models.Page{Number: 2, Size: 5}, models.HistoryFilter{}, []int{6, 5, 4, 3, 2}, 12},
		{models.Page{Number: 3, Size: 5}, models.HistoryFilter{}, []int{1, 12}, 12},
		{models.Page{Number: 4, Size: 5}, models.HistoryFilter{}, nil, 12},
		{models.Page{Number: 1000, Size: 500}, models.HistoryFilter{}, nil, 12},
		{models.Page{Number: 0, Size: 0}, models.HistoryFilter{}, []int{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 12}, 12}, // defaults: page 1 of 100
		{models.Page{Number: -3, Size: 1}, models.HistoryFilter{}, []int{11}, 12},
		{models.Page{Number: 2, Size: 2}, models.HistoryFilter{IPPrefix: "1.2.3.4"}, []int{4, 2}, 5},
		{models.Page{Number: 3, Size: 2}, models.HistoryFilter{IPPrefix: "1.2.3.4"}, []int{1}, 5},
		{models.Page{Number: 4, Size: 2}, models.HistoryFilter{IPPrefix: "1.2.3.4"}, nil, 5},
		{models.Page{Number: 2, Size: 3}, models.HistoryFilter{Since: fixedNow.Add(-24 * time.Hour)}, []int{8, 7, 6}, 7},
		{models.Page{Number: 3, Size: 3}, models.HistoryFilter{Since: fixedNow.Add(-24 * time.Hour)}, []int{5}, 7},
		{models.Page{Number: 9, Size: 3}, models.HistoryFilter{Since: fixedNow.Add(-24 * time.Hour)}, nil, 7},
		{models.Page{Number: 2, Size: 1}, models.HistoryFilter{Origin: models.OriginManual}, nil, 0},
	} {
		recs, total, err := r.Bans(ctx, tc.f, tc.page)
		if err != nil {
			t.Fatal(err)
		}
		if got := rowOrder(t, recs); !slices.Equal(got, tc.want) || total != tc.total {
			t.Errorf("%+v %+v: rows %v total %d, want %v total %d", tc.f, tc.page, got, total, tc.want, tc.total)
		}
	}
}

func TestFail2BanDBDecodesData(t *testing.T) {
	ctx := context.Background()
	r := openTestReader(t, writeF2B(t, fixture()), defaultReaderConfig())
	recs, _, err := r.Bans(ctx, models.HistoryFilter{}, models.Page{Number: 1, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	byRow := map[int]models.BanRecord{}
	for i, n := range rowOrder(t, recs) {
		byRow[n] = recs[i]
	}
	want := map[int]struct {
		failures int64
		matches  []string
	}{
		1:  {2, []string{"Nov 18 12:00:00 host sshd[1]: fail from 1.2.3.4", "Nov 18 12:00:01 host sshd[1]: fail again"}},
		2:  {0, nil}, // data = 'null'
		3:  {0, nil}, // manual-style ban: no matches
		4:  {0, nil}, // keys missing
		5:  {7, []string{"a", "42", "x1y"}},
		6:  {0, nil}, // not JSON
		7:  {0, nil}, // SQL NULL
		8:  {3, nil}, // matches of the wrong type
		9:  {0, nil}, // a list
		10: {0, nil}, // a string
		11: {1, []string{"Nov 28 12:00:00 mail postfix: x"}},
		12: {5, nil},
	}
	for n, w := range want {
		rec := byRow[n]
		if rec.Failures != w.failures || !slices.Equal(rec.Matches, w.matches) {
			t.Errorf("row %d: failures %d matches %q, want %d %q", n, rec.Failures, rec.Matches, w.failures, w.matches)
		}
	}
	r5 := byRow[5]
	if r5.BanTime != -1 || r5.Origin != models.OriginSelfblock || r5.Jail != "recidive" || r5.BanCount != 1 ||
		!r5.TimeOfBan.Equal(fixedNow.Add(-23*time.Hour)) {
		t.Errorf("row 5 = %+v", r5)
	}
	if byRow[3].Origin != models.OriginBlocklist {
		t.Errorf("row 3 origin %q", byRow[3].Origin)
	}
}

func TestFail2BanDBCountsByBucket(t *testing.T) {
	ctx := context.Background()
	r := openTestReader(t, writeF2B(t, fixture()), defaultReaderConfig())
	got, err := r.CountsByBucket(ctx, models.HistoryFilter{}, time.Hour, 24)
	if err != nil {
		t.Fatal(err)
	}
	// Window (now-24h, now]: row 5 (now-23h) opens bucket 0, row 6 (now-2h)
	// falls in bucket 21, rows 7-11 (the last 30 minutes, now included) in 23.
	want := make([]int64, 24)
	want[0], want[21], want[23] = 1, 1, 5
	if !slices.Equal(got, want) {
		t.Fatalf("24h by hour = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		f       models.HistoryFilter
		bucket  time.Duration
		n       int
		want    []int64
		comment string
	}{
		{models.HistoryFilter{}, 24 * time.Hour, 7, []int64{0, 0, 0, 1, 1, 1, 7}, "7 days"},
		{models.HistoryFilter{Jail: "sshd"}, 24 * time.Hour, 7, []int64{0, 0, 0, 1, 0, 1, 4}, "sshd"},
		{models.HistoryFilter{Origin: models.OriginBlocklist}, 24 * time.Hour, 7, []int64{0, 0, 0, 0, 1, 0, 0}, "blocklist"},
		{models.HistoryFilter{Origin: models.OriginSelfblock}, 24 * time.Hour, 7, []int64{0, 0, 0, 1, 0, 1, 7}, "selfblock"},
		{models.HistoryFilter{Origin: models.OriginManual}, 24 * time.Hour, 3, []int64{0, 0, 0}, "manual"},
		{models.HistoryFilter{IPPrefix: "1.2.3.4"}, 24 * time.Hour, 7, []int64{0, 0, 0, 1, 0, 1, 2}, "prefix"},
		{models.HistoryFilter{Since: fixedNow.Add(-24 * time.Hour)}, 24 * time.Hour, 3, []int64{0, 0, 7}, "since cuts the window"},
		{models.HistoryFilter{}, 365 * 24 * time.Hour, 2, []int64{1, 11}, "two years"},
		{models.HistoryFilter{}, time.Minute, 0, []int64{}, "no buckets"},
	} {
		got, err := r.CountsByBucket(ctx, tc.f, tc.bucket, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.comment, got, tc.want)
		}
	}
	for _, bad := range []struct {
		bucket time.Duration
		n      int
	}{{0, 5}, {time.Millisecond, 5}, {time.Hour, -1}, {time.Hour, maxBuckets + 1}} {
		if _, err := r.CountsByBucket(ctx, models.HistoryFilter{}, bad.bucket, bad.n); err == nil {
			t.Errorf("%v × %d: no error", bad.bucket, bad.n)
		}
	}
}

func TestFail2BanDBAggregatesOnFixture(t *testing.T) {
	ctx := context.Background()
	r := openTestReader(t, writeF2B(t, fixture()), defaultReaderConfig())
	total, perJail, err := r.CountsByJail(ctx, models.HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	jc := func(j string, n int64) models.JailCount { return models.JailCount{Jail: j, Count: n} }
	wantJails := []models.JailCount{jc("sshd", 8), jc("blocklist-import", 1), jc("nginx-http-auth", 1), jc("postfix", 1), jc("recidive", 1)}
	if total != 12 || !slices.Equal(perJail, wantJails) {
		t.Errorf("CountsByJail = %d %v", total, perJail)
	}
	ips, err := r.CountsByIP(ctx, models.HistoryFilter{Since: fixedNow.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ic := func(ip string, n int64) models.IPCount { return models.IPCount{IP: ip, Count: n} }
	wantIPs := []models.IPCount{ic("1.2.3.4", 2), ic("10.0.0.%x", 1), ic("10.0.0.1", 1), ic("10_0.0.1", 1), ic("9.9.9.9", 1), ic(`a'b"c`, 1)}
	if !slices.Equal(ips, wantIPs) {
		t.Errorf("CountsByIP 24h = %v", ips)
	}
	hist, err := r.HistoryOfIP(ctx, "1.2.3.4")
	if err != nil {
		t.Fatal(err)
	}
	if got := rowOrder(t, hist); !slices.Equal(got, []int{11, 5, 4, 1}) {
		t.Errorf("HistoryOfIP = %v", got)
	}
	if hist, err := r.HistoryOfIP(ctx, "1.2.3"); err != nil || len(hist) != 0 {
		t.Errorf("HistoryOfIP of a prefix = %v, %v (want exact match only)", hist, err)
	}
	sum, err := r.Summary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 12 || !sum.Oldest.Equal(fixedNow.Add(-400*24*time.Hour)) || !sum.Newest.Equal(fixedNow) {
		t.Errorf("Summary = %+v", sum)
	}
	jails, err := r.Jails(ctx)
	if err != nil || !slices.Equal(jails, []string{"blocklist-import", "nginx-http-auth", "postfix", "recidive", "sshd"}) {
		t.Errorf("Jails = %v, %v", jails, err)
	}
}

func TestFail2BanDBEmpty(t *testing.T) {
	ctx := context.Background()
	r := openTestReader(t, writeF2B(t, nil), defaultReaderConfig())
	sum, err := r.Summary(ctx)
	if err != nil || sum != (models.BansSummary{}) {
		t.Fatalf("Summary = %+v, %v", sum, err)
	}
	recs, total, err := r.Bans(ctx, models.HistoryFilter{}, models.Page{Number: 1, Size: 10})
	if err != nil || len(recs) != 0 || total != 0 {
		t.Fatalf("Bans = %v %d %v", recs, total, err)
	}
	b, err := r.CountsByBucket(ctx, models.HistoryFilter{}, time.Hour, 3)
	if err != nil || !slices.Equal(b, []int64{0, 0, 0}) {
		t.Fatalf("CountsByBucket = %v %v", b, err)
	}
	n, jails, err := r.CountsByJail(ctx, models.HistoryFilter{Since: fixedNow.Add(-time.Hour)})
	if err != nil || n != 0 || len(jails) != 0 {
		t.Fatalf("CountsByJail = %d %v %v", n, jails, err)
	}
	rows, err := r.NewRowsSince(ctx, 0, 10)
	if err != nil || len(rows) != 0 {
		t.Fatalf("NewRowsSince = %v %v", rows, err)
	}
}

func TestOpenFail2BanDBErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.sqlite3")
	_, err := OpenFail2BanDB(ctx, missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("opening a missing database created it")
	}
	if _, err := OpenFail2BanDB(ctx, dir); err == nil {
		t.Fatal("a directory opened")
	}
	notDB := filepath.Join(dir, "text.sqlite3")
	os.WriteFile(notDB, []byte("this is not a database, just some text that is long enough"), 0o600)
	if _, err := OpenFail2BanDB(ctx, notDB); err == nil {
		t.Fatal("a text file opened")
	}
	other := filepath.Join(dir, "other.sqlite3")
	db := openRW(t, other)
	if _, err := db.Exec(`CREATE TABLE t(x)`); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFail2BanDB(ctx, other); err == nil || !strings.Contains(err.Error(), "not a fail2ban database") {
		t.Fatalf("database without bans: %v", err)
	}
	if _, err := db.Exec(`CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, data JSON)`); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFail2BanDB(ctx, other); err == nil || !strings.Contains(err.Error(), "schema version 4") {
		t.Fatalf("version 2 bans table: %v", err)
	}
	// A path with URI-special characters opens as the file it names.
	odd := filepath.Join(dir, "odd ?#%name.sqlite3")
	if err := f2bgen.Write(ctx, odd, slices.Values(fixture())); err != nil {
		t.Fatal(err)
	}
	r, err := OpenFail2BanDB(ctx, odd)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if sum, err := r.Summary(ctx); err != nil || sum.Rows != 12 {
		t.Fatalf("odd path: %+v %v", sum, err)
	}
}

func TestFail2BanDBIsReadOnly(t *testing.T) {
	ctx := context.Background()
	path := writeF2B(t, fixture())
	r := openTestReader(t, path, defaultReaderConfig())
	for _, stmt := range []string{
		`DELETE FROM bans`,
		`INSERT INTO bans(jail, ip, timeofban, bantime) VALUES ('x', 'y', 1, 1)`,
		`CREATE TABLE evil(x)`,
		`PRAGMA user_version = 7`,
	} {
		if _, err := r.sql.ExecContext(ctx, stmt); err == nil {
			t.Errorf("%s: no error through the read-only reader", stmt)
		}
	}
	// Switching query_only off still leaves mode=ro.
	conn, err := r.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.ExecContext(ctx, `PRAGMA query_only = 0`)
	if _, err := conn.ExecContext(ctx, `DELETE FROM bans`); err == nil || !strings.Contains(strings.ToLower(err.Error()), "readonly") {
		t.Errorf("delete after query_only=0: %v", err)
	}
	if sum, err := r.Summary(ctx); err != nil || sum.Rows != 12 {
		t.Fatalf("rows after write attempts: %+v %v", sum, err)
	}
}

// lockFile holds fail2ban's write lock on path through a second, real
// SQLite connection until the returned func runs.
func lockFile(t *testing.T, path string) (unlock func()) {
	t.Helper()
	ctx := context.Background()
	db := openRW(t, path)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO bans(jail, ip, timeofban, bantime) VALUES ('sshd', '7.7.7.7', 1, 600)`); err != nil {
		t.Fatal(err)
	}
	return func() {
		conn.ExecContext(ctx, `ROLLBACK`)
		conn.Close()
	}
}

func TestFail2BanDBRetriesWhileBusy(t *testing.T) {
	ctx := context.Background()
	path := writeF2B(t, fixture())
	r := openTestReader(t, path, readerConfig{busyTimeout: 20 * time.Millisecond, retries: 3, backoff: time.Millisecond})
	unlock := lockFile(t, path)
	busySeen := make(chan error, 1)
	released := make(chan struct{})
	r.onRetry = func(attempt int, err error) {
		if attempt == 1 {
			busySeen <- err
			<-released // the next attempt starts after the lock is gone
		}
	}
	type result struct {
		sum models.BansSummary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := r.Summary(ctx)
		done <- result{sum, err}
	}()
	select {
	case err := <-busySeen:
		if !isBusy(err) {
			t.Fatalf("retried on %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reader never saw the lock")
	}
	unlock()
	close(released)
	select {
	case res := <-done:
		if res.err != nil || res.sum.Rows != 12 {
			t.Fatalf("after the lock: %+v %v", res.sum, res.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reader did not finish after the lock was released")
	}
}

func TestFail2BanDBGivesUpWhenBusy(t *testing.T) {
	ctx := context.Background()
	path := writeF2B(t, fixture())
	r := openTestReader(t, path, readerConfig{busyTimeout: 10 * time.Millisecond, retries: 2, backoff: time.Millisecond})
	var attempts []int
	r.onRetry = func(attempt int, err error) { attempts = append(attempts, attempt) }
	unlock := lockFile(t, path)
	defer unlock()
	_, _, err := r.Bans(ctx, models.HistoryFilter{}, models.Page{Number: 1, Size: 10})
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	if !slices.Equal(attempts, []int{1, 2}) {
		t.Fatalf("retries %v, want [1 2]", attempts)
	}
	// A cancelled context ends the wait between attempts.
	cctx, cancel := context.WithCancel(ctx)
	r.onRetry = func(int, error) { cancel() }
	if _, err := r.Summary(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// ---------------------------------------------------------------------------
// A generated database checked against brute force

type refRow struct {
	rowid int64
	f2bgen.Ban
}

func genRef(t testing.TB, opts f2bgen.Options) (string, []refRow) {
	t.Helper()
	var rows []refRow
	var bans []f2bgen.Ban
	for b := range f2bgen.Rows(opts) {
		rows = append(rows, refRow{int64(len(rows) + 1), b})
		bans = append(bans, b)
	}
	return writeF2B(t, bans), rows
}

func (f refFilter) match(r refRow) bool {
	if f.Origin == models.OriginManual || (f.Action != "" && f.Action != "ban") {
		return false
	}
	if f.Jail != "" && r.Jail != f.Jail {
		return false
	}
	if f.Origin == models.OriginBlocklist && r.Jail != models.BlocklistJail {
		return false
	}
	if f.Origin == models.OriginSelfblock && r.Jail == models.BlocklistJail {
		return false
	}
	if !f.Since.IsZero() && r.TimeOfBan < f.Since.Unix() {
		return false
	}
	return strings.HasPrefix(r.IP, f.IPPrefix)
}

type refFilter struct{ models.HistoryFilter }

func newestFirst(a, b refRow) int {
	return cmp.Or(cmp.Compare(b.TimeOfBan, a.TimeOfBan), cmp.Compare(b.rowid, a.rowid))
}

func TestFail2BanDBMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	path, ref := genRef(t, f2bgen.Options{Rows: 3000, End: fixedNow, Seed: 7, IPs: 400})
	r := openTestReader(t, path, defaultReaderConfig())
	slices.SortFunc(ref, newestFirst)

	ipCounts := map[string]int{}
	for _, row := range ref {
		ipCounts[row.IP]++
	}
	top := ""
	for ip, n := range ipCounts {
		if top == "" || n > ipCounts[top] || (n == ipCounts[top] && ip < top) {
			top = ip
		}
	}
	day := 24 * time.Hour
	var filters []models.HistoryFilter
	for _, since := range []time.Time{{}, fixedNow.Add(-7 * day), fixedNow.Add(-365 * day)} {
		for _, jail := range []string{"", "sshd", "blocklist-import"} {
			for _, origin := range []models.Origin{models.OriginAll, models.OriginBlocklist, models.OriginSelfblock} {
				for _, prefix := range []string{"", "1", "24", "4", top, "zzz"} {
					filters = append(filters, models.HistoryFilter{Since: since, Jail: jail, Origin: origin, IPPrefix: prefix})
				}
			}
		}
	}
	for _, f := range filters {
		name := fmt.Sprintf("since=%d jail=%q origin=%q prefix=%q", f.Since.Unix(), f.Jail, f.Origin, f.IPPrefix)
		var want []refRow
		for _, row := range ref {
			if (refFilter{f}).match(row) {
				want = append(want, row)
			}
		}
		// Pages: first, one in the middle, last, past the end.
		size := 37
		pages := []int{1, len(want)/size/2 + 1, (len(want)+size-1)/size + 0, len(want)/size + 2}
		for _, p := range pages {
			if p < 1 {
				continue
			}
			recs, total, err := r.Bans(ctx, f, models.Page{Number: p, Size: size})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if total != int64(len(want)) {
				t.Fatalf("%s page %d: total %d, want %d", name, p, total, len(want))
			}
			lo, hi := min((p-1)*size, len(want)), min(p*size, len(want))
			exp := want[lo:hi]
			if len(recs) != len(exp) {
				t.Fatalf("%s page %d: %d rows, want %d", name, p, len(recs), len(exp))
			}
			for i, rec := range recs {
				if rec.IP != exp[i].IP || rec.Jail != exp[i].Jail || rec.TimeOfBan.Unix() != exp[i].TimeOfBan || rec.BanCount != exp[i].BanCount {
					t.Fatalf("%s page %d row %d: %+v, want %+v", name, p, i, rec, exp[i])
				}
			}
		}
		total, perJail, err := r.CountsByJail(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		wj := map[string]int64{}
		wi := map[string]int64{}
		buckets := make([]int64, 30)
		start := fixedNow.Unix() + 1 - 30*86400
		for _, row := range want {
			wj[row.Jail]++
			wi[row.IP]++
			if row.TimeOfBan >= start {
				buckets[(row.TimeOfBan-start)/86400]++
			}
		}
		if total != int64(len(want)) || len(perJail) != len(wj) {
			t.Fatalf("%s: CountsByJail %d %v, want %d %v", name, total, perJail, len(want), wj)
		}
		for i, c := range perJail {
			if wj[c.Jail] != c.Count || (i > 0 && perJail[i-1].Count < c.Count) {
				t.Fatalf("%s: CountsByJail %v, want %v", name, perJail, wj)
			}
		}
		ips, err := r.CountsByIP(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(ips) != len(wi) {
			t.Fatalf("%s: CountsByIP %d IPs, want %d", name, len(ips), len(wi))
		}
		for i, c := range ips {
			if wi[c.IP] != c.Count || (i > 0 && (ips[i-1].Count < c.Count || (ips[i-1].Count == c.Count && ips[i-1].IP > c.IP))) {
				t.Fatalf("%s: CountsByIP entry %d %+v, want count %d, sorted", name, i, c, wi[c.IP])
			}
		}
		got, err := r.CountsByBucket(ctx, f, 24*time.Hour, 30)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, buckets) {
			t.Fatalf("%s: CountsByBucket %v, want %v", name, got, buckets)
		}
	}
	hist, err := r.HistoryOfIP(ctx, top)
	if err != nil || len(hist) != ipCounts[top] {
		t.Fatalf("HistoryOfIP(%s) = %d rows, %v; want %d", top, len(hist), err, ipCounts[top])
	}
}

// TestFail2BanDBQueryPlans runs EXPLAIN QUERY PLAN on every statement the
// reader issues for a spread of filters and fails on a full scan of the
// bans table (a scan of a covering index is fine).
func TestFail2BanDBQueryPlans(t *testing.T) {
	ctx := context.Background()
	path, _ := genRef(t, f2bgen.Options{Rows: 2000, End: fixedNow, Seed: 3})
	r := openTestReader(t, path, defaultReaderConfig())
	type stmt struct {
		q    string
		args []any
	}
	var seen []stmt
	r.trace = func(q string, args []any) { seen = append(seen, stmt{q, args}) }
	day := 24 * time.Hour
	for _, f := range []models.HistoryFilter{
		{}, {Since: fixedNow.Add(-day)}, {Since: fixedNow.Add(-365 * day)}, {Jail: "sshd"},
		{Origin: models.OriginSelfblock, Since: fixedNow.Add(-30 * day)}, {IPPrefix: "1"},
		{IPPrefix: "1", Since: fixedNow.Add(-day)}, {IPPrefix: "1.", Since: fixedNow.Add(-365 * day)},
		{IPPrefix: "1", Jail: "sshd", Since: fixedNow.Add(-7 * day)},
	} {
		if _, _, err := r.Bans(ctx, f, models.Page{Number: 1, Size: 50}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Bans(ctx, f, models.Page{Number: 10, Size: 50}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.CountsByBucket(ctx, f, time.Hour, 24); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.CountsByJail(ctx, f); err != nil {
			t.Fatal(err)
		}
		if _, err := r.CountsByIP(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	r.Summary(ctx)
	r.HistoryOfIP(ctx, "1.2.3.4")
	r.NewRowsSince(ctx, 10, 100)
	r.RowsAtOrAfter(ctx, fixedNow.Add(-day).Unix(), 0, 1000, 100)
	r.trace = nil
	plans := map[string]bool{}
	for _, s := range seen {
		lines := queryPlan(t, r.sql, s.q, s.args...)
		plan := strings.Join(lines, "; ")
		if plans[s.q+plan] {
			continue
		}
		plans[s.q+plan] = true
		t.Logf("%s\n    => %s", s.q, plan)
		for _, l := range lines {
			if strings.HasPrefix(l, "SCAN bans") && !strings.Contains(l, "COVERING INDEX") {
				t.Errorf("full table scan in %s: %s", s.q, plan)
			}
		}
	}
}

// TestBucketShapesAgree checks that the two shapes of the bucket statement
// count alike, on both sources.
func TestBucketShapesAgree(t *testing.T) {
	ctx := context.Background()
	path, ref := genRef(t, f2bgen.Options{Rows: 3000, End: fixedNow, Seed: 9})
	r := openTestReader(t, path, defaultReaderConfig())
	_, archive := openTestArchive(t)
	var events []models.ArchivedBan
	for _, row := range ref {
		events = append(events, models.ArchivedBan{Jail: row.Jail, IP: row.IP, TimeOfBan: row.TimeOfBan, Data: row.Data})
	}
	if _, err := archive.Archive(ctx, events); err != nil {
		t.Fatal(err)
	}
	jails, err := r.Jails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	run := func(db interface {
		QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	}, bq bucketQuery) []int64 {
		q, args := bq.sql()
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := make([]int64, bq.n)
		for rows.Next() {
			var b, n int64
			rows.Scan(&b, &n)
			if b >= 0 && b < int64(bq.n) {
				out[b] = n
			}
		}
		return out
	}
	for _, tc := range []struct {
		width int64
		n     int
		since time.Duration
	}{{3600, 24, 0}, {86400, 30, 0}, {86400, 30, 10 * 24 * time.Hour}, {7 * 86400, 60, 0}, {13, 5000, 0}} {
		end := fixedNow.Unix() + 1
		start := end - tc.width*int64(tc.n)
		lower := start
		if tc.since > 0 {
			lower = max(start, fixedNow.Add(-tc.since).Unix())
		}
		var w sqlkit.Where
		w.In("jail", jails)
		bq := bucketQuery{table: "bans", cond: w, start: start, width: tc.width, lower: lower, end: end, n: tc.n}
		grouped := run(r.sql, bq)
		bq.ranges = true
		if ranged := run(r.sql, bq); !slices.Equal(grouped, ranged) {
			t.Errorf("fail2ban %+v: GROUP BY %v, ranges %v", tc, grouped, ranged)
		}
		var sum int64
		for _, n := range grouped {
			sum += n
		}
		var want int64
		for _, row := range ref {
			if row.TimeOfBan >= lower && row.TimeOfBan < end {
				want++
			}
		}
		if sum != want {
			t.Errorf("%+v: %d counted, want %d", tc, sum, want)
		}
		aw, _ := archiveFilter(models.HistoryFilter{Action: "ban"}, true)
		abq := bucketQuery{table: "history_archive", cond: aw, start: start, width: tc.width, lower: lower, end: end, n: tc.n}
		agrouped := run(archive.sql, abq)
		abq.ranges = true
		if aranged := run(archive.sql, abq); !slices.Equal(agrouped, aranged) || !slices.Equal(agrouped, grouped) {
			t.Errorf("archive %+v: GROUP BY %v, ranges %v, fail2ban %v", tc, agrouped, aranged, grouped)
		}
	}
}
