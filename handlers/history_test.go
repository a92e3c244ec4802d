package handlers

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"bangui/fail2ban/sandbox"
	"bangui/models"
	"bangui/repo"
)

// attack appends n failed sshd logins from ip to the sandbox's sshd log,
// stamped now, as sshd would write them.
func attack(t testing.TB, sb *sandbox.Sandbox, ip string, n int) {
	t.Helper()
	f, err := os.OpenFile(sb.LogPath("sshd"), os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	now := time.Now().Format(time.Stamp)
	for i := range n {
		fmt.Fprintf(f, "%s testhost sshd[%d]: Failed password for root from %s port %d ssh2\n", now, 4000+i, ip, 50000+i)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}

// fail2banRows counts rows of ip in fail2ban's own bans table.
func fail2banRows(t testing.TB, sb *sandbox.Sandbox, ip string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+sb.DBFile+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM bans WHERE ip = ?", ip).Scan(&n); err != nil {
		return 0
	}
	return n
}

func TestRealBansReachDashboardHistoryAndArchive(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	const attacker, manual = "203.0.113.77", "198.51.100.9"

	attack(t, sb, attacker, 6)
	waitFor(t, "fail2ban to ban the attacker", func() bool { return fail2banRows(t, sb, attacker) == 1 })
	assertRedirect(t, b.postForm("/jails/ban", "/jails", url.Values{"target": {manual}, "jail": {"sshd"}}), "/jails")
	waitFor(t, "fail2ban to record the manual ban", func() bool { return fail2banRows(t, sb, manual) == 1 })

	doc := parse(t, b.get("/"))
	if note := doc.Find("[data-testid=source-note]").Text(); !strings.Contains(note, "fail2ban's database") {
		t.Fatalf("dashboard source = %q", note)
	}
	for _, ip := range []string{attacker, manual} {
		if doc.Find(fmt.Sprintf(`#dash-bans tr[data-ip=%q]`, ip)).Length() != 1 {
			t.Fatalf("%s missing from the dashboard table", ip)
		}
	}
	row := doc.Find(fmt.Sprintf(`#dash-bans tr[data-ip=%q]`, attacker))
	if !strings.Contains(row.Find(".logline").Text(), "Failed password for root from "+attacker) {
		t.Fatalf("first log line = %q", row.Find(".logline").Text())
	}
	if got := doc.Find("#trend desc").Text(); !strings.HasPrefix(got, "2 bans in 24 buckets") {
		t.Fatalf("trend summary = %q", got)
	}
	if got := doc.Find("#per-jail desc").Text(); got != "2 bans in 1 jails." {
		t.Fatalf("per-jail summary = %q", got)
	}

	// The archive copies both; then fail2ban forgets the manual one on
	// unban and both after a purge, but the archive keeps them.
	// Two new rows, or one when fail2ban stamped the manual ban in the same
	// second as the panel's own record of it (the unique key merges those).
	if res, err := a.sync.Run(context.Background()); err != nil || res.Inserted < 1 || res.Inserted > 2 {
		t.Fatalf("archive sync: %+v %v", res, err)
	}
	// The panel's record of the manual ban and fail2ban's row of it became one.
	var origins []string
	if err := a.db.NewSelect().Table("history_archive").Column("origin").
		Where("ip = ? AND action = 'ban'", manual).Scan(context.Background(), &origins); err != nil || len(origins) != 1 || origins[0] != "manual" {
		t.Fatalf("archived manual ban: %v %v", origins, err)
	}
	assertRedirect(t, b.postForm("/jails/unban", "/jails", url.Values{"target": {manual}, "jail": {"sshd"}}), "/jails")
	waitFor(t, "fail2ban to delete the unbanned rows", func() bool { return fail2banRows(t, sb, manual) == 0 })
	purgeFail2banDB(t, sb)
	if _, err := a.sync.Run(context.Background()); err != nil {
		t.Fatal(err)
	}

	doc = parse(t, b.get("/history?range=all"))
	if note := doc.Find("[data-testid=source-note]").Text(); !strings.Contains(note, "archive") {
		t.Fatalf("history source = %q", note)
	}
	for _, ip := range []string{attacker, manual} {
		if doc.Find(fmt.Sprintf(`#history-bans tr[data-ip=%q]`, ip)).Length() == 0 {
			t.Fatalf("%s missing from the archive's history after unban and purge", ip)
		}
	}
	ip := parse(t, b.get("/history/"+manual))
	timeline := ip.Find("[data-testid=ip-timeline]").Text()
	if !strings.Contains(timeline, "unbanned") || !strings.Contains(timeline, "banned") {
		t.Fatalf("timeline = %q", timeline)
	}
	if state := ip.Find("[data-testid=ip-state]").Text(); !strings.Contains(state, "Not banned") {
		t.Fatalf("current state = %q", state)
	}
	ip = parse(t, b.get("/history/"+attacker))
	if state := ip.Find("[data-testid=ip-state]").Text(); !strings.Contains(state, "Banned in sshd") {
		t.Fatalf("attacker state = %q", state)
	}
	if rec := b.get("/history/192.0.2.250"); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "has any record of this address") {
		t.Fatalf("unknown IP: %d", rec.Code)
	}
	if rec := b.get("/history/not-an-ip"); rec.Code != http.StatusNotFound {
		t.Fatalf("invalid IP: %d", rec.Code)
	}
}

// purgeFail2banDB deletes every ban from fail2ban's database, as its hourly
// purge does once they are older than dbpurgeage.
func purgeFail2banDB(t testing.TB, sb *sandbox.Sandbox) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+sb.DBFile+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("DELETE FROM bans"); err != nil {
		t.Fatal(err)
	}
}

// seedArchive writes known events into the archive.
func seedArchive(t testing.TB, a *testApp, events []models.ArchivedBan) {
	t.Helper()
	if _, err := repo.NewHistoryArchive(a.db).Archive(context.Background(), events); err != nil {
		t.Fatal(err)
	}
}

func TestHistoryFiltersPagesAndCSV(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	now := time.Now().Unix()
	var events []models.ArchivedBan
	// 120 sshd bans of 203.0.113.x in the last day, 30 blocklist bans of
	// 198.51.100.x ten days ago, 5 manual bans 400 days ago.
	for i := range 120 {
		country := []string{"DE", "FR", "US", "US", "BR", "CN"}[i%6]
		events = append(events, models.ArchivedBan{Jail: "sshd", IP: fmt.Sprintf("203.0.113.%d", i), TimeOfBan: now - int64(i*60), BanCount: int64(1 + i%4), Data: `{"matches":["x"],"failures":3}`, Action: "ban", CountryCode: &country})
	}
	for i := range 30 {
		events = append(events, models.ArchivedBan{Jail: models.BlocklistJail, IP: fmt.Sprintf("198.51.100.%d", i), TimeOfBan: now - 10*86400 - int64(i), Data: "{}", Action: "ban"})
	}
	for i := range 5 {
		events = append(events, models.ArchivedBan{Jail: "sshd", IP: fmt.Sprintf("192.0.2.%d", i), TimeOfBan: now - 400*86400, Data: "{}", Action: "ban", Origin: "manual"})
	}
	seedArchive(t, a, events)

	count := func(query string) (rows int, info string) {
		doc := parse(t, b.get("/history?source=archive&"+query))
		return doc.Find("#history-bans tbody tr[data-ip]").Length(), doc.Find("#history-bans .pager__info").Text()
	}
	for _, tc := range []struct {
		query    string
		rows     int
		infoPart string
	}{
		{"range=all", 50, "of 155"},
		{"range=all&size=200", 155, "of 155"},
		{"range=24h", 50, "of 120"},
		{"range=30d", 50, "of 150"},
		{"range=all&origin=blocklist", 30, "of 30"},
		{"range=all&origin=manual", 5, "of 5"},
		{"range=all&origin=selfblock", 50, "of 120"},
		{"range=all&jail=blocklist-import", 30, "of 30"},
		{"range=all&ip=203.0.113.1", 31, "of 31"}, // .1, .10–.19, .100–.119
		{"range=all&ip=%27%22%25_", 0, "No rows"},
		{"range=all&page=4", 5, "151–155 of 155"},
		{"range=all&page=99", 0, "of 155"},
		{"range=all&page=-1&size=7", 50, "1–50 of 155"},
	} {
		rows, info := count(tc.query)
		if rows != tc.rows || !strings.Contains(info, tc.infoPart) {
			t.Errorf("%s: %d rows, %q; want %d rows, %q", tc.query, rows, info, tc.rows, tc.infoPart)
		}
	}
	// The dashboard's top countries: 24 hours hold the 120 sshd bans, US
	// first (40), then four countries of 20 each: four named, one in "other".
	dash := parse(t, b.get("/"))
	top := dash.Find("[data-testid=top-countries] li")
	if top.Length() != 5 || !strings.Contains(top.First().Text(), "United States") || !strings.Contains(top.First().Text(), "40") ||
		!strings.Contains(top.Last().Text(), "Other countries 20") {
		t.Errorf("top countries = %q", dash.Find("[data-testid=top-countries]").Text())
	}
	if got := dash.Find("#countries desc").Text(); got != "120 bans from 5 countries; 0 from unknown places." {
		t.Errorf("countries chart summary = %q", got)
	}
	if cell := dash.Find(`#dash-bans tr[data-ip="203.0.113.0"] [data-country]`).AttrOr("data-country", ""); cell != "DE" {
		t.Errorf("country cell of 203.0.113.0 = %q", cell)
	}

	// Repeat offenders (ban count ≥ 3) are highlighted.
	doc := parse(t, b.get("/history?source=archive&range=24h&size=200"))
	if n := doc.Find("#history-bans tr.row--repeat").Length(); n != 60 {
		t.Errorf("%d repeat rows, want 60", n)
	}
	// htmx pages are fragments.
	rec := b.do("GET", "/history?source=archive&range=all&page=2", nil, map[string]string{"HX-Request": "true"})
	if strings.Contains(rec.Body.String(), "<html") || !strings.Contains(rec.Body.String(), `data-page="2"`) {
		t.Fatalf("htmx history page is not a fragment")
	}
	// CSV: the whole filter, not one page.
	rec = b.get("/history.csv?source=archive&range=all&origin=selfblock")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	records, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil || len(records) != 121 || records[0][1] != "ip" {
		t.Fatalf("csv: %d records, %v", len(records), err)
	}
}
