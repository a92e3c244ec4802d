package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"bangui/fail2ban"
	"bangui/fail2ban/sandbox"
	"bangui/models"
	"bangui/services"
	"bangui/views"
)

// manyAddresses are n addresses of 198.18.0.0/15 (benchmarking space).
func manyAddresses(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("198.18.%d.%d", i/250, i%250+1)
	}
	return out
}

// formOf reads the fields of the form that matches sel in doc: hidden
// inputs, and checkboxes that are ticked.
func formOf(t *testing.T, doc *goquery.Document, sel string) url.Values {
	t.Helper()
	form := doc.Find(sel)
	if form.Length() != 1 {
		t.Fatalf("%d forms %s on the page", form.Length(), sel)
	}
	v := url.Values{}
	form.Find("input").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		typ, _ := in.Attr("type")
		val, _ := in.Attr("value")
		_, checked := in.Attr("checked")
		if name == "" || name == "_csrf" || (typ == "checkbox" && !checked) {
			return
		}
		v.Add(name, val)
	})
	return v
}

// followBulkJob polls the job page until the job ended, and returns it.
func followBulkJob(t *testing.T, b *browser, loc string) *goquery.Document {
	t.Helper()
	// fail2ban runs the jail's actions for every address it unbans: 3,000
	// take it minutes on this machine, whoever asks.
	deadline := time.Now().Add(10 * time.Minute)
	for {
		rec := b.get(loc)
		if rec.Code != http.StatusOK {
			t.Fatalf("job page: %d %.300s", rec.Code, rec.Body.String())
		}
		doc := parse(t, rec)
		if doc.Find(`#bulk-status[data-state="done"]`).Length() == 1 {
			return doc
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the bulk job: %s", doc.Find("#bulk-status").Text())
		}
		time.Sleep(200 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}

// TestBulkUnbanAllMatchingFromTheDashboard bans 3,000 addresses in a real
// fail2ban with one call, selects all bans matching the dashboard's filter,
// confirms and follows the job: every address is unbanned in fail2ban,
// the archive keeps each ban, and the audit log has one entry with the
// count.
func TestBulkUnbanAllMatchingFromTheDashboard(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	ctx := context.Background()
	host := a.app.Hosts.Local().ID()
	ips := manyAddresses(3000)
	start := time.Now()
	if _, err := a.s.jails.Ban(fail2ban.WithCallTimeout(ctx, 5*time.Minute), host, "sshd", ips); err != nil {
		t.Fatal(err)
	}
	t.Logf("fail2ban banned 3000 addresses in one call in %v", time.Since(start))
	if n := len(bannedIPs(t, sb, "sshd")); n != 3000 {
		t.Fatalf("fail2ban has %d bans, want 3000", n)
	}
	log := &auditLog{t: t, a: a}
	if all := log.all(); len(all) > 0 {
		log.seen = all[0].ID
	}

	dash := parse(t, b.get("/"))
	form := formOf(t, dash, "form#bulk-dash-bans")
	if got := dash.Find("#dash-bans tbody input[type=checkbox][name=row]").Length(); got != 100 {
		t.Fatalf("%d row checkboxes on the dashboard's first page, want 100", got)
	}
	if label := dash.Find("form#bulk-dash-bans").Text(); !strings.Contains(label, "All 3\u202f000 matching the filter") {
		t.Fatalf("the bulk form does not offer all 3 000: %q", label)
	}
	form.Set("matching", "1")
	form.Set("action", "unban")
	rec := b.postForm("/bulk/confirm", "/", form)
	if rec.Code != http.StatusOK {
		t.Fatalf("confirm: %d %.500s", rec.Code, rec.Body.String())
	}
	confirm := parse(t, rec)
	if got := confirm.Find("[data-testid=bulk-count]").Text(); got != "3\u202f000" {
		t.Fatalf("the confirmation counts %q, want 3 000; %q", got, confirm.Find("[data-testid=bulk-summary]").Text())
	}
	if summary := confirm.Find("[data-testid=bulk-summary]").Text(); !strings.Contains(summary, a.app.Hosts.Name(host)) || !strings.Contains(summary, "sshd") {
		t.Fatalf("the confirmation names no host or jail: %q", summary)
	}
	if n := len(bannedIPs(t, sb, "sshd")); n != 3000 {
		t.Fatalf("asking unbanned: %d bans left", n)
	}
	if len(log.all()) > 0 && log.all()[0].ID != log.seen {
		t.Fatalf("asking wrote an audit entry: %+v", log.all()[0])
	}

	run := formOf(t, confirm, `form[action$="/bulk/run"]`)
	start = time.Now()
	rec = b.postForm("/bulk/run", "/", run)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("run: %d %.500s", rec.Code, rec.Body.String())
	}
	job := followBulkJob(t, b, rec.Header().Get("Location"))
	elapsed := time.Since(start)
	if done := job.Find("[data-testid=bulk-done]").Text(); done != "3\u202f000" {
		t.Fatalf("the job did %q addresses, want 3 000", done)
	}
	if f := job.Find("[data-testid=bulk-failures] tbody tr").Length(); f != 0 {
		t.Fatalf("%d addresses failed: %s", f, job.Find("[data-testid=bulk-failures]").Text())
	}
	if left := bannedIPs(t, sb, "sshd"); len(left) != 0 {
		t.Fatalf("fail2ban still bans %d addresses, e.g. %v", len(left), left[:min(3, len(left))])
	}
	if rows := fail2banRows(t, sb, ips[0]); rows != 0 {
		t.Fatalf("fail2ban's database keeps %d rows of %s", rows, ips[0])
	}

	// The archive keeps every ban, with its unban.
	kept := map[string]int{}
	if _, err := a.s.history.EachHistory(ctx, services.HistoryQuery{Source: services.SourceArchive, IPPrefix: "198.18."},
		func(r models.BanRecord) error {
			if r.Action != "unban" && r.Jail == "sshd" {
				kept[r.IP]++
			}
			return nil
		}); err != nil {
		t.Fatal(err)
	}
	if len(kept) != 3000 {
		t.Fatalf("the archive keeps the bans of %d addresses, want 3000", len(kept))
	}

	var fresh []models.AuditEntry
	for _, e := range log.all() {
		if e.ID > log.seen {
			fresh = append(fresh, e)
		}
	}
	if len(fresh) != 1 {
		t.Fatalf("%d audit entries for the bulk unban, want 1", len(fresh))
	}
	if e := fresh[0]; e.Action != models.AuditUnban || e.Actor != "admin" || e.Host != host || e.Jail != "sshd" || e.Result != "ok" ||
		!strings.HasPrefix(e.Target, "198.18.") || !strings.Contains(e.Detail, "bulk unban of 3000 addresses") {
		t.Fatalf("the audit entry: %+v", textfmtEntry(e))
	}

	// fail2ban's own single call, for comparison.
	if _, err := a.s.jails.Ban(fail2ban.WithCallTimeout(ctx, 5*time.Minute), host, "sshd", ips); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err := sb.Client().Call(fail2ban.WithCallTimeout(ctx, 5*time.Minute), append([]string{"set", "sshd", "unbanip"}, ips...)...); err != nil {
		t.Fatal(err)
	}
	t.Logf("bulk unban of 3000 (confirm to done): %v; fail2ban's one unbanip call: %v", elapsed, time.Since(start))
}

// TestBulkRefusesBadSelections: forged rows, an empty selection, too many
// rows, an action this panel does not offer and a table that cannot
// select all its matches are each refused with a message, and nothing is
// unbanned or recorded.
func TestBulkRefusesBadSelections(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	host := a.app.Hosts.Local().ID()
	if _, err := a.s.jails.Ban(context.Background(), host, "sshd", []string{"198.18.0.1"}); err != nil {
		t.Fatal(err)
	}
	log := &auditLog{t: t, a: a}
	if all := log.all(); len(all) > 0 {
		log.seen = all[0].ID
	}
	rows := func(v ...string) url.Values { return url.Values{"action": {"unban"}, "row": v, "back": {"/"}} }
	tooMany := make([]string, bulkMaxRows+1)
	for i, ip := range manyAddresses(len(tooMany)) {
		tooMany[i] = views.BulkRow(host, "sshd", ip)
	}
	cases := []struct {
		name   string
		form   url.Values
		status int
		says   string
	}{
		{"nothing", rows(), http.StatusUnprocessableEntity, "Nothing is selected"},
		{"not an address", rows(views.BulkRow(host, "sshd", "198.18.0.1"), views.BulkRow(host, "sshd", "<script>")), http.StatusUnprocessableEntity,
			"1 of the selected rows cannot be acted on (&#34;&lt;script&gt;&#34; is not an IP address)"},
		{"unknown host", rows(views.BulkRow("elsewhere", "sshd", "198.18.0.1")), http.StatusUnprocessableEntity, "no host &#34;elsewhere&#34; is registered"},
		{"bad jail", rows(views.BulkRow(host, "sshd;rm", "198.18.0.1")), http.StatusUnprocessableEntity, "is not a jail name"},
		{"not a row", rows("198.18.0.1"), http.StatusUnprocessableEntity, "is not a row of the table"},
		{"too many", rows(tooMany...), http.StatusUnprocessableEntity, "1001 rows are ticked; tick at most 1000 by hand"},
		{"no action", url.Values{"row": {views.BulkRow(host, "sshd", "198.18.0.1")}}, http.StatusUnprocessableEntity, "Choose an action"},
		{"unknown action", url.Values{"action": {"frobnicate"}, "row": {views.BulkRow(host, "sshd", "198.18.0.1")}}, http.StatusUnprocessableEntity, "Choose an action"},
		{"no such table", url.Values{"action": {"unban"}, "matching": {"1"}, "scope": {"elsewhere"}}, http.StatusUnprocessableEntity, "cannot select all rows"},
		{"nothing matches", url.Values{"action": {"unban"}, "matching": {"1"}, "scope": {"history"}, "filter": {"ip=203.0.113.250"}},
			http.StatusUnprocessableEntity, "No ban matches the filter"},
	}
	for _, tc := range cases {
		for _, route := range []string{"/bulk/confirm", "/bulk/run"} {
			rec := b.postForm(route, "/", tc.form)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.says) {
				t.Errorf("%s to %s: %d, want %d saying %q; %.400s", tc.name, route, rec.Code, tc.status, tc.says, rec.Body.String())
			}
		}
	}
	if n := len(bannedIPs(t, sb, "sshd")); n != 1 {
		t.Fatalf("a refused request unbanned: %d bans left", n)
	}
	if all := log.all(); len(all) > 0 && all[0].ID != log.seen {
		t.Fatalf("a refused request wrote an audit entry: %+v", all[0])
	}

	// A valid jail name that does not run, and an address not banned: the
	// job reports each address, and lifts the one ban.
	rec := b.postForm("/bulk/run", "/", rows(views.BulkRow(host, "sshd", "198.18.0.1"), views.BulkRow(host, "sshd", "198.18.0.2"),
		views.BulkRow(host, "nosuchjail", "198.18.0.3")))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("run: %d %.400s", rec.Code, rec.Body.String())
	}
	job := followBulkJob(t, b, rec.Header().Get("Location"))
	failures := job.Find("[data-testid=bulk-failures]").Text()
	for _, want := range []string{"198.18.0.2", "was not banned in sshd", "198.18.0.3", "no jail nosuchjail runs on this host"} {
		if !strings.Contains(failures, want) {
			t.Errorf("the job's failures do not say %q: %q", want, failures)
		}
	}
	if got := job.Find("[data-testid=bulk-failed]").Text(); got != "2" {
		t.Errorf("failed %q, want 2", got)
	}
	if n := len(bannedIPs(t, sb, "sshd")); n != 0 {
		t.Fatalf("%d bans left after the job", n)
	}
	link, _ := job.Find(`a[href*="/results.csv"]`).Attr("href")
	res := b.get(link)
	recs, err := csv.NewReader(strings.NewReader(res.Body.String())).ReadAll()
	if err != nil || len(recs) != 4 || recs[1][2] != "198.18.0.1" || recs[1][3] != "true" || recs[3][4] != "no jail nosuchjail runs on this host" {
		t.Fatalf("results CSV: %v %q", err, recs)
	}
	if got := b.get("/bulk/jobs/nosuchjob"); got.Code != http.StatusNotFound || !strings.Contains(got.Body.String(), "No such bulk action") {
		t.Fatalf("an unknown job: %d %.300s", got.Code, got.Body.String())
	}
}

// TestBulkExportSelection downloads ticked rows and the rows of a page as
// CSV, without unbanning anything.
func TestBulkExportSelection(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	host := a.app.Hosts.Local().ID()
	ips := manyAddresses(3)
	if _, err := a.s.jails.Ban(context.Background(), host, "sshd", ips); err != nil {
		t.Fatal(err)
	}
	doc := parse(t, b.get("/history?range=24h"))
	form := formOf(t, doc, "form#bulk-history-bans")
	form.Set("onpage", "1")
	rec := b.postForm("/bulk/export", "/history", form)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s %.300s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	recs, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil || len(recs) != 4 || recs[0][0] != "ip" {
		t.Fatalf("CSV of the page: %v %q", err, recs)
	}
	got := map[string]bool{}
	for _, r := range recs[1:] {
		got[r[0]] = r[1] == "sshd"
	}
	for _, ip := range ips {
		if !got[ip] {
			t.Errorf("the CSV lacks %s in sshd: %q", ip, recs)
		}
	}
	one := b.postForm("/bulk/export", "/history", url.Values{"row": {views.BulkRow(host, "sshd", ips[1])}})
	if recs, _ := csv.NewReader(strings.NewReader(one.Body.String())).ReadAll(); len(recs) != 2 || recs[1][0] != ips[1] {
		t.Fatalf("CSV of one ticked row: %q", recs)
	}
	if n := len(bannedIPs(t, sb, "sshd")); n != 3 {
		t.Fatalf("an export unbanned: %d bans left", n)
	}
}

// TestBulkAllowAndTimedBan run the allow-list and timed-ban actions when
// the panel has those services (app.Bulk wired with them); until then
// the forms do not offer them, which TestBulkRefusesBadSelections checks.
func TestBulkAllowAndTimedBan(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	host := a.app.Hosts.Local().ID()
	for _, action := range []models.BulkAction{models.BulkAllow, models.BulkBan} {
		if !a.s.bulk.Supports(action) {
			t.Fatalf("%s: not offered (app.Bulk wires the allow-list and timed bans)", action)
		}
		form := url.Values{"action": {string(action)}, "row": {views.BulkRow(host, "sshd", "198.18.1.1"), views.BulkRow(host, "sshd", "198.18.1.2")},
			"note": {"bulk test <b>x</b>"}, "duration": {"1h"}, "everyjail": {"1"}}
		rec := b.postForm("/bulk/run", "/", form)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("%s: %d %.400s", action, rec.Code, rec.Body.String())
		}
		job := followBulkJob(t, b, rec.Header().Get("Location"))
		if got := job.Find("[data-testid=bulk-done]").Text(); got != "2" || job.Find("[data-testid=bulk-failures]").Length() != 0 {
			t.Fatalf("%s: done %q, failures %q", action, got, job.Find("[data-testid=bulk-failures]").Text())
		}
		banned := strings.Join(bannedIPs(t, sb, "sshd"), " ")
		if action == models.BulkBan && !strings.Contains(banned, "198.18.1.1") {
			t.Fatalf("ban for 1h: not banned: %q", banned)
		}
		if action == models.BulkAllow && strings.Contains(banned, "198.18.1.1") {
			t.Fatalf("allow: still banned: %q", banned)
		}
		if action == models.BulkAllow {
			list, err := a.app.AllowList.List(context.Background(), host)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, it := range list.Items {
				if it.Address == "198.18.1.1" {
					found = true
					if it.AddedBy != testAdmin || len(it.Jails) != 0 || it.Note != "bulk test <b>x</b>" {
						t.Fatalf("allow: entry %+v, want added by %s in every jail with the note as written", it, testAdmin)
					}
				}
			}
			if !found {
				t.Fatalf("allow: 198.18.1.1 not on the allow-list: %+v", list.Items)
			}
		}
	}
	// An end in the past and a custom duration that is none are refused
	// with the confirmation page and its messages.
	past := url.Values{"action": {"allow"}, "row": {views.BulkRow(host, "sshd", "198.18.1.1")}, "expires": {"2001-01-01T00:00"}}
	bad := url.Values{"action": {"ban"}, "row": {views.BulkRow(host, "sshd", "198.18.1.1")}, "duration": {"custom"}, "custom": {"soon"}}
	for _, c := range []struct {
		form   url.Values
		action models.BulkAction
		says   string
	}{{past, models.BulkAllow, "The end is in the past"}, {bad, models.BulkBan, "is not a time"}} {
		if !a.s.bulk.Supports(c.action) {
			continue
		}
		if rec := b.postForm("/bulk/run", "/", c.form); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), c.says) {
			t.Errorf("%s: %d %.300s", c.action, rec.Code, rec.Body.String())
		}
	}
}

// textfmtEntry is e with its target shortened, for a failure message.
func textfmtEntry(e models.AuditEntry) models.AuditEntry {
	if len(e.Target) > 200 {
		e.Target = e.Target[:200] + "…"
	}
	return e
}

// TestBulkAllMatchingOnAJailPage selects all current bans of a jail that
// match its search, as the jail page's table shows them, and unbans them:
// the others stay banned.
func TestBulkAllMatchingOnAJailPage(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	host := a.app.Hosts.Local().ID()
	if _, err := a.s.jails.Ban(context.Background(), host, "sshd", []string{"198.18.5.1", "198.18.5.2", "198.18.5.3", "198.18.6.1"}); err != nil {
		t.Fatal(err)
	}
	doc := parse(t, b.get("/jails/sshd?q=198.18.5."))
	form := formOf(t, doc, "form#bulk-jail-bans")
	if got := doc.Find("#jail-bans tbody input[name=row]").Length(); got != 3 {
		t.Fatalf("%d row checkboxes, want 3", got)
	}
	form.Set("matching", "1")
	form.Set("action", "unban")
	confirm := parse(t, b.postForm("/bulk/confirm", "/jails/sshd", form))
	if got := confirm.Find("[data-testid=bulk-count]").Text(); got != "3" {
		t.Fatalf("the confirmation counts %q, want 3: %s", got, confirm.Find("main, body").First().Text())
	}
	rec := b.postForm("/bulk/run", "/jails/sshd", formOf(t, confirm, `form[action$="/bulk/run"]`))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("run: %d %.300s", rec.Code, rec.Body.String())
	}
	if loc := rec.Header().Get("Location"); !strings.Contains(loc, "back=%2Fjails%2Fsshd%3Fq%3D198.18.5.") {
		t.Errorf("the job page does not lead back to the jail's filtered page: %s", loc)
	}
	followBulkJob(t, b, rec.Header().Get("Location"))
	if left := bannedIPs(t, sb, "sshd"); len(left) != 1 || left[0] != "198.18.6.1" {
		t.Fatalf("left banned: %v, want 198.18.6.1 alone", left)
	}
}

// TestBulkUnbanAcrossHosts: rows carry their host; one selection unbans an
// address on two hosts and a dead host's row fails alone, with its reason.
func TestBulkUnbanAcrossHosts(t *testing.T) {
	f := fleetApp(t, []string{"web2"}, true)
	const ip = "198.18.7.1"
	for _, id := range []string{f.app.app.Hosts.Local().ID(), "web2"} {
		if _, err := f.app.s.jails.Ban(context.Background(), id, "sshd", []string{ip}); err != nil {
			t.Fatal(err)
		}
	}
	form := url.Values{"action": {"unban"}, "row": {views.BulkRow(f.app.app.Hosts.Local().ID(), "sshd", ip), views.BulkRow("web2", "sshd", ip),
		views.BulkRow("gone", "sshd", ip)}}
	confirm := parse(t, f.b.postForm("/bulk/confirm", "/", form))
	if summary := confirm.Find("[data-testid=bulk-summary]").Text(); !strings.Contains(summary, "web2") || !strings.Contains(summary, "Gone host") {
		t.Fatalf("the confirmation does not name every host: %q", summary)
	}
	rec := f.b.postForm("/bulk/run", "/", formOf(t, confirm, `form[action$="/bulk/run"]`))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("run: %d %.300s", rec.Code, rec.Body.String())
	}
	job := followBulkJob(t, f.b, rec.Header().Get("Location"))
	for _, sb := range []*sandbox.Sandbox{f.local, f.other["web2"]} {
		if left := bannedIPs(t, sb, "sshd"); len(left) != 0 {
			t.Fatalf("still banned: %v", left)
		}
	}
	failures := job.Find("[data-testid=bulk-failures] tbody tr")
	if failures.Length() != 1 || !strings.Contains(failures.Text(), "Gone host") || !strings.Contains(failures.Text(), "fail2ban's socket does not answer") {
		t.Fatalf("failures: %q, want the dead host's row alone", failures.Text())
	}
}
