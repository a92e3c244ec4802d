package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/setup"
)

// The tests in this file guard the security controls listed in SECURITY.md.
// The route walks read e.Routes(), so a route added later is covered without
// editing them: it is either protected or must be named in publicRoutes.

// publicRoutes are the only routes a browser without a login may reach (paths
// below the base path). Everything else must send it to the login page.
var publicRoutes = map[string]bool{
	"GET /assets/*":     true, // static files
	"GET /healthz":      true, // health checks for monitors and proxies
	"GET /readyz":       true,
	"GET /setup":        true, // first run only; closed by the setup guard afterwards
	"POST /setup":       true,
	"POST /setup/probe": true,
	"GET /login":        true,
	"POST /login":       true,
	// The second step of a login: each answers only a session whose
	// password was right a moment ago, else sends it to the login page
	// (TestSecondFactorRoutesNeedAWaitingLogin).
	"GET /login/second-factor":               true,
	"POST /login/second-factor":              true,
	"POST /login/second-factor/totp/start":   true,
	"GET /login/second-factor/totp/qr.png":   true,
	"POST /login/second-factor/totp/confirm": true,
	// Passkey login: alone, or as the second factor after the password.
	"POST /login/passkey/begin":                true,
	"POST /login/passkey/finish":               true,
	"POST /login/second-factor/passkey/begin":  true,
	"POST /login/second-factor/passkey/finish": true,
}

// securityHeaderWant are the headers every response carries.
var securityHeaderWant = map[string]string{
	"Content-Security-Policy":    ContentSecurityPolicy,
	"X-Content-Type-Options":     "nosniff",
	"X-Frame-Options":            "DENY",
	"Referrer-Policy":            "same-origin",
	"Cross-Origin-Opener-Policy": "same-origin",
	"Permissions-Policy":         "camera=(), microphone=(), geolocation=()",
}

const csrfRefusal = "The form has expired or did not come from this panel"

// appRoute is one registered route, with its path below the base path and a
// concrete URL to request.
type appRoute struct {
	method, path, key, target string
}

// appRoutes lists the app's routes: every method and path registered on
// Echo, except the router's catch-all 404 and the redirect from the bare base
// path to base+"/".
func appRoutes(t *testing.T, a *testApp) []appRoute {
	t.Helper()
	base := a.cfg.BasePath
	var out []appRoute
	seen := map[string]bool{}
	for _, r := range a.e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		if base != "" && r.Path == base {
			continue // 301 to base+"/", no handler behind it
		}
		if !strings.HasPrefix(r.Path, base+"/") {
			t.Fatalf("route %s %s is outside the base path %q", r.Method, r.Path, base)
		}
		p := a.s.stripBase(r.Path)
		if strings.HasPrefix(p, apiPrefix+"/") {
			continue // token routes, never a session's: TestAPIRequiresToken walks them
		}
		key := r.Method + " " + p
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, appRoute{method: r.Method, path: p, key: key, target: base + fillParams(p)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	if len(out) < 40 {
		t.Fatalf("only %d routes registered; the walk is not seeing the app", len(out))
	}
	for k := range publicRoutes {
		if !seen[k] {
			t.Errorf("publicRoutes names %q, which is not registered; remove it", k)
		}
	}
	return out
}

// fillParams puts plausible values into :params and wildcards.
func fillParams(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		switch {
		case s == "*":
			parts[i] = "x"
		case s == ":ip":
			parts[i] = "192.0.2.77"
		case s == ":id":
			parts[i] = "1"
		case s == ":action":
			parts[i] = "stop"
		case strings.HasPrefix(s, ":"):
			parts[i] = "sshd"
		}
	}
	return strings.Join(parts, "/")
}

func isUnsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// plausibleForm is what an attacker would post: valid-looking values for
// the fields the panel's forms use.
func plausibleForm() url.Values {
	return url.Values{
		"target": {"192.0.2.77"}, "ip": {"192.0.2.77"}, "jail": {"sshd"}, "name": {"sshd"},
		"password": {goodPassword}, "url": {"https://example.com/list.txt"}, "enabled": {"true"},
		"file": {"jail.d/x.local"}, "content": {"[x]\na = 1\n"},
	}
}

// request sends one request as b would, optionally as htmx, with form as body.
func (b *browser) request(r appRoute, form url.Values, hdr map[string]string) *httptest.ResponseRecorder {
	b.app.t.Helper()
	if !isUnsafe(r.method) {
		form = nil
	}
	return b.do(r.method, r.target, form, hdr)
}

// dbSnapshot counts the rows of every table of the app's database except
// sessions, which anonymous visits legitimately create.
func dbSnapshot(t *testing.T, a *testApp) string {
	t.Helper()
	ctx := context.Background()
	var tables []string
	if err := a.db.NewRaw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'sessions' ORDER BY name").Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, tb := range tables {
		var n int
		if err := a.db.NewRaw("SELECT count(*) FROM "+tb).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s=%d ", tb, n)
	}
	var settings []string
	if err := a.db.NewRaw("SELECT key || '=' || value FROM settings ORDER BY key").Scan(ctx, &settings); err != nil {
		t.Fatal(err)
	}
	sb.WriteString(strings.Join(settings, ";"))
	return sb.String()
}

func assertSecurityHeaders(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	for k, want := range securityHeaderWant {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s: header %s = %q, want %q", what, k, got, want)
		}
	}
}

// TestEveryRouteRequiresLogin walks every registered route. Before setup each
// one outside publicRoutes leads to the setup page; after setup, without a
// logged-in session (no cookie, an unknown cookie, or an anonymous session
// with a valid CSRF token), each one leads to the login page — a 303 for
// browsers, HX-Redirect for htmx — with an empty body, and nothing in the
// database or the config directory changes. Every answer carries the
// security headers.
func TestEveryRouteRequiresLogin(t *testing.T) {
	a := newTestApp(t, t.TempDir(), withBasePath("/bangui/"))
	routes := appRoutes(t, a)
	base := a.cfg.BasePath

	// Before setup: every private route sends the browser to setup.
	pre := a.browser()
	for _, r := range routes {
		if publicRoutes[r.key] {
			continue
		}
		rec := pre.request(r, plausibleForm(), nil)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != base+"/setup" {
			t.Errorf("before setup, %s: status %d location %q, want 303 to the setup page", r.key, rec.Code, rec.Header().Get("Location"))
		}
		assertSecurityHeaders(t, "before setup, "+r.key, rec)
	}

	setup := a.browser()
	setup.completeSetup()
	before := dbSnapshot(t, a)
	confBefore := dirHash(t, a.cfg.ConfigDir)

	noCookie := a.browser()
	forged := a.browser()
	forged.cookies[cookieName] = &http.Cookie{Name: cookieName, Value: "forged-token-that-was-never-issued"}
	anon := a.browser() // a real session that never logged in, with its CSRF token
	anonToken := anon.csrfFrom(base + "/login")
	visitors := map[string]*browser{"no cookie": noCookie, "unknown cookie": forged, "anonymous session": anon}

	for _, r := range routes {
		if publicRoutes[r.key] {
			continue
		}
		wantLogin := base + "/login?next=" + url.QueryEscape(r.target)
		for name, b := range visitors {
			form := plausibleForm()
			form.Set("_csrf", anonToken)
			hdr := map[string]string{"X-CSRF-Token": anonToken}
			rec := b.request(r, form, hdr)
			what := fmt.Sprintf("%s with %s", r.key, name)
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != wantLogin {
				t.Errorf("%s: status %d location %q, want 303 to %s", what, rec.Code, rec.Header().Get("Location"), wantLogin)
			}
			if rec.Body.Len() != 0 {
				t.Errorf("%s: the refusal has a body (%.120q): did the handler run?", what, rec.Body.String())
			}
			assertSecurityHeaders(t, what, rec)

			hdr["HX-Request"] = "true"
			rec = b.request(r, form, hdr)
			if rec.Code != http.StatusOK || rec.Header().Get("HX-Redirect") != wantLogin || rec.Body.Len() != 0 {
				t.Errorf("%s (htmx): status %d HX-Redirect %q body %.120q, want 200, HX-Redirect to %s and no body",
					what, rec.Code, rec.Header().Get("HX-Redirect"), rec.Body.String(), wantLogin)
			}
		}
	}
	if after := dbSnapshot(t, a); after != before {
		t.Errorf("requests without a login changed the database:\nbefore %s\nafter  %s", before, after)
	}
	if after := dirHash(t, a.cfg.ConfigDir); after != confBefore {
		t.Error("requests without a login changed the fail2ban config directory")
	}
	// The public routes stay reachable without a login (the walk above is
	// not vacuous: the same visitor gets through where it may).
	if rec := noCookie.get(base + "/healthz"); rec.Code != http.StatusOK {
		t.Errorf("healthz without a login: %d", rec.Code)
	}
	if rec := noCookie.get(base + "/login"); rec.Code != http.StatusOK {
		t.Errorf("login page without a login: %d", rec.Code)
	}
}

// TestEveryUnsafeRouteRequiresCSRFToken walks every POST/PUT/PATCH/DELETE
// route with a logged-in session and refuses (403, with the CSRF message) a
// request without a token, with a wrong token, with the token of another
// logged-in session, and with the right token sent cross-site. The session
// is still logged in afterwards (logout never ran) and nothing changed.
func TestEveryUnsafeRouteRequiresCSRFToken(t *testing.T) {
	a := newTestApp(t, t.TempDir(), withBasePath("/bangui/"))
	routes := appRoutes(t, a)
	base := a.cfg.BasePath

	// Before setup the setup forms need the token too.
	pre := a.browser()
	for _, p := range []string{"/setup", "/setup/probe"} {
		rec := pre.do("POST", base+p, validSetupForm(a), nil)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), csrfRefusal) {
			t.Errorf("POST %s before setup without a token: status %d, want 403 with the CSRF message", p, rec.Code)
		}
	}
	if rec := pre.get(base + "/login"); rec.Code != http.StatusSeeOther {
		t.Fatalf("setup was completed by a POST without a token (login page answers %d)", rec.Code)
	}

	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), base+"/")
	other := a.browser()
	assertRedirect(t, other.login(goodPassword), base+"/")
	otherToken := other.csrfFrom(base + "/")
	goodToken := b.csrfFrom(base + "/")
	if otherToken == goodToken {
		t.Fatal("two sessions share a CSRF token")
	}
	before := dbSnapshot(t, a)
	confBefore := dirHash(t, a.cfg.ConfigDir)

	n := 0
	for _, r := range routes {
		if !isUnsafe(r.method) || r.path == "/setup" || r.path == "/setup/probe" {
			continue // after setup the setup forms answer 409 whatever the token
		}
		n++
		cases := []struct {
			name  string
			token string
			hdr   map[string]string
		}{
			{"no token", "", nil},
			{"wrong token", "forged", nil},
			{"wrong token in the htmx header", "", map[string]string{"X-CSRF-Token": "forged", "HX-Request": "true"}},
			{"another session's token", otherToken, nil},
			{"the right token sent cross-site", goodToken, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		}
		for _, tc := range cases {
			form := plausibleForm()
			if tc.token != "" {
				form.Set("_csrf", tc.token)
			}
			rec := b.request(r, form, tc.hdr)
			if rec.Code != http.StatusForbidden {
				t.Errorf("%s with %s: status %d, want 403", r.key, tc.name, rec.Code)
				continue
			}
			if !strings.Contains(rec.Body.String(), csrfRefusal) && !strings.Contains(rec.Body.String(), "Cross-site request refused") {
				t.Errorf("%s with %s: 403 without the CSRF message: %.200s", r.key, tc.name, rec.Body)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d unsafe routes walked", n)
	}
	if rec := b.get(base + "/"); rec.Code != http.StatusOK {
		t.Fatalf("after the refused requests the session is no longer logged in (%d): a handler ran", rec.Code)
	}
	if after := dbSnapshot(t, a); after != before {
		t.Errorf("refused requests changed the database:\nbefore %s\nafter  %s", before, after)
	}
	if after := dirHash(t, a.cfg.ConfigDir); after != confBefore {
		t.Error("refused requests changed the fail2ban config directory")
	}
	// The right token does get through (so the refusals above are about the token).
	rec := b.do("POST", base+"/logout", url.Values{"_csrf": {goodToken}}, nil)
	assertRedirect(t, rec, base+"/login")
}

// dataDirBytes returns the concatenated bytes of every file in dir: the
// database, its -wal and -shm files and anything else written there.
func dataDirBytes(t *testing.T, dir string) ([]byte, []string) {
	t.Helper()
	var all []byte
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		names = append(names, filepath.Base(p))
		all = append(all, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all, names
}

// TestSecretsAtRest: after setup, a failed and a good login and a few pages,
// no file in the data dir (database, -wal, -shm) holds the master password
// or any session cookie value the panel issued, in the clear or hex-encoded;
// the password is stored as a bcrypt hash of the configured cost; and a
// stolen session row cannot be used as a cookie.
func TestSecretsAtRest(t *testing.T) {
	dir := t.TempDir()
	a := newTestApp(t, dir)
	b := a.browser()
	var issued []string
	remember := func() {
		if c := b.cookies[cookieName]; c != nil {
			issued = append(issued, c.Value)
		}
	}
	b.get("/setup")
	remember()
	b.completeSetup()
	remember()
	a.s.now = func() time.Time { return time.Now().Add(-time.Hour) } // no throttle wait for the good login below
	b.login("Wrong-Passw0rd")
	remember()
	a.s.now = time.Now
	assertRedirect(t, b.login(goodPassword), "/")
	remember()
	b.get("/jails")
	b.get("/history")
	remember()

	all, names := dataDirBytes(t, dir)
	hasWAL := false
	for _, n := range names {
		hasWAL = hasWAL || strings.HasSuffix(n, "-wal")
	}
	if !hasWAL {
		t.Fatalf("no -wal file among %v: the test would not look where recent writes are", names)
	}
	for _, secret := range []string{goodPassword, "Wrong-Passw0rd"} {
		if bytes.Contains(all, []byte(secret)) {
			t.Errorf("the data dir holds the password %q in the clear", secret)
		}
	}
	if len(issued) < 2 {
		t.Fatalf("only %d session cookies seen", len(issued))
	}
	for _, tok := range issued {
		if bytes.Contains(all, []byte(tok)) || bytes.Contains(all, []byte(hex.EncodeToString([]byte(tok)))) {
			t.Errorf("the data dir holds the session token %q", tok)
		}
	}
	// The token's hash is what is stored, so the live session can be found.
	sum := sha256.Sum256([]byte(b.cookies[cookieName].Value))
	if !bytes.Contains(all, []byte(hex.EncodeToString(sum[:]))) {
		t.Error("the live session's token hash is not in the data dir: the test is not reading the store")
	}

	admin, err := repo.NewUserStore(a.db).ByName(context.Background(), testAdmin)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := bcrypt.Cost([]byte(admin.PasswordHash))
	if err != nil || cost < services.BcryptCost {
		t.Fatalf("stored password is not a bcrypt hash of cost >= %d (cost %d, err %v)", services.BcryptCost, cost, err)
	}

	// Someone who copied the sessions table gets hashes, which are no cookies.
	var stored []string
	if err := a.db.NewRaw("SELECT token FROM sessions").Scan(context.Background(), &stored); err != nil {
		t.Fatal(err)
	}
	for _, h := range stored {
		thief := a.browser()
		thief.cookies[cookieName] = &http.Cookie{Name: cookieName, Value: h}
		assertRedirect(t, thief.get("/jails"), "/login?next=%2Fjails")
	}
}

// TestSessionFixationAndLogout: a session token planted before login is
// worthless after the victim logs in — whether it is a fresh visitor's
// cookie or a stored session (the cookie a previous user of a shared
// browser left after logging out) — and is gone from the store; after
// logout neither the browser's new cookie nor a replay of the logged-in
// cookie opens a page, because the server forgot the session.
func TestSessionFixationAndLogout(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	a.browser().completeSetup()

	visitor := a.browser()
	visitor.get("/login")
	previous := a.browser() // logged in and out: its cookie names a stored session
	assertRedirect(t, previous.login(goodPassword), "/")
	assertRedirect(t, previous.postForm("/logout", "/", nil), "/login")
	if !sessionStored(t, a, previous.cookies[cookieName].Value) {
		t.Fatal("the session left after logout is not stored: the test would not plant a stored session")
	}
	for name, attacker := range map[string]*browser{"a visitor's cookie": visitor, "a stored session": previous} {
		planted := attacker.cookies[cookieName].Value
		victim := a.browser()
		victim.cookies[cookieName] = &http.Cookie{Name: cookieName, Value: planted}
		assertRedirect(t, victim.login(goodPassword), "/")
		if victim.cookies[cookieName].Value == planted {
			t.Errorf("%s: the session token was not renewed at login", name)
		}
		if rec := victim.get("/jails"); rec.Code != http.StatusOK {
			t.Fatalf("%s: victim after login: %d", name, rec.Code)
		}
		assertRedirect(t, attacker.get("/jails"), "/login?next=%2Fjails")
		if sessionStored(t, a, planted) {
			t.Errorf("%s: the planted session is still in the store after login", name)
		}
	}

	// Logout: the server forgets the logged-in session.
	victim := a.browser()
	assertRedirect(t, victim.login(goodPassword), "/")
	loggedIn := victim.cookies[cookieName].Value
	thief := a.browser()
	thief.cookies[cookieName] = &http.Cookie{Name: cookieName, Value: loggedIn}
	if rec := thief.get("/jails"); rec.Code != http.StatusOK {
		t.Fatalf("a copy of the logged-in cookie works before logout: %d", rec.Code)
	}
	assertRedirect(t, victim.postForm("/logout", "/", nil), "/login")
	assertRedirect(t, victim.get("/jails"), "/login?next=%2Fjails")
	assertRedirect(t, thief.get("/jails"), "/login?next=%2Fjails")
	if sessionStored(t, a, loggedIn) {
		t.Error("the logged-in session is still in the store after logout")
	}
}

func sessionStored(t *testing.T, a *testApp, token string) bool {
	t.Helper()
	sum := sha256.Sum256([]byte(token))
	n, err := a.db.NewSelect().Model((*models.Session)(nil)).Where("token = ?", hex.EncodeToString(sum[:])).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestSessionExpiryHonoured: a login lasts the session length chosen at
// setup (90 minutes in the tests). A session that logged in longer ago than
// that is refused even when its cookie is replayed, and so is a session whose
// stored expiry has passed.
func TestSessionExpiryHonoured(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	a.browser().completeSetup()

	// Logged in 91 minutes ago (the panel's clock says so).
	b := a.browser()
	a.s.now = func() time.Time { return time.Now().Add(-91 * time.Minute) }
	rec := b.login(goodPassword)
	a.s.now = time.Now
	assertRedirect(t, rec, "/")
	c := findCookie(rec, cookieName)
	if c == nil || c.Value == "" {
		t.Fatal("no session cookie at login")
	}
	stale := a.browser()
	stale.cookies[cookieName] = &http.Cookie{Name: cookieName, Value: c.Value}
	assertRedirect(t, stale.get("/jails"), "/login?next=%2Fjails")

	// Logged in 89 minutes ago: still fine.
	b = a.browser()
	a.s.now = func() time.Time { return time.Now().Add(-89 * time.Minute) }
	rec = b.login(goodPassword)
	a.s.now = time.Now
	c = findCookie(rec, cookieName)
	fresh := a.browser()
	fresh.cookies[cookieName] = &http.Cookie{Name: cookieName, Value: c.Value}
	if rec := fresh.get("/jails"); rec.Code != http.StatusOK {
		t.Fatalf("a login 89 of 90 minutes old was refused: %d", rec.Code)
	}
	// Its stored expiry passes: refused.
	sum := sha256.Sum256([]byte(c.Value))
	if _, err := a.db.NewUpdate().Model((*models.Session)(nil)).Set("expiry = ?", time.Now().Add(-time.Second).Unix()).
		Where("token = ?", hex.EncodeToString(sum[:])).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertRedirect(t, fresh.get("/jails"), "/login?next=%2Fjails")
}

// TestLoginThrottleCannotBeBypassed: an untrusted peer cannot escape the
// login throttle by forging X-Forwarded-For or X-Real-IP, by starting a new
// session for each attempt, or by moving to another address of its IPv6 /64.
func TestLoginThrottleCannotBeBypassed(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	a.browser().completeSetup()
	frozen := time.Now()
	a.s.now = func() time.Time { return frozen }

	attempt := func(peer, xff string) int {
		b := a.browser() // a fresh session and CSRF token each time
		b.peer = peer
		if xff != "" {
			b.headers["X-Forwarded-For"] = xff
			b.headers["X-Real-IP"] = xff
		}
		return b.login("Wrong-Passw0rd").Code
	}
	if code := attempt("203.0.113.9:1000", "198.51.100.1"); code != http.StatusUnauthorized {
		t.Fatalf("first failure: %d", code)
	}
	if code := attempt("203.0.113.9:1001", "198.51.100.2"); code != http.StatusTooManyRequests {
		t.Errorf("a new session with a forged X-Forwarded-For escaped the throttle: %d", code)
	}
	if code := attempt("203.0.113.9:1002", ""); code != http.StatusTooManyRequests {
		t.Errorf("a new session from the same address escaped the throttle: %d", code)
	}
	if code := attempt("[2001:db8:1:2::1]:1000", ""); code != http.StatusUnauthorized {
		t.Fatalf("first IPv6 failure: %d", code)
	}
	if code := attempt("[2001:db8:1:2:ffff::9]:1000", ""); code != http.StatusTooManyRequests {
		t.Errorf("another address of the same IPv6 /64 escaped the throttle: %d", code)
	}
	// Other clients are not punished for them.
	if code := attempt("[2001:db8:1:3::1]:1000", ""); code != http.StatusUnauthorized {
		t.Errorf("a client in another /64 was throttled: %d", code)
	}
	if code := attempt("203.0.113.10:1000", ""); code != http.StatusUnauthorized {
		t.Errorf("another IPv4 client was throttled: %d", code)
	}
}

// TestLoginNextCannotLeaveThePanel: the login form's next field and the
// login page's next parameter only ever redirect inside the panel, with and
// without a base path (an attacker's URL may even contain the base path).
func TestLoginNextCannotLeaveThePanel(t *testing.T) {
	for _, base := range []string{"", "/bangui"} {
		a := newTestApp(t, t.TempDir(), withBasePath(base+"/"))
		a.browser().completeSetup()
		home := base + "/"
		// The login form (one bcrypt check per login, so one case).
		b := a.browser()
		rec := b.postForm(base+"/login", base+"/login", url.Values{"username": {testAdmin}, "password": {goodPassword}, "next": {"//evil.example" + base + "/jails"}})
		assertRedirect(t, rec, home)
		// The login page of a logged-in browser redirects to next at once.
		for _, next := range []string{
			"//evil.example/x", "//evil.example" + base + "/jails", "https://evil.example" + base + "/",
			"///evil.example" + base + "/", "/\\evil.example" + base + "/", "https:evil.example" + base + "/",
			"//user@evil.example" + base + "/", "javascript:alert(1)", "http://" + base + "/",
		} {
			assertRedirect(t, b.get(base+"/login?next="+url.QueryEscape(next)), home)
		}
		assertRedirect(t, b.get(base+"/login?next="+url.QueryEscape(base+"/history?page=2")), base+"/history?page=2")
	}
}

// TestBodyLimit: a request body over 1 MB (10^6 bytes) is refused with 413 and a message,
// before any handler or the CSRF check reads it; a body just under passes
// on to the usual checks.
func TestBodyLimit(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	tok := b.csrfFrom("/")
	for _, p := range []string{"/login", "/jails/ban", "/config/raw"} {
		big := url.Values{"_csrf": {tok}, "content": {strings.Repeat("a", 1<<20)}}
		rec := b.do("POST", p, big, nil)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "larger than the panel accepts") {
			t.Errorf("POST %s with 1 MiB + fields: status %d, want 413 with a message; body %.200s", p, rec.Code, rec.Body)
		}
	}
	// Under the limit the request reaches the CSRF check (403 for a wrong token).
	small := url.Values{"_csrf": {"forged"}, "content": {strings.Repeat("a", 999_000)}}
	if rec := b.do("POST", "/jails/ban", small, nil); rec.Code != http.StatusForbidden {
		t.Errorf("a body just under 1 MB: status %d, want 403 from the CSRF check", rec.Code)
	}
	if rec := b.get("/"); rec.Code != http.StatusOK {
		t.Fatalf("session lost: %d", rec.Code)
	}
}

// TestLoggedInAnswersAreNotCached: every GET route a logged-in browser may
// reach changes nothing in the database or the config directory, and
// answers with Cache-Control: no-store (so neither a shared cache nor
// the back button after logout shows the panel's data) and the security
// headers, whatever the status (pages of a real fail2ban, and error pages
// for the made-up names in the URLs).
func TestLoggedInAnswersAreNotCached(t *testing.T) {
	a, b, sb := loggedInWithFail2ban(t)
	routes := appRoutes(t, a)
	before := dbSnapshot(t, a)
	confBefore := dirHash(t, sb.ConfigDir)
	n := 0
	for _, r := range routes {
		if r.method != http.MethodGet || publicRoutes[r.key] {
			continue
		}
		for _, hdr := range []map[string]string{nil, {"HX-Request": "true"}} {
			rec := b.request(r, nil, hdr)
			if rec.Code == http.StatusSeeOther && rec.Body.Len() == 0 {
				continue // a bare redirect holds nothing to cache
			}
			n++
			if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("GET %s (htmx %v): status %d, Cache-Control %q, want no-store", r.target, hdr != nil, rec.Code, cc)
			}
			assertSecurityHeaders(t, "logged in, "+r.key, rec)
		}
	}
	if n < 20 {
		t.Fatalf("only %d answers checked", n)
	}
	// GET is safe: looking changes nothing (CSRF protection covers only the
	// unsafe methods, so a GET that changed state would be open to CSRF).
	if after := dbSnapshot(t, a); after != before {
		t.Errorf("GET requests changed the database:\nbefore %s\nafter  %s", before, after)
	}
	if after := dirHash(t, sb.ConfigDir); after != confBefore {
		t.Error("GET requests changed the fail2ban config directory")
	}
}

// TestVisitorsStoreNoSessions: clients that never log in — however many,
// whatever pages they load, however often they fail to log in — add no row
// to the sessions table (the disk cannot be filled that way). Their forms
// still carry a CSRF token bound to their own cookie: another visitor's
// token, or a token without the cookie, is refused; their own works, and
// logging in stores exactly one session.
func TestVisitorsStoreNoSessions(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	a.browser().completeSetup()
	count := func() int {
		n, err := a.db.NewSelect().Model((*models.Session)(nil)).Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	before := count()
	for i := 0; i < 50; i++ {
		b := a.browser()
		b.get("/login")
		b.get("/no/such/page")
		b.get("/jails")
	}
	a.browser().login("Wrong-Passw0rd")
	if n := count(); n != before {
		t.Fatalf("visitors who never logged in added %d session rows", n-before)
	}

	alice, mallory := a.browser(), a.browser()
	aliceToken := alice.csrfFrom("/login")
	malloryToken := mallory.csrfFrom("/login")
	if aliceToken == malloryToken || alice.cookies[cookieName] == nil {
		t.Fatalf("visitors share a token (%v) or got no cookie", aliceToken == malloryToken)
	}
	form := url.Values{"username": {testAdmin}, "password": {goodPassword}, "_csrf": {malloryToken}}
	if rec := alice.do("POST", "/login", form, nil); rec.Code != http.StatusForbidden {
		t.Errorf("login with another visitor's token: %d, want 403", rec.Code)
	}
	noCookie := a.browser()
	form.Set("_csrf", aliceToken)
	if rec := noCookie.do("POST", "/login", form, nil); rec.Code != http.StatusForbidden {
		t.Errorf("login with a token but without its cookie: %d, want 403", rec.Code)
	}
	assertRedirect(t, alice.do("POST", "/login", form, nil), "/")
	if rec := alice.get("/jails"); rec.Code != http.StatusOK {
		t.Fatalf("after login: %d", rec.Code)
	}
	if n := count(); n != before+1 {
		t.Fatalf("a login stored %d sessions, want 1", n-before)
	}
}

// TestSetupNeedsTheCode: until setup is done, whoever reaches the panel must
// also know the setup code from the log or the data dir; a wrong or missing
// code stores nothing. The code survives a restart, any case and dashes are
// accepted, and its file is gone once setup is done.
func TestSetupNeedsTheCode(t *testing.T) {
	dir := t.TempDir()
	a := newTestApp(t, dir)
	codeFile := filepath.Join(dir, setup.CodeFile)
	first, err := os.ReadFile(codeFile)
	if err != nil {
		t.Fatalf("no setup code written at start: %v", err)
	}
	if fi, _ := os.Stat(codeFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("setup code file mode %v, want 0600", fi.Mode().Perm())
	}
	b := a.browser()
	for _, code := range []string{"", "AAAAA-AAAAA", strings.TrimSpace(string(first)) + "X"} {
		form := validSetupForm(a)
		form.Set(models.SetupFieldCode, code)
		rec := b.postForm("/setup", "/setup", form)
		msg := parse(t, rec).Find("#" + models.SetupFieldCode + "-error").Text()
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(msg, "setup code") {
			t.Fatalf("setup with code %q: %d, message %q", code, rec.Code, msg)
		}
	}
	if done, err := a.app.Setup.Done(context.Background()); err != nil || done {
		t.Fatalf("setup done without the code: %v %v", done, err)
	}

	// A restart keeps the code; a person may type it in lower case.
	a = newTestApp(t, dir)
	again, _ := os.ReadFile(codeFile)
	if string(again) != string(first) {
		t.Fatalf("the setup code changed across a restart: %q then %q", first, again)
	}
	b = a.browser()
	form := validSetupForm(a)
	form.Set(models.SetupFieldCode, strings.ToLower(strings.TrimSpace(string(first))))
	assertRedirect(t, b.postForm("/setup", "/setup", form), "/login")
	if _, err := os.Stat(codeFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the setup code file is still there after setup: %v", err)
	}
	assertRedirect(t, b.login(goodPassword), "/")
}
