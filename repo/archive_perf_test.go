package repo

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
	"bangui/repo/bandata"
	"bangui/repo/f2bgen"
	"bangui/repo/sqlkit"
)

// The archive's dashboard and per-IP statements (keyedFilter,
// banJailCounts, the history_archive_ip_time lookups) and fail2ban's per-IP
// statements (ipWindow) checked against brute force and EXPLAIN QUERY PLAN.

// archRef is one archived event as the table holds it.
type archRef struct {
	id       int64
	host     string
	jail, ip string
	t        int64
	action   string
	origin   string
	failures int64
	bancount int64
}

// perfArchive fills an empty archive with generated bans plus unbans,
// manual bans, events that share a second and the same bans on a second
// host, and returns the table's rows.
func perfArchive(t *testing.T, db *bun.DB, s HistoryArchive) []archRef {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 12))
	var events []models.ArchivedBan
	for b := range f2bgen.Rows(f2bgen.Options{Rows: 4000, End: fixedNow, Seed: 5, IPs: 300}) {
		e := models.ArchivedBan{Jail: b.Jail, IP: b.IP, TimeOfBan: b.TimeOfBan, BanTime: b.BanTime, BanCount: b.BanCount,
			Data: b.Data, Failures: bandata.Failures(b.Data)}
		events = append(events, e)
		switch rng.IntN(10) {
		case 0: // unbanned later, from the panel or by fail2ban
			u := e
			u.Action, u.TimeOfBan = ActionUnban, e.TimeOfBan+int64(rng.IntN(3600))
			if rng.IntN(2) == 0 {
				u.Origin = string(models.OriginManual)
			}
			events = append(events, u)
		case 1: // banned from the panel
			m := e
			m.Origin, m.TimeOfBan = string(models.OriginManual), e.TimeOfBan+1
			events = append(events, m)
		case 2: // another address banned in the same second
			d := e
			d.IP = fmt.Sprintf("198.51.100.%d", rng.IntN(256))
			events = append(events, d)
		case 3: // the same ban on another host
			h := e
			h.Host = "web1"
			events = append(events, h)
		}
	}
	if _, err := s.Archive(ctx, events); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT id, host, jail, ip, timeofban, action, origin, failures, bancount FROM history_archive`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ref []archRef
	for rows.Next() {
		var r archRef
		if err := rows.Scan(&r.id, &r.host, &r.jail, &r.ip, &r.t, &r.action, &r.origin, &r.failures, &r.bancount); err != nil {
			t.Fatal(err)
		}
		ref = append(ref, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(ref, func(a, b archRef) int { return cmp.Or(cmp.Compare(b.t, a.t), cmp.Compare(b.id, a.id)) })
	return ref
}

func (r archRef) matches(f models.HistoryFilter) bool {
	return (f.Host == "" || r.host == f.Host) &&
		(f.Since.IsZero() || r.t >= f.Since.Unix()) &&
		(f.Jail == "" || r.jail == f.Jail) &&
		(f.Origin == models.OriginAll || r.origin == string(f.Origin)) &&
		(f.Action == "" || r.action == f.Action) &&
		strings.HasPrefix(r.ip, f.IPPrefix)
}

func sameEvent(rec models.BanRecord, r archRef) bool {
	return rec.Host == r.host && rec.Jail == r.jail && rec.IP == r.ip && rec.TimeOfBan.Unix() == r.t && rec.Action == r.action &&
		string(rec.Origin) == r.origin && rec.Failures == r.failures && rec.BanCount == r.bancount
}

func TestArchiveMatchesBruteForce(t *testing.T) {
	forEachArchive(t, func(t *testing.T, db *bun.DB, s HistoryArchive) {
		ctx := context.Background()
		ref := perfArchive(t, db, s)
		day := 24 * time.Hour
		for _, since := range []time.Time{{}, fixedNow.Add(-day), fixedNow.Add(-30 * day), fixedNow.Add(-365 * day)} {
			for _, action := range []string{"", ActionBan, ActionUnban} {
				for _, origin := range []models.Origin{models.OriginAll, models.OriginBlocklist, models.OriginSelfblock, models.OriginManual} {
					for _, jail := range []string{"", "sshd"} {
						for _, prefix := range []string{"", "1", "198.51."} {
							for _, host := range []string{"", "web1", models.LocalHost} {
								if host == models.LocalHost && (jail != "" || prefix != "") {
									continue // the local host is most events: its bigger combinations add little
								}
								f := models.HistoryFilter{Host: host, Since: since, Action: action, Origin: origin, Jail: jail, IPPrefix: prefix}
								checkArchiveFilter(t, ctx, s, ref, f)
							}
						}
					}
				}
			}
		}
	})
}

func checkArchiveFilter(t *testing.T, ctx context.Context, s HistoryArchive, ref []archRef, f models.HistoryFilter) {
	t.Helper()
	name := fmt.Sprintf("host=%q since=%d action=%q origin=%q jail=%q prefix=%q", f.Host, f.Since.Unix(), f.Action, f.Origin, f.Jail, f.IPPrefix)
	var want []archRef
	for _, r := range ref {
		if r.matches(f) {
			want = append(want, r)
		}
	}
	size := 41
	for _, p := range []int{1, len(want)/size/2 + 1, (len(want) + size - 1) / size, len(want)/size + 2} {
		if p < 1 {
			continue
		}
		recs, total, err := s.Bans(ctx, f, models.Page{Number: p, Size: size})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if total != int64(len(want)) {
			t.Fatalf("%s page %d: total %d, want %d", name, p, total, len(want))
		}
		exp := want[min((p-1)*size, len(want)):min(p*size, len(want))]
		if len(recs) != len(exp) {
			t.Fatalf("%s page %d: %d rows, want %d", name, p, len(recs), len(exp))
		}
		for i, rec := range recs {
			if !sameEvent(rec, exp[i]) {
				t.Fatalf("%s page %d row %d: %+v, want %+v", name, p, i, rec, exp[i])
			}
		}
	}

	perJail := map[string]int64{}
	for _, r := range want {
		perJail[r.jail]++
	}
	var wantJails []models.JailCount
	for j, n := range perJail {
		wantJails = append(wantJails, models.JailCount{Jail: j, Count: n})
	}
	slices.SortFunc(wantJails, func(a, b models.JailCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Jail, b.Jail))
	})
	total, jails, err := s.CountsByJail(ctx, f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if total != int64(len(want)) || !slices.Equal(jails, wantJails) {
		t.Fatalf("%s: CountsByJail %d %v, want %d %v", name, total, jails, len(want), wantJails)
	}

	for _, shape := range []struct {
		bucket time.Duration
		n      int
	}{{24 * time.Hour, 30}, {7 * 24 * time.Hour, 53}, {time.Hour, 1500}} {
		width, start, end, err := bucketWindow(fixedNow, shape.bucket, shape.n)
		if err != nil {
			t.Fatal(err)
		}
		exp := make([]int64, shape.n)
		for _, r := range want {
			if r.t >= start && r.t < end {
				exp[(r.t-start)/width]++
			}
		}
		got, err := s.CountsByBucket(ctx, f, shape.bucket, shape.n)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(got, exp) {
			t.Fatalf("%s: CountsByBucket(%s×%d) = %v, want %v", name, shape.bucket, shape.n, got, exp)
		}
	}
}

func TestArchiveIPMatchesBruteForce(t *testing.T) {
	forEachArchive(t, func(t *testing.T, db *bun.DB, s HistoryArchive) {
		ctx := context.Background()
		ref := perfArchive(t, db, s)
		perIP := map[string][]archRef{} // newest first
		for _, r := range ref {
			perIP[r.ip] = append(perIP[r.ip], r)
		}
		ips := []string{"203.0.113.9"} // unknown
		for ip := range perIP {
			ips = append(ips, ip)
		}
		slices.Sort(ips)
		for _, ip := range ips {
			evs := perIP[ip]
			for _, after := range []time.Time{{}, fixedNow.Add(-100 * 24 * time.Hour), fixedNow.Add(-time.Hour)} {
				var want IPTotals
				for _, r := range evs {
					if r.action != ActionBan || (!after.IsZero() && r.t <= after.Unix()) {
						continue
					}
					want = want.Add(IPTotals{Bans: 1, Failures: r.failures, First: time.Unix(r.t, 0), Last: time.Unix(r.t, 0)})
				}
				got, err := s.IPTotals(ctx, "", ip, after)
				if err != nil || got != want {
					t.Fatalf("IPTotals(%s, %v) = %+v %v, want %+v", ip, after, got, err, want)
				}
			}
			for _, limit := range []int{1, 7, 50} {
				recs, err := s.RecentOfIP(ctx, "", ip, limit)
				if err != nil {
					t.Fatal(err)
				}
				exp := evs[:min(limit, len(evs))]
				if len(recs) != len(exp) {
					t.Fatalf("RecentOfIP(%s, %d): %d events, want %d", ip, limit, len(recs), len(exp))
				}
				for i := range recs {
					if !sameEvent(recs[i], exp[i]) {
						t.Fatalf("RecentOfIP(%s, %d) event %d: %+v, want %+v", ip, limit, i, recs[i], exp[i])
					}
				}
			}
			hist, err := s.HistoryOfIP(ctx, ip)
			if err != nil || len(hist) != len(evs) {
				t.Fatalf("HistoryOfIP(%s): %d events %v, want %d", ip, len(hist), err, len(evs))
			}
			for i := range hist {
				if !sameEvent(hist[i], evs[i]) {
					t.Fatalf("HistoryOfIP(%s) event %d: %+v, want %+v", ip, i, hist[i], evs[i])
				}
			}
		}
	})
}

// TestArchiveQueryPlans runs EXPLAIN QUERY PLAN on the statements behind the
// dashboard (every range and origin) and the per-IP page, checks that each
// reads the index meant for it, counting from its keys alone, and logs the
// plans (go test -v).
func TestArchiveQueryPlans(t *testing.T) {
	ctx := context.Background()
	db, s := openTestArchive(t)
	ref := perfArchive(t, db, s)
	type stmt struct {
		q    string
		args []any
	}
	var seen []stmt
	s.trace = func(q string, args []any) { seen = append(seen, stmt{q, args}) }
	day := 24 * time.Hour
	for _, since := range []time.Duration{day, 7 * day, 30 * day, 365 * day} {
		for _, origin := range []models.Origin{models.OriginAll, models.OriginBlocklist, models.OriginSelfblock, models.OriginManual} {
			for _, host := range []string{"", models.LocalHost} {
				f := models.HistoryFilter{Host: host, Since: fixedNow.Add(-since), Origin: origin, Action: ActionBan}
				if _, _, err := s.Bans(ctx, f, models.Page{Number: 1, Size: 100}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.CountsByBucket(ctx, f, 7*day, 53); err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.CountsByJail(ctx, f); err != nil {
					t.Fatal(err)
				}
				if host != "" {
					if _, err := s.CountsByCountry(ctx, f); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	ip := ref[0].ip
	if _, err := s.IPTotals(ctx, "", ip, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecentOfIP(ctx, "", ip, 50); err != nil {
		t.Fatal(err)
	}
	if _, err := s.HistoryOfIP(ctx, ip); err != nil {
		t.Fatal(err)
	}
	s.trace = nil
	logged := map[string]bool{}
	for _, st := range seen {
		lines := queryPlan(t, s.sql, st.q, st.args...)
		plan := strings.Join(lines, "; ")
		q := strings.Join(strings.Fields(st.q), " ")
		if !logged[q+plan] {
			logged[q+plan] = true
			t.Logf("%s\n    => %s", q, plan)
		}
		for _, l := range lines {
			if strings.HasPrefix(l, "SCAN history_archive") {
				t.Errorf("scan of history_archive in %s: %s", q, plan)
			}
			if strings.Contains(l, "history_archive USING INDEX") && !strings.HasPrefix(q, "SELECT "+archiveColumns) {
				t.Errorf("table rows read in %s: %s", q, plan)
			}
		}
		var want string
		switch {
		case strings.Contains(q, "host = ?"):
			want = "USING COVERING INDEX history_archive_host_ban (host=? AND timeofban>"
		case strings.Contains(q, "action = 'ban' AND origin = o.name"):
			want = "USING COVERING INDEX history_archive_ban_origin_jail (origin=? AND jail=?"
		case strings.Contains(q, "action = 'ban'") && !strings.Contains(q, "WHERE ip = ?"):
			want = "USING COVERING INDEX history_archive_ban_time (timeofban>"
		case strings.Contains(q, "origin = ? AND action = ?"):
			want = "USING COVERING INDEX history_archive_origin_action_time (origin=? AND action=? AND timeofban>"
		case strings.Contains(q, "WHERE ip = ?"):
			want = "INDEX history_archive_ip_time (ip=?"
		}
		if want == "" || !strings.Contains(plan, want) {
			t.Errorf("%s\n    => %s\n    want %q", q, plan, want)
		}
	}
}

// TestFail2BanIPMatchesBruteForce checks the per-IP statements of the
// fail2ban reader, on a table where one address holds a third of the rows
// and rowids do not follow time everywhere, and that the busy address is
// read through the time window.
func TestFail2BanIPMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	jails := []string{"sshd", "postfix", "recidive", models.BlocklistJail}
	var bans []f2bgen.Ban
	for i := range 3000 {
		ip := fmt.Sprintf("192.0.2.%d", rng.IntN(200))
		if i%3 == 0 {
			ip = "203.0.113.7"
		}
		at := ago(time.Duration(3000-i) * time.Hour)
		if rng.IntN(20) == 0 { // written late, stamped long before
			at -= int64(rng.IntN(200*3600)) + 1
		}
		if i%97 == 0 {
			at = ago(1000 * time.Hour) // many in one second
		}
		data := fmt.Sprintf(`{"matches": [], "failures": %d}`, rng.IntN(9))
		if rng.IntN(15) == 0 {
			data = `not json`
		}
		bans = append(bans, f2bgen.Ban{Jail: jails[rng.IntN(len(jails))], IP: ip, TimeOfBan: at, BanTime: 600, BanCount: 1, Data: data})
	}
	r := openTestReader(t, writeF2B(t, bans), defaultReaderConfig())
	type row struct {
		rowid int64
		f2bgen.Ban
	}
	perIP := map[string][]row{}
	for i, b := range bans {
		perIP[b.IP] = append(perIP[b.IP], row{int64(i + 1), b})
	}
	var walked []string
	r.trace = func(q string, _ []any) {
		if strings.Contains(q, "+rowid IN") {
			walked = append(walked, q)
		}
	}
	for ip, rows := range perIP {
		slices.SortFunc(rows, func(a, b row) int {
			return cmp.Or(cmp.Compare(b.TimeOfBan, a.TimeOfBan), cmp.Compare(b.rowid, a.rowid))
		})
		for _, after := range []time.Time{{}, fixedNow.Add(-2000 * time.Hour), fixedNow.Add(-30 * time.Hour), fixedNow.Add(-time.Hour), fixedNow} {
			var want IPTotals
			for _, b := range rows {
				if !after.IsZero() && b.TimeOfBan <= after.Unix() {
					continue
				}
				want = want.Add(IPTotals{Bans: 1, Failures: bandata.Failures(b.Data), First: time.Unix(b.TimeOfBan, 0), Last: time.Unix(b.TimeOfBan, 0)})
			}
			got, err := r.IPTotals(ctx, ip, after)
			if err != nil || got != want {
				t.Fatalf("IPTotals(%s, %v) = %+v %v, want %+v", ip, after, got, err, want)
			}
		}
		for _, limit := range []int{1, 5, 50, 2000} {
			recs, err := r.RecentOfIP(ctx, ip, limit)
			if err != nil {
				t.Fatal(err)
			}
			exp := rows[:min(limit, len(rows))]
			if len(recs) != len(exp) {
				t.Fatalf("RecentOfIP(%s, %d): %d events, want %d", ip, limit, len(recs), len(exp))
			}
			for i, rec := range recs {
				if rec.Jail != exp[i].Jail || rec.TimeOfBan.Unix() != exp[i].TimeOfBan || rec.Failures != bandata.Failures(exp[i].Data) {
					t.Fatalf("RecentOfIP(%s, %d) event %d: %+v, want %+v", ip, limit, i, rec, exp[i])
				}
			}
		}
	}
	if len(walked) == 0 {
		t.Error("the busy address was never read through a time window")
	}
}

// TestCountryCountPlans checks that the dashboard's and the map's counts per
// country over long windows read one key range of
// history_archive_ban_origin_country per (origin, country) pair, from the
// index alone, for every origin and for one, and that they match a plain
// scan of the table (with countries known, unknown and not looked up yet).
func TestCountryCountPlans(t *testing.T) {
	ctx := context.Background()
	db, s := openTestArchive(t)
	ref := perfArchive(t, db, s)
	countries := map[string]string{}
	for i, r := range ref {
		switch i % 3 {
		case 0:
			countries[r.ip] = []string{"DE", "CN", "US", "BR", ""}[len(r.ip)%5]
		}
	}
	if _, err := s.SetCountries(ctx, countries); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	for _, origin := range []models.Origin{models.OriginAll, models.OriginBlocklist, models.OriginSelfblock} {
		for _, since := range []time.Time{{}, fixedNow.Add(-365 * day), fixedNow.Add(-30 * day)} {
			f := models.HistoryFilter{Since: since, Origin: origin, Action: ActionBan}
			q, args := banCountryCounts(f)
			plan := strings.Join(queryPlan(t, s.sql, q, args...), "; ")
			want := "USING COVERING INDEX history_archive_ban_origin_country (origin=? AND country_code=?"
			if strings.Count(plan, want) != 2 || strings.Contains(plan, "SCAN history_archive") ||
				strings.Contains(plan, "history_archive USING INDEX") {
				t.Errorf("origin %q since %v: plan %s\n    want two ranges %q and no table or scan", origin, since, plan, want)
			}
			rows, err := s.sql.QueryContext(ctx, `SELECT ifnull(country_code, ''), count(*) FROM history_archive NOT INDEXED
				WHERE action = 'ban' AND (? = '' OR origin = ?) AND timeofban >= ? GROUP BY 1`, string(origin), string(origin), sqlkit.SinceUnix(since))
			if err != nil {
				t.Fatal(err)
			}
			want2 := map[string]int64{}
			for rows.Next() {
				var code string
				var n int64
				if err := rows.Scan(&code, &n); err != nil {
					t.Fatal(err)
				}
				want2[code] += n
			}
			rows.Close()
			got, err := s.countsByCountry(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			gotMap := map[string]int64{}
			for _, c := range got {
				gotMap[c.Code] += c.Count
			}
			if len(want2) < 3 || !maps.Equal(gotMap, want2) {
				t.Errorf("origin %q since %v: counts %v, want %v", origin, since, gotMap, want2)
			}
		}
	}
}

// TestResultCache checks that the archive's counts are shared while the
// database is unchanged and recomputed after any write: through another
// store, a raw statement, or a country fill.
func TestResultCache(t *testing.T) {
	forEachArchive(t, func(t *testing.T, db *bun.DB, s HistoryArchive) {
		ctx := context.Background()
		ban := func(ip string, at time.Time) models.ArchivedBan {
			return models.ArchivedBan{Jail: "sshd", IP: ip, TimeOfBan: at.Unix(), BanTime: 600, BanCount: 1}
		}
		if _, err := s.Archive(ctx, []models.ArchivedBan{ban("192.0.2.1", fixedNow.Add(-time.Hour))}); err != nil {
			t.Fatal(err)
		}
		f := models.HistoryFilter{Since: fixedNow.Add(-365 * 24 * time.Hour), Action: ActionBan}
		total := func() int64 {
			t.Helper()
			counts, err := s.CountsByCountry(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			for _, c := range counts {
				n += c.Count
			}
			_, page, err := s.Bans(ctx, f, models.Page{Number: 1, Size: 10})
			if err != nil || page != n {
				t.Fatalf("page total %d, country total %d (%v)", page, n, err)
			}
			return n
		}
		if n := total(); n != 1 {
			t.Fatalf("total %d, want 1", n)
		}
		// Another store on the same database (the sync job's, a test's) writes.
		if _, err := NewHistoryArchive(db).Archive(ctx, []models.ArchivedBan{ban("192.0.2.2", fixedNow.Add(-time.Minute))}); err != nil {
			t.Fatal(err)
		}
		if n := total(); n != 2 {
			t.Fatalf("after a write through another store: total %d, want 2", n)
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM history_archive WHERE ip = '192.0.2.1'`); err != nil {
			t.Fatal(err)
		}
		if n := total(); n != 1 {
			t.Fatalf("after a raw delete: total %d, want 1", n)
		}
		if _, err := s.SetCountries(ctx, map[string]string{"192.0.2.2": "DE"}); err != nil {
			t.Fatal(err)
		}
		counts, err := s.CountsByCountry(ctx, f)
		if err != nil || len(counts) != 1 || counts[0].Code != "DE" {
			t.Fatalf("after the country fill: %v, %v; want one ban from DE", counts, err)
		}
	})
}

// TestResultCacheSharing checks that an unchanged archive's results are
// computed once per key, window and minute, and that concurrent misses
// share one computation.
func TestResultCacheSharing(t *testing.T) {
	ctx := context.Background()
	c := newResultCache(func(context.Context) (int64, error) { return 1, nil })
	var runs int
	var mu sync.Mutex
	compute := func() (any, error) {
		mu.Lock()
		runs++
		mu.Unlock()
		return int64(7), nil
	}
	clock := time.Now()
	c.now = func() time.Time { return clock }
	get := func(key string, since int64) {
		t.Helper()
		if v, err := c.get(ctx, key, since, compute); err != nil || v.(int64) != 7 {
			t.Fatalf("get = %v, %v", v, err)
		}
	}
	get("k", 1000)
	get("k", 1000)
	get("k", 1030) // the window moved on by 30 s: same result
	if runs != 1 {
		t.Fatalf("%d computations for one unchanged result, want 1", runs)
	}
	get("other", 1000)
	get("k", 1100) // a different window
	get("k", 1000) // the first window is still there
	clock = clock.Add(61 * time.Second)
	get("other", 1000) // too old
	if runs != 4 {
		t.Fatalf("%d computations, want 4 (new key, new window, expired)", runs)
	}
	// Concurrent misses share one computation.
	release := make(chan struct{})
	slow := func() (any, error) {
		<-release
		return compute()
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.get(ctx, "slow", 0, slow); err != nil {
				t.Error(err)
			}
		}()
	}
	// Wait until the first caller has registered the computation.
	for deadline := time.Now().Add(5 * time.Second); ; {
		c.mu.Lock()
		started := len(c.entries["slow"]) > 0
		c.mu.Unlock()
		if started || time.Now().After(deadline) {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if runs != 5 {
		t.Fatalf("%d computations after 8 concurrent misses, want 5", runs)
	}
}
