package handlers

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"bangui/models"
	"bangui/repo"
)

// auditLog follows a panel's audit log: each check asserts that exactly
// one entry was written since the last check, and returns it.
type auditLog struct {
	t    *testing.T
	a    *testApp
	seen int64 // the highest id checked
}

func (l *auditLog) all() []models.AuditEntry {
	l.t.Helper()
	entries, _, err := l.a.app.Audit.List(context.Background(), models.AuditFilter{}, models.Page{Number: 1, Size: 10000})
	if err != nil {
		l.t.Fatal(err)
	}
	return entries
}

// one asserts that the last step wrote exactly one entry, matching want in
// Action, Actor, Host, Jail, File and Target, with a Result of "ok" for
// result "ok" and containing result otherwise.
func (l *auditLog) one(step string, want models.AuditEntry, result string) models.AuditEntry {
	l.t.Helper()
	var fresh []models.AuditEntry
	for _, e := range l.all() {
		if e.ID > l.seen {
			fresh = append(fresh, e)
		}
	}
	if len(fresh) != 1 {
		l.t.Fatalf("%s: %d new audit entries, want 1: %+v", step, len(fresh), fresh)
	}
	e := fresh[0]
	l.seen = e.ID
	got := models.AuditEntry{Action: e.Action, Actor: e.Actor, Host: e.Host, Jail: e.Jail, File: e.File, Target: e.Target}
	if !reflect.DeepEqual(got, want) {
		l.t.Errorf("%s: entry %+v\nwant %+v", step, got, want)
	}
	if result == "ok" && e.Result != "ok" || result != "ok" && (e.Result == "ok" || !strings.Contains(e.Result, result)) {
		l.t.Errorf("%s: result %q, want %q", step, e.Result, result)
	}
	if e.Actor != "" && (e.Role != models.RoleAdmin || e.Client != "192.0.2.10") || e.At == 0 {
		l.t.Errorf("%s: who/when %+v", step, e)
	}
	return e
}

// setupAndLogin asserts that setting the panel up and logging in as its
// first admin wrote two entries: the setup, then the login.
func (l *auditLog) setupAndLogin() {
	l.t.Helper()
	var actions []models.AuditAction
	seen := l.seen
	for _, e := range l.all() {
		if e.ID > seen {
			actions = append([]models.AuditAction{e.Action}, actions...) // List is newest first
			if e.Actor != testAdmin || e.Result != "ok" {
				l.t.Errorf("setup and login: entry %+v, want one by %s that ended ok", e, testAdmin)
			}
			l.seen = max(l.seen, e.ID)
		}
	}
	if !reflect.DeepEqual(actions, []models.AuditAction{models.AuditSetup, models.AuditLogin}) {
		l.t.Fatalf("setup and login wrote %v, want setup then login", actions)
	}
}

// none asserts that the last step wrote nothing.
func (l *auditLog) none(step string) {
	l.t.Helper()
	for _, e := range l.all() {
		if e.ID > l.seen {
			l.t.Fatalf("%s wrote an audit entry: %+v", step, e)
		}
	}
}

// TestAuditEachActionOnce performs every state change of the pages on a
// real fail2ban and checks that each leaves exactly one entry naming who,
// what, where and how it ended; refused actions record what the user saw.
func TestAuditEachActionOnce(t *testing.T) {
	a, b, sb := configApp(t)
	log := &auditLog{t: t, a: a}
	log.setupAndLogin()
	local := models.LocalHost
	post := func(target, from string, form url.Values) *httptest.ResponseRecorder {
		t.Helper()
		rec := b.postForm(target, from, form)
		if rec.Code >= 500 {
			t.Fatalf("POST %s: %d %s", target, rec.Code, rec.Body)
		}
		return rec
	}

	post("/jails/ban", "/jails", url.Values{"target": {"203.0.113.7, 198.51.100.0/24"}, "jail": {"web"}})
	log.one("ban", models.AuditEntry{Action: models.AuditBan, Actor: "admin", Host: local, Jail: "web", Target: "203.0.113.7, 198.51.100.0/24"}, "ok")
	// The address page says who banned it, and links to the entry.
	doc := parse(t, b.get("/history/203.0.113.7"))
	if trail := doc.Find("[data-testid=audit-trail]"); !strings.Contains(trail.Text(), "admin") || !strings.Contains(trail.Text(), "ban") ||
		trail.Find(`a[href="/audit?target=203.0.113.7"]`).Length() != 1 {
		t.Fatalf("address page audit trail: %q", trail.Text())
	}
	if doc := parse(t, b.get("/audit?target=203.0.113.7")); doc.Find("#audit-entries tbody tr[data-action=ban]").Length() != 1 {
		t.Fatal("the address page's link does not lead to the ban's entry")
	}
	if rec := post("/jails/ban", "/jails", url.Values{"target": {"=1+2"}, "jail": {"web"}}); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad address answered %d", rec.Code)
	}
	log.one("refused ban", models.AuditEntry{Action: models.AuditBan, Actor: "admin", Host: local, Jail: "web", Target: "=1+2"}, "not")
	post("/jails/ban", "/jails", url.Values{"target": {strings.Repeat("x", 20000)}, "jail": {"web"}})
	if e := log.one("ban of a huge target", models.AuditEntry{Action: models.AuditBan, Actor: "admin", Host: local, Jail: "web",
		Target: strings.Repeat("x", auditMaxText)}, ""); len(e.Result) > auditMaxText {
		t.Errorf("result of %d bytes", len(e.Result))
	}
	post("/jails/ban", "/jails", url.Values{"target": {"203.0.113.8"}, "jail": {"nosuch"}})
	log.one("ban in an unknown jail", models.AuditEntry{Action: models.AuditBan, Actor: "admin", Host: local, Jail: "nosuch", Target: "203.0.113.8"},
		"no running jail by that name")
	post("/jails/unban", "/jails", url.Values{"target": {"203.0.113.7"}, "jail": {"web"}})
	log.one("unban", models.AuditEntry{Action: models.AuditUnban, Actor: "admin", Host: local, Jail: "web", Target: "203.0.113.7"}, "ok")
	post("/jails/unban-all", "/jails", nil)
	log.one("unban all", models.AuditEntry{Action: models.AuditUnbanAll, Actor: "admin", Host: local}, "ok")

	post("/jails/web/ignore", "/jails/web", url.Values{"target": {"192.0.2.99"}})
	log.one("ignore add", models.AuditEntry{Action: models.AuditIgnoreAdd, Actor: "admin", Host: local, Jail: "web", Target: "192.0.2.99"}, "ok")
	post("/jails/web/ignore/delete", "/jails/web", url.Values{"entry": {"192.0.2.99"}})
	log.one("ignore remove", models.AuditEntry{Action: models.AuditIgnoreRemove, Actor: "admin", Host: local, Jail: "web", Target: "192.0.2.99"}, "ok")
	post("/jails/web/ignore/delete", "/jails/web", url.Values{"entry": {"192.0.2.98"}})
	log.one("ignore remove of what is not listed", models.AuditEntry{Action: models.AuditIgnoreRemove, Actor: "admin", Host: local, Jail: "web",
		Target: "192.0.2.98"}, "fail2ban did not remove 192.0.2.98")
	post("/jails/web/ignoreself", "/jails/web", url.Values{"ignoreself": {"on"}})
	log.one("ignoreself", models.AuditEntry{Action: models.AuditIgnoreSelf, Actor: "admin", Host: local, Jail: "web"}, "ok")
	post("/ignore", "/history/192.0.2.77", url.Values{"target": {"192.0.2.77"}, "jail": {"web"}})
	log.one("ignore from the address page", models.AuditEntry{Action: models.AuditIgnoreAdd, Actor: "admin", Host: local, Jail: "web", Target: "192.0.2.77"}, "ok")

	post("/jails/web/idle", "/jails/web", url.Values{"idle": {"on"}})
	e := log.one("idle", models.AuditEntry{Action: models.AuditJailAction, Actor: "admin", Host: local, Jail: "web"}, "ok")
	if e.Detail != "idle" {
		t.Errorf("idle detail %q", e.Detail)
	}
	post("/jails/web/stop", "/jails/web", nil)
	log.one("stop", models.AuditEntry{Action: models.AuditJailAction, Actor: "admin", Host: local, Jail: "web"}, "ok")
	post("/jails/web/start", "/jails", nil)
	log.one("start", models.AuditEntry{Action: models.AuditJailAction, Actor: "admin", Host: local, Jail: "web"}, "ok")
	post("/jails/web/reload", "/jails", nil)
	log.one("jail reload", models.AuditEntry{Action: models.AuditReload, Actor: "admin", Host: local, Jail: "web"}, "ok")
	post("/jails/reload", "/jails", nil)
	log.one("reload every jail", models.AuditEntry{Action: models.AuditReload, Actor: "admin", Host: local}, "ok")

	// Configuration: saves, a refused value, a failed apply rolled back.
	post("/config/raw", "/config/raw", url.Values{"file": {"jail.d/web.local"}, "content": {"[web]\nmaxretry = 4\n"}})
	log.one("raw save", models.AuditEntry{Action: models.AuditConfigSave, Actor: "admin", Host: local, File: "jail.d/web.local"}, "ok")
	post("/config/raw", "/config/raw", url.Values{"file": {"jail.d/web.local"}, "content": {"[web]\nmaxretry = 4\nfilter = no-such-filter\n"}})
	log.one("raw save rolled back", models.AuditEntry{Action: models.AuditConfigUndo, Actor: "admin", Host: local, File: "jail.d/web.local"}, "Not applied")
	post("/config/raw", "/config/raw", url.Values{"file": {"../jail.conf"}, "content": {"[x]\n"}})
	log.one("raw save refused", models.AuditEntry{Action: models.AuditConfigSave, Actor: "admin", Host: local, File: "../jail.conf"}, "..")
	post("/config/jails/web-off/activate", "/config", nil)
	log.one("activate", models.AuditEntry{Action: models.AuditConfigSave, Actor: "admin", Host: local, Jail: "web-off", File: "jail.d/web-off.local"}, "ok")
	// The configuration pages link to their entries.
	for page, want := range map[string]int{"/config/raw?file=jail.d%2Fweb.local": 2, "/config/jails/web-off": 1} {
		href, ok := parse(t, b.get(page)).Find("[data-testid=audit-link]").Attr("href")
		if !ok {
			t.Fatalf("%s links to no audit entry", page)
		}
		if n := parse(t, b.get(href)).Find("#audit-entries tbody tr[data-action]").Length(); n != want {
			t.Errorf("%s: %s lists %d entries, want %d", page, href, n, want)
		}
	}
	post("/config/server/reload", "/config/server", nil)
	log.one("reload fail2ban", models.AuditEntry{Action: models.AuditReload, Actor: "admin", Host: local}, "ok")
	post("/config/server/flush", "/config/server", nil)
	log.one("flush logs", models.AuditEntry{Action: models.AuditFlushLogs, Actor: "admin", Host: local}, "ok")
	post("/config/regex", "/config/regex", url.Values{"failregex": {"^x <HOST>$"}, "lines": {"x 192.0.2.1"}})
	log.none("the regex tester")

	// Blocklists.
	post("/blocklists/sources", "/blocklists", url.Values{"name": {"Spam"}, "url": {"http://127.0.0.1:9/list.txt"}})
	log.one("add list", models.AuditEntry{Action: models.AuditBlocklist, Actor: "admin", Target: "Spam"}, "ok")
	post("/blocklists/sources", "/blocklists", url.Values{"name": {""}, "url": {"ftp://x"}})
	log.one("refused list", models.AuditEntry{Action: models.AuditBlocklist, Actor: "admin"}, "")
	srcs, err := a.s.blocklists.Sources(context.Background())
	if err != nil || len(srcs) != 1 {
		t.Fatalf("sources %v %v", srcs, err)
	}
	path := "/blocklists/sources/" + strconv.FormatInt(srcs[0].ID, 10)
	post(path, path, url.Values{"name": {"Spam 2"}, "url": {"http://127.0.0.1:9/list.txt"}})
	log.one("edit list", models.AuditEntry{Action: models.AuditBlocklist, Actor: "admin", Target: "Spam"}, "ok")
	post(path+"/enabled", path, url.Values{"enabled": {"on"}})
	log.one("enable list", models.AuditEntry{Action: models.AuditBlocklist, Actor: "admin", Target: "Spam 2"}, "ok")
	post("/blocklists/schedule", "/blocklists", url.Values{"frequency": {"off"}})
	log.one("schedule", models.AuditEntry{Action: models.AuditBlocklist, Actor: "admin"}, "ok")
	post(path+"/delete", path, nil)
	log.one("delete list", models.AuditEntry{Action: models.AuditBlocklist, Actor: "admin", Target: "Spam 2"}, "ok")
	post("/blocklists/import", "/blocklists", nil)
	log.one("import", models.AuditEntry{Action: models.AuditImport, Actor: "admin"}, "ok")

	// Hosts: refused enrolment and actions on a host that is not there.
	post("/hosts", "/hosts", url.Values{"id": {"web2"}, "name": {"Web 2"}, "url": {"ftp://x"}, "token": {"t"}})
	log.one("refused enrolment", models.AuditEntry{Action: models.AuditHostChange, Actor: "admin", Host: "web2", Target: "Web 2"}, "")
	for _, step := range []struct{ path, what string }{{"/hosts/gone/name", "rename"}, {"/hosts/gone/enabled", "disable"},
		{"/hosts/gone/delete", "remove"}, {"/hosts/gone/fingerprint", "accept certificate"}} {
		post(step.path, "/hosts", url.Values{"name": {"x"}, "fingerprint": {strings.Repeat("ab", 32)}})
		e := log.one(step.what, models.AuditEntry{Action: models.AuditHostChange, Actor: "admin", Host: "gone", Target: map[bool]string{true: "x"}[step.what == "rename"]},
			"no host by that id")
		if !strings.HasPrefix(e.Detail, step.what) {
			t.Errorf("%s: detail %q", step.what, e.Detail)
		}
	}

	// Retention, then the pages that only read.
	post("/audit/retention", "/audit", url.Values{"retention_days": {"0"}})
	log.one("refused retention", models.AuditEntry{Action: models.AuditRetention, Actor: "admin"}, "between 1 and 36500")
	post("/audit/retention", "/audit", url.Values{"retention_days": {"90"}})
	log.one("retention", models.AuditEntry{Action: models.AuditRetention, Actor: "admin"}, "ok")
	for _, p := range []string{"/", "/jails", "/jails/web", "/history", "/history/203.0.113.7", "/config", "/audit", "/audit.csv", "/blocklists", "/hosts"} {
		b.get(p)
	}
	log.none("reading pages")

	post("/logout", "/", nil)
	log.one("logout", models.AuditEntry{Action: models.AuditLogout, Actor: "admin"}, "ok")
	_ = sb
}

// TestAuditCannotBeAltered walks the route table: the only unsafe route
// under the audit log's paths is its retention setting, and the store
// offers no way to change an entry.
func TestAuditCannotBeAltered(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	var unsafe []string
	for _, r := range a.e.Routes() {
		if !strings.Contains(strings.ToLower(r.Path), "audit") {
			continue
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			unsafe = append(unsafe, r.Method+" "+r.Path)
		}
	}
	if want := []string{"POST /audit/retention"}; !slices.Equal(unsafe, want) {
		t.Fatalf("unsafe audit routes %v, want %v", unsafe, want)
	}
	var methods []string
	typ := reflect.TypeOf((*repo.AuditStore)(nil))
	for i := range typ.NumMethod() {
		methods = append(methods, typ.Method(i).Name)
	}
	if want := []string{"Count", "DeleteOlderThan", "Each", "List", "Record"}; !slices.Equal(methods, want) {
		t.Fatalf("AuditStore methods %v, want %v (appending, reading and retention only)", methods, want)
	}
	// Every other unsafe request to an audit path is refused.
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		for _, p := range []string{"/audit", "/audit.csv", "/audit/1", "/audit/retention"} {
			if m == http.MethodPost && p == "/audit/retention" {
				continue
			}
			form := url.Values{"_csrf": {b.csrfFrom("/audit")}}
			if rec := b.do(m, p, form, nil); rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusNotFound {
				t.Errorf("%s %s answered %d", m, p, rec.Code)
			}
		}
	}
}

// TestAuditPage shows the entries with filters, pages them for htmx,
// exports them safely as CSV and shows each account only its own.
func TestAuditPage(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	b.completeSetup()
	if doc := parse(t, b.get("/login")); doc.Find(`a[href="/audit"]`).Length() != 0 {
		t.Fatal("the audit log is linked before login")
	}
	assertRedirect(t, b.login(goodPassword), "/")
	ctx := context.Background()
	st := a.app.Audit
	// The setup's entry and its login are first;
	// then 60 bans by admin and one by an operator.
	for i := range 60 {
		if err := st.Record(ctx, models.AuditEntry{At: 1_800_000_000 + int64(i), Actor: "admin", Role: models.RoleAdmin, Action: models.AuditBan,
			Host: "local", Jail: "sshd", Target: "203.0.113." + strconv.Itoa(i), Result: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Record(ctx, models.AuditEntry{At: 1_800_000_100, Actor: "olga", UserID: 7, Role: models.RoleOperator, Action: models.AuditUnban,
		Host: "local", Jail: "sshd", Target: "=HYPERLINK(\"http://evil\")", Result: "@SUM(1)"}); err != nil {
		t.Fatal(err)
	}

	doc := parse(t, b.get("/audit"))
	if doc.Find(`nav a[href="/audit"]`).Length() != 1 {
		t.Fatal("no audit log in an admin's navigation")
	}
	if n := doc.Find("#audit-entries tbody tr").Length(); n != 50 {
		t.Fatalf("first page: %d rows", n)
	}
	if first := doc.Find("#audit-entries tbody tr").First(); first.AttrOr("data-action", "") != "unban" || !strings.Contains(first.Text(), "olga") {
		t.Fatalf("newest first: %q", first.Text())
	}
	next, _ := doc.Find(`[data-pager="next"]`).Attr("hx-get")
	rec := b.do("GET", next, nil, map[string]string{"HX-Request": "true"})
	frag := parse(t, rec)
	if frag.Find("html").Length() != 0 && frag.Find("nav.site-nav").Length() != 0 || frag.Find("#audit-entries tbody tr").Length() != 13 {
		t.Fatalf("page 2 fragment: %d rows; %.200s", frag.Find("#audit-entries tbody tr").Length(), rec.Body)
	}

	filters := map[string]int{
		"/audit?user=OLGA":                     1,
		"/audit?action=ban":                    60,
		"/audit?action=unknown":                63, // an unknown action is no filter
		"/audit?target=203.0.113.5":            1,
		"/audit?host=local":                    61,
		"/audit?from=2027-01-15&to=2027-01-15": 61, // 1_800_000_000 is 2027-01-15 in UTC
		"/audit?to=2026-01-01":                 0,
	}
	for q, want := range filters {
		doc := parse(t, b.get(q))
		rows := doc.Find("#audit-entries tbody tr:not(.empty-row)").Length()
		if want > 50 {
			want = 50
		}
		if rows != want {
			t.Errorf("%s: %d rows, want %d", q, rows, want)
		}
		if want == 0 && !strings.Contains(doc.Find("[data-testid=audit-empty]").Text(), "No entry matches") {
			t.Errorf("%s: empty state %q", q, doc.Find("[data-testid=audit-empty]").Text())
		}
	}

	rec = b.get("/audit.csv?user=olga")
	if ct := rec.Header().Get("Content-Type"); rec.Code != http.StatusOK || !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("csv: %d %s", rec.Code, ct)
	}
	rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv rows %v %v", rows, err)
	}
	if rows[1][1] != "olga" || rows[1][10] != `'=HYPERLINK("http://evil")` || rows[1][12] != "'@SUM(1)" {
		t.Fatalf("csv row not made safe: %q", rows[1])
	}

	// An operator sees only their own entries, whatever the query asks.
	req := httptest.NewRequest("GET", "/audit?user=admin", nil)
	req = req.WithContext(withIdentity(req.Context(), models.Identity{UserID: 7, Name: "olga", Role: models.RoleOperator}))
	c := a.e.NewContext(req, httptest.NewRecorder())
	f, form, _, all := a.s.auditQuery(c)
	if all || form.User != "" || f.UserID != 7 || f.Actor != "" {
		t.Fatalf("operator's filter %+v (form %+v, all %v)", f, form, all)
	}
	entries, _, err := st.List(ctx, f, models.Page{Number: 1, Size: 100})
	if err != nil || len(entries) != 1 || entries[0].Actor != "olga" {
		t.Fatalf("operator sees %+v, %v", entries, err)
	}

}

// TestAuditActionOnEveryHost: a ban and an unban on every host are one
// entry each that names every host asked and the ones that failed.
func TestAuditActionOnEveryHost(t *testing.T) {
	f := fleetApp(t, []string{"web2"}, true)
	log := &auditLog{t: t, a: f.app}
	log.setupAndLogin()
	b := f.b
	b.postForm("/jails/ban", "/jails", url.Values{"target": {"192.0.2.60"}, "jail": {"sshd"}, "where": {"all"}})
	e := log.one("ban on every host", models.AuditEntry{Action: models.AuditBan, Actor: "admin", Host: "local,web2,gone", Jail: "sshd", Target: "192.0.2.60"},
		"gone: did not answer")
	if strings.Contains(e.Result, "local:") || strings.Contains(e.Result, "web2:") {
		t.Errorf("hosts that banned are named as failed: %q", e.Result)
	}
	b.postForm("/jails/unban", "/jails", url.Values{"target": {"192.0.2.60"}, "where": {"all"}})
	log.one("unban on every host", models.AuditEntry{Action: models.AuditUnban, Actor: "admin", Host: "local,web2,gone", Target: "192.0.2.60"}, "gone:")
	b.postForm("/jails/ban", "/jails", url.Values{"target": {"nope"}, "jail": {"sshd"}, "where": {"all"}})
	log.one("refused ban on every host", models.AuditEntry{Action: models.AuditBan, Actor: "admin", Host: "local,web2,gone", Jail: "sshd", Target: "nope"}, "")
	// The host filter finds an action on several hosts under each of them.
	doc := parse(t, b.get("/audit?host=web2"))
	if n := doc.Find("#audit-entries tbody tr[data-action]").Length(); n != 3 {
		t.Fatalf("entries on web2: %d, want 3", n)
	}
}

// auditFreeRoutes are the unsafe routes that change nothing, or record
// themselves only once they did (setup), so that they write no entry
// here. Every other unsafe route must write one.
var auditFreeRoutes = map[string]bool{
	"POST /setup":                    true, // done already: refused, nothing changes
	"POST /setup/probe":              true, // asks a socket, changes nothing
	"POST /login":                    true, // the login's own entries are the accounts' concern
	"POST /hosts/probe":              true, // reaches an agent, changes nothing
	"POST /config/regex":             true, // the regex tester
	"POST /bulk/confirm":             true, // asks before a bulk action; /bulk/run writes its entry
	"POST /bulk/export":              true, // a CSV download of the selection, like GET /history.csv
	"POST /logout":                   true, // posted last, below
	"POST /account/sessions/end":     true, // no such session: nothing ends (TestAccountPageSessions ends one)
	"POST /account/sessions/end-all": true, // ends this session too, like logout
	// Second factors: starting sets up an unconfirmed secret, no factor
	// yet; confirm and disable without a right code are refused (with a
	// redirect back to the form); the TOTP tests check their entries.
	"POST /account/totp/start":   true,
	"POST /account/totp/confirm": true,
	"POST /account/totp/disable": true,
	"POST /login/second-factor":  true, // no waiting login: back to the login page
	// Passkey ceremonies: a begin stores a challenge, nothing else; a
	// finish without an authenticator's answer is refused. The passkey
	// tests check the entries of added passkeys and failed logins.
	"POST /account/passkeys/begin":             true,
	"POST /account/passkeys/finish":            true,
	"POST /login/passkey/begin":                true,
	"POST /login/passkey/finish":               true,
	"POST /login/second-factor/passkey/begin":  true,
	"POST /login/second-factor/passkey/finish": true,
	"POST /login/second-factor/totp/start":     true,
	"POST /login/second-factor/totp/confirm":   true,
	"POST /config/server/restart":              true, // slow; TestAuditEachActionOnce's neighbours cover reload
}

// TestAuditEveryUnsafeRouteWritesOneEntry walks the route table: every
// POST route, sent an empty form, writes one entry unless it refused the
// request (4xx), and none writes two, so a route added later without its
// audit call fails here.
func TestAuditEveryUnsafeRouteWritesOneEntry(t *testing.T) {
	a, b, _ := configApp(t)
	log := &auditLog{t: t, a: a}
	log.setupAndLogin()
	if rec := b.postForm("/blocklists/sources", "/blocklists", url.Values{"name": {"Walk"}, "url": {"http://127.0.0.1:9/x"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("add a source: %d", rec.Code)
	}
	srcs, err := a.s.blocklists.Sources(context.Background())
	if err != nil || len(srcs) != 1 {
		t.Fatal(srcs, err)
	}
	log.seen = log.all()[0].ID
	source := strconv.FormatInt(srcs[0].ID, 10)
	param := func(route, seg string) string {
		switch {
		case seg == ":action":
			return "idle"
		case seg == ":name" && strings.HasPrefix(route, "/config/filters"):
			return "sshd"
		case seg == ":name" && strings.HasPrefix(route, "/config/actions"):
			return "iptables"
		case seg == ":name" && strings.HasSuffix(route, "activate"):
			return "web-off"
		case seg == ":name":
			return "web"
		case seg == ":id" && strings.HasPrefix(route, "/blocklists"):
			return source
		case seg == ":id" && strings.HasPrefix(route, "/hosts"):
			return "gone"
		}
		return "1"
	}
	var routes []string
	for _, r := range a.e.Routes() {
		// The API takes tokens, not this browser's cookie: its tests check its entries.
		if r.Method == http.MethodPost && !auditFreeRoutes[r.Method+" "+r.Path] && !strings.HasPrefix(r.Path, "/__e2e") &&
			!strings.HasPrefix(r.Path, "/api/") {
			routes = append(routes, r.Path)
		}
	}
	// Deleting the source goes last of its routes.
	slices.SortFunc(routes, func(x, y string) int {
		return strings.Compare(strings.Replace(x, "/delete", "/~delete", 1), strings.Replace(y, "/delete", "/~delete", 1))
	})
	if len(routes) < 30 {
		t.Fatalf("only %d unsafe routes found: %v", len(routes), routes)
	}
	for _, route := range routes {
		path := route
		for _, seg := range strings.Split(route, "/") {
			if strings.HasPrefix(seg, ":") {
				path = strings.Replace(path, seg, param(route, seg), 1)
			}
		}
		rec := b.postForm(path, "/", nil)
		if loc := rec.Header().Get("Location"); strings.HasPrefix(loc, "/login") {
			t.Fatalf("POST %s ended the session (to %s): list it in auditFreeRoutes and check it on its own", path, loc)
		}
		fresh := 0
		for _, e := range log.all() {
			if e.ID > log.seen {
				fresh++
				log.seen = max(log.seen, e.ID)
				if e.Actor != "admin" || e.Result == "" {
					t.Errorf("POST %s: entry %+v", path, e)
				}
			}
		}
		// A refusal (4xx) changed nothing and may write nothing; anything
		// else must write one entry, and nothing writes two.
		if fresh > 1 || fresh == 0 && rec.Code < 400 {
			t.Errorf("POST %s (%d): %d audit entries, want 1", path, rec.Code, fresh)
		}
	}
	t.Logf("%d unsafe routes walked", len(routes))
}
