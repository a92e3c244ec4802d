package handlers

import (
	"net"
	"strconv"
	"time"

	"context"
	"github.com/PuerkitoBio/goquery"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"bangui/models"
	"bangui/repo"
	"bangui/services/setup"
)

// TestPagesShowOnlyAllowedForms: on every page a role may read (against a
// real fail2ban, with a ban to show), each form and htmx post targets a
// route the role may use; a viewer sees no ban, unban or ignore form, an
// operator does.
func TestPagesShowOnlyAllowedForms(t *testing.T) {
	a, admin, sb := loggedInWithFail2ban(t)
	if _, err := sb.Client().Call(context.Background(), "set", "sshd", "banip", "203.0.113.7"); err != nil {
		t.Fatal(err)
	}
	a.s.status.Refresh(context.Background())
	pages := []string{"/", "/jails", "/jails/sshd", "/history", "/history/203.0.113.7", "/map", "/blocklists", "/account", "/users", "/config", "/hosts"}
	browsers := map[models.Role]*browser{
		models.RoleViewer:   a.browserAs("v", models.RoleViewer),
		models.RoleOperator: a.browserAs("o", models.RoleOperator),
		models.RoleAdmin:    admin,
	}
	for role, b := range browsers {
		var posts []string
		for _, page := range pages {
			rec := b.get(page)
			if rec.Code == http.StatusForbidden {
				continue
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("%s as %s: %d", page, role, rec.Code)
			}
			doc := parse(t, rec)
			doc.Find(`form[method="post"]`).Each(func(_ int, f *goquery.Selection) {
				posts = append(posts, f.AttrOr("action", ""))
			})
			doc.Find(`[hx-post]`).Each(func(_ int, f *goquery.Selection) {
				posts = append(posts, f.AttrOr("hx-post", ""))
			})
		}
		banForms := 0
		for _, target := range posts {
			u, _ := url.Parse(target)
			need, ok := a.routeRoleOf(http.MethodPost, u.Path)
			if !ok {
				t.Errorf("as %s: a form posts to %s, which is no route", role, target)
				continue
			}
			if !role.Allows(need) {
				t.Errorf("as %s: a form posts to %s, which needs %s", role, target, need)
			}
			if strings.HasSuffix(u.Path, "/jails/ban") || strings.HasSuffix(u.Path, "/jails/unban") {
				banForms++
			}
		}
		if (banForms > 0) != role.Allows(models.RoleOperator) {
			t.Errorf("as %s: %d ban or unban forms", role, banForms)
		}
	}
	// Nav: configuration and hosts only for admins; users in the user menu.
	doc := parse(t, browsers[models.RoleViewer].get("/"))
	if doc.Find(`#site-nav a[href="/config"]`).Length() != 0 || doc.Find(`#site-nav a[href="/hosts"]`).Length() != 0 ||
		doc.Find(`[data-testid=user-menu] a[href="/users"]`).Length() != 0 {
		t.Error("a viewer's navigation links to configuration, hosts or users")
	}
	if !strings.Contains(doc.Find("[data-testid=user-menu]").Text(), "v") {
		t.Error("the user menu does not name the user")
	}
	if parse(t, admin.get("/")).Find(`[data-testid=user-menu] a[href="/users"]`).Length() != 1 {
		t.Error("an admin has no link to the users page")
	}
}

// routeRoleOf returns the declared role of the route that serves method
// and path.
func (a *testApp) routeRoleOf(method, path string) (models.Role, bool) {
	c := a.e.NewContext(httptest.NewRequest(method, path, nil), httptest.NewRecorder())
	a.e.Router().Find(method, path, c)
	need, ok := a.s.routeRoles[method+" "+c.Path()]
	return need, ok
}

// TestUpgradeKeepsTheMasterPassword: a database from before accounts (setup
// done, the master password hash in settings, no users) keeps working: the
// password logs in as admin, the login page says so until then, and a
// session of the master password stays logged in as admin.
func TestUpgradeKeepsTheMasterPassword(t *testing.T) {
	dir := t.TempDir()
	old := newTestApp(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte(goodPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// What setup stored before accounts.
	if err := repo.NewSettingsStore(old.db).SetMany(ctx, map[string]string{
		models.SettingPasswordHash: string(hash), models.SettingFail2banSocket: old.cfg.Socket,
		models.SettingFail2banConfDir: old.cfg.ConfigDir, models.SettingTimezone: "UTC",
		models.SettingSessionMinutes: "60", models.SettingSetupCompleted: "1",
	}); err != nil {
		t.Fatal(err)
	}
	// A session logged in with the master password, as the old panel stored it.
	legacy := old.browser()
	legacy.get("/login")
	old.app.Close()

	a := newTestApp(t, dir) // the new release starts on it
	if n, _ := a.app.Users.Count(ctx); n != 1 {
		t.Fatalf("%d accounts after the upgrade, want 1", n)
	}
	b := a.browser()
	doc := parse(t, b.get("/login"))
	if msg := doc.Find("[data-testid=admin-notice]").Text(); !strings.Contains(msg, "your master password is now the password of the account admin") {
		t.Fatalf("login page notice = %q", msg)
	}
	if v, _ := doc.Find("#username").Attr("value"); v != "admin" {
		t.Errorf("user name field = %q, want admin", v)
	}
	assertRedirect(t, b.loginAs("admin", goodPassword), "/")
	rec := b.get("/users")
	if rec.Code != http.StatusOK || parse(t, rec).Find(`tr[data-user="admin"]`).Length() != 1 {
		t.Fatalf("the admin's users page: %d", rec.Code)
	}
	// Said once: gone after the admin logged in.
	if parse(t, a.browser().get("/login")).Find("[data-testid=admin-notice]").Length() != 0 {
		t.Error("the notice is still shown after the admin logged in")
	}
	// A third start changes nothing.
	if created, err := a.app.Accounts.AdoptMasterPassword(ctx); created || err != nil {
		t.Fatalf("adopt again: %v %v", created, err)
	}
}

// TestLegacySessionBecomesAdmins: a session stored before accounts (role
// "admin" as the int 1, no user id) is the account admin's after the
// upgrade, and is filed under it.
func TestLegacySessionBecomesAdmins(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	a.browser().completeSetup()
	ctx := context.Background()
	values := map[string]any{sessOldAdminRole: 1, sessCSRF: "tok"}
	data, err := a.s.sm.Codec.Encode(a.s.now().Add(time.Hour), values)
	if err != nil {
		t.Fatal(err)
	}
	const token = "legacy-session-token-0123456789abcdefghijkl"
	if err := a.app.Sessions.CommitCtx(ctx, token, data, a.s.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	b := a.browser()
	b.cookies[cookieName] = &http.Cookie{Name: cookieName, Value: token}
	rec := b.get("/users")
	if rec.Code != http.StatusOK {
		t.Fatalf("legacy session on /users: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	admin, _ := a.app.Users.ByName(ctx, testAdmin)
	if list, _ := a.app.Sessions.ListByUser(ctx, admin.ID); len(list) != 1 {
		t.Fatalf("the legacy session is not filed under admin: %d sessions", len(list))
	}
}

// TestDisabledUserStopsAtOnce: disabling, deleting or demoting an account
// takes effect on its open session with the next request.
func TestDisabledUserStopsAtOnce(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	admin := a.browser()
	admin.completeSetup()
	assertRedirect(t, admin.login(goodPassword), "/")
	op := a.browserAs("olga", models.RoleOperator)
	u, _ := a.app.Users.ByName(context.Background(), "olga")
	id := strconv.FormatInt(u.ID, 10)

	// A role change: at once, with a new session token.
	before := op.cookies[cookieName].Value
	assertRedirect(t, admin.postForm("/users/"+id+"/role", "/users", url.Values{"role": {"viewer"}}), "/users")
	if rec := op.postForm("/jails/ban", "/account", url.Values{"target": {"192.0.2.1"}, "jail": {"sshd"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("a demoted operator banned: %d", rec.Code)
	}
	if op.cookies[cookieName].Value == before {
		t.Error("the session token was not renewed at the role change")
	}
	if rec := op.get("/account"); rec.Code != http.StatusOK || parse(t, rec).Find("[data-testid=account-role]").Text() != "viewer" {
		t.Fatalf("account page after the demotion: %d", rec.Code)
	}

	// Disabled: the next request is anonymous.
	assertRedirect(t, admin.postForm("/users/"+id+"/enabled", "/users", url.Values{"enabled": {"off"}}), "/users")
	assertRedirect(t, op.get("/"), "/login?next=%2F")
	if rec := op.loginAs("olga", goodPassword); rec.Code != http.StatusUnauthorized {
		t.Fatalf("a disabled account logged in: %d", rec.Code)
	}
	// Enabled again, logged in, then deleted.
	assertRedirect(t, admin.postForm("/users/"+id+"/enabled", "/users", url.Values{"enabled": {"on"}}), "/users")
	a.s.accountThrottle.Reset("olga")
	a.s.throttle.Reset(throttleKey("192.0.2.10"))
	assertRedirect(t, op.loginAs("olga", goodPassword), "/")
	assertRedirect(t, admin.postForm("/users/"+id+"/delete", "/users", nil), "/users")
	assertRedirect(t, op.get("/jails"), "/login?next=%2Fjails")
}

// TestLastAdminIsKept: the last enabled admin cannot be demoted, disabled
// or deleted through the users page, even by itself.
func TestLastAdminIsKept(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	admin := a.browser()
	admin.completeSetup()
	assertRedirect(t, admin.login(goodPassword), "/")
	u, _ := a.app.Users.ByName(context.Background(), testAdmin)
	id := strconv.FormatInt(u.ID, 10)
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/users/" + id + "/role", url.Values{"role": {"operator"}}},
		{"/users/" + id + "/enabled", url.Values{"enabled": {"off"}}},
		{"/users/" + id + "/delete", nil},
	} {
		rec := admin.postForm(c.path, "/users", c.form)
		if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "last enabled admin") {
			t.Fatalf("%s: %d, want 409 with the reason", c.path, rec.Code)
		}
	}
	if rec := admin.get("/users"); rec.Code != http.StatusOK {
		t.Fatalf("the admin lost the users page: %d", rec.Code)
	}
	// With a second admin, the first may step down.
	a.addUser("second", models.RoleAdmin)
	assertRedirect(t, admin.postForm("/users/"+id+"/role", "/users", url.Values{"role": {"operator"}}), "/users")
	if rec := admin.get("/users"); rec.Code != http.StatusForbidden {
		t.Fatalf("a former admin on /users: %d, want 403", rec.Code)
	}
}

// TestUsersPageAddsAccounts: an admin adds an account (bad input is
// explained), which then logs in with its role; a name is taken ignoring
// case.
func TestUsersPageAddsAccounts(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	admin := a.browser()
	admin.completeSetup()
	assertRedirect(t, admin.login(goodPassword), "/")
	rec := admin.postForm("/users", "/users", url.Values{"username": {"has space"}, "role": {"boss"}, "password": {"short"}, "password_confirm": {"x"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad user: %d", rec.Code)
	}
	doc := parse(t, rec)
	for _, f := range []string{"new-username", "new-role", "new-password", "new-confirm"} {
		if doc.Find("#"+f+"-error").Length() == 0 {
			t.Errorf("no message for %s", f)
		}
	}
	form := url.Values{"username": {"Vera"}, "role": {"viewer"}, "password": {goodPassword}, "password_confirm": {goodPassword}}
	assertRedirect(t, admin.postForm("/users", "/users", form), "/users")
	form.Set("username", "VERA")
	if rec := admin.postForm("/users", "/users", form); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "taken") {
		t.Fatalf("a taken name: %d", rec.Code)
	}
	vera := a.browser()
	assertRedirect(t, vera.loginAs("vera", goodPassword), "/")
	if rec := vera.get("/users"); rec.Code != http.StatusForbidden {
		t.Fatalf("a viewer on /users: %d", rec.Code)
	}
}

// TestAccountPageSessions: a user sees their sessions, ends another one,
// changes the password (other sessions end) and signs out everywhere.
func TestAccountPageSessions(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	a.browser().completeSetup()
	a.addUser("sam", models.RoleViewer)
	phone, laptop, desk := a.browser(), a.browser(), a.browser()
	phone.headers["User-Agent"] = "Phone browser"
	for _, b := range []*browser{phone, laptop, desk} {
		assertRedirect(t, b.loginAs("sam", goodPassword), "/")
	}
	doc := parse(t, laptop.get("/account"))
	rows := doc.Find("[data-testid=sessions-table] tbody tr")
	if rows.Length() != 3 || !strings.Contains(rows.Text(), "Phone browser") || !strings.Contains(rows.Text(), "this browser") {
		t.Fatalf("sessions table: %d rows: %s", rows.Length(), rows.Text())
	}
	phoneID := repo.SessionID(phone.cookies[cookieName].Value)
	assertRedirect(t, laptop.postForm("/account/sessions/end", "/account", url.Values{"session": {phoneID}}), "/account")
	assertRedirect(t, phone.get("/"), "/login?next=%2F")
	// Another user cannot end sam's sessions.
	other := a.browserAs("eve", models.RoleAdmin)
	other.postForm("/account/sessions/end", "/account", url.Values{"session": {repo.SessionID(desk.cookies[cookieName].Value)}})
	if rec := desk.get("/"); rec.Code != http.StatusOK {
		t.Fatalf("another user ended sam's session: %d", rec.Code)
	}

	// A wrong current password is explained; a right one ends the other sessions.
	rec := laptop.postForm("/account/password", "/account", url.Values{"current_password": {"nope"}, "password": {"New-Passw0rd"}, "password_confirm": {"New-Passw0rd"}})
	if rec.Code != http.StatusUnprocessableEntity || parse(t, rec).Find("#current_password-error").Length() != 1 {
		t.Fatalf("wrong current password: %d", rec.Code)
	}
	assertRedirect(t, laptop.postForm("/account/password", "/account", url.Values{"current_password": {goodPassword}, "password": {"New-Passw0rd"}, "password_confirm": {"New-Passw0rd"}}), "/account")
	assertRedirect(t, desk.get("/"), "/login?next=%2F")
	if rec := laptop.get("/account"); rec.Code != http.StatusOK {
		t.Fatalf("the session that changed the password was ended: %d", rec.Code)
	}
	assertRedirect(t, desk.loginAs("sam", "New-Passw0rd"), "/")

	// Sign out everywhere, this browser included.
	assertRedirect(t, laptop.postForm("/account/sessions/end-all", "/account", nil), "/login")
	assertRedirect(t, laptop.get("/"), "/login?next=%2F")
	assertRedirect(t, desk.get("/"), "/login?next=%2F")
}

// TestSetupProbeNeedsTheCode: before setup, the socket test answers only
// with the setup code: without it the panel connects to no socket.
func TestSetupProbeNeedsTheCode(t *testing.T) {
	dir := t.TempDir()
	a := newTestApp(t, dir)
	b := a.browser()
	sock := filepath.Join(t.TempDir(), "trap.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			c.Close()
		}
	}()
	for _, hx := range []bool{false, true} {
		tok := b.csrfFrom("/setup")
		hdr := map[string]string{}
		if hx {
			hdr["HX-Request"] = "true"
		}
		rec := b.do("POST", "/setup/probe", url.Values{"_csrf": {tok}, "socket": {sock}, "setup_code": {"WRONGCODE1"}}, hdr)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "setup code") {
			t.Fatalf("probe without the code (htmx %v): %d", hx, rec.Code)
		}
	}
	select {
	case <-accepted:
		t.Fatal("the panel connected to the socket without the setup code")
	default:
	}
	code, err := setup.LoadCode(dir)
	if err != nil {
		t.Fatal(err)
	}
	rec := b.do("POST", "/setup/probe", url.Values{"_csrf": {b.csrfFrom("/setup")}, "socket": {sock}, "setup_code": {code.String()}}, map[string]string{"HX-Request": "true"})
	if rec.Code != http.StatusOK {
		t.Fatalf("probe with the code: %d", rec.Code)
	}
	<-accepted // with the code, the test does connect
	_ = os.Remove(sock)
}

// TestDisabledUsersStreamEnds: an open event stream of an account that is
// disabled ends at its next heartbeat.
func TestDisabledUsersStreamEnds(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	a.browser().completeSetup()
	v := a.browserAs("vic", models.RoleViewer)
	l := liveFrom(t, a, v)
	l.s.live.heartbeat = 20 * time.Millisecond
	c := l.open(l.cookie, "")
	if ev, ok := <-c.ch; !ok || ev.name != sseLive {
		t.Fatalf("the stream did not start: %+v %v", ev, ok)
	}
	u, _ := a.app.Users.ByName(context.Background(), "vic")
	if _, err := a.app.Accounts.SetDisabled(context.Background(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-c.ch:
			if !ok {
				return // ended
			}
		case <-deadline:
			t.Fatal("the disabled account's stream still runs after 5 s")
		}
	}
}
