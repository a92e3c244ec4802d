package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

func TestFirstRunSetupLoginLogout(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()

	assertRedirect(t, b.get("/"), "/setup")
	assertRedirect(t, b.get("/jails"), "/setup")
	if rec := b.get("/setup"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Set up BanGUI") {
		t.Fatalf("setup page: %d", rec.Code)
	}
	b.completeSetup()
	// The flash survives the redirect onto the login page.
	if rec := b.get("/login"); !strings.Contains(rec.Body.String(), "Setup is complete") {
		t.Fatalf("login page lacks the setup flash: %s", rec.Body)
	}
	assertRedirect(t, b.get("/"), "/login?next=%2F")
	assertRedirect(t, b.get("/setup"), "/login")

	start := time.Now()
	rec := b.login("Wrong-Passw0rd")
	if elapsed := time.Since(start); elapsed < 500*time.Millisecond {
		t.Errorf("a failed login answered after %s, want at least 0.5 s", elapsed)
	}
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d", rec.Code)
	}
	if msg := parse(t, rec).Find("#login-error").Text(); !strings.Contains(msg, "Wrong password") {
		t.Fatalf("wrong password message = %q", msg)
	}

	before := b.cookies[cookieName].Value
	rec = b.login(goodPassword)
	assertRedirect(t, rec, "/")
	after := b.cookies[cookieName].Value
	if after == "" || after == before {
		t.Fatalf("session token not renewed at login: before %q after %q", before, after)
	}
	rec = b.get("/")
	if rec.Code != http.StatusOK {
		t.Fatalf("dashboard: %d", rec.Code)
	}
	doc := parse(t, rec)
	if n := doc.Find("#site-nav a").Length(); n != 9 { // eight pages and, for an admin, the audit log
		t.Fatalf("nav has %d links, want 9", n)
	}
	if doc.Find(`form.logout-form input[name="_csrf"]`).Length() != 1 {
		t.Fatal("logout form without CSRF field")
	}

	rec = b.postForm("/logout", "/", nil)
	assertRedirect(t, rec, "/login")
	if b.cookies[cookieName].Value == after {
		t.Fatal("session token not renewed at logout")
	}
	assertRedirect(t, b.get("/"), "/login?next=%2F")

	// The old, logged-in token is dead.
	old := a.browser()
	old.cookies[cookieName] = &http.Cookie{Name: cookieName, Value: after}
	assertRedirect(t, old.get("/jails"), "/login?next=%2Fjails")
}

func TestLoginThrottleGrowsAndRefusesEarlyRetries(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	b.completeSetup()
	frozen := time.Now()
	a.s.now = func() time.Time { return frozen }

	b.login("Wrong-Passw0rd") // first failure: 0.5 s
	rec := b.login("Wrong-Passw0rd")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("retry inside the wait: status %d, want 429", rec.Code)
	}
	if msg := parse(t, rec).Find("#login-error").Text(); !strings.Contains(msg, "Too many failed attempts") {
		t.Fatalf("throttle message = %q", msg)
	}
	// Even the right password is refused until the wait is over.
	if rec := b.login(goodPassword); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("right password inside the wait: %d", rec.Code)
	}
	frozen = frozen.Add(600 * time.Millisecond)
	assertRedirect(t, b.login(goodPassword), "/")
}

func TestCSRFRequired(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")

	if rec := b.do("POST", "/logout", url.Values{}, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("POST without token: %d, want 403", rec.Code)
	}
	if rec := b.do("POST", "/logout", url.Values{"_csrf": {"forged"}}, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("POST with a wrong token: %d, want 403", rec.Code)
	}
	tok := b.csrfFrom("/")
	if rec := b.do("POST", "/logout", url.Values{"_csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); rec.Code != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", rec.Code)
	}
	// The htmx header carries the token too.
	rec := b.do("POST", "/logout", url.Values{}, map[string]string{"X-CSRF-Token": tok, "HX-Request": "true"})
	if rec.Code != http.StatusOK || rec.Header().Get("HX-Redirect") != "/login" {
		t.Fatalf("htmx logout with header token: %d %q", rec.Code, rec.Header().Get("HX-Redirect"))
	}
	// A login POST without a token is refused as well.
	if rec := b.do("POST", "/login", url.Values{"username": {testAdmin}, "password": {goodPassword}}, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("login without token: %d", rec.Code)
	}
}

func TestHTMXWithoutSessionGetsHXRedirect(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	rec := b.do("GET", "/jails", nil, map[string]string{"HX-Request": "true"})
	if rec.Code != http.StatusOK || rec.Header().Get("HX-Redirect") != "/setup" {
		t.Fatalf("before setup: %d %q", rec.Code, rec.Header().Get("HX-Redirect"))
	}
	b.completeSetup()
	rec = b.do("GET", "/history?page=2", nil, map[string]string{
		"HX-Request": "true", "HX-Current-URL": "https://panel.example/history?page=2"})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200 with HX-Redirect (never a 302)", rec.Code)
	}
	if got, want := rec.Header().Get("HX-Redirect"), "/login?next="+url.QueryEscape("/history?page=2"); got != want {
		t.Fatalf("HX-Redirect = %q, want %q", got, want)
	}
}

func TestProxyHeadersTrustedOnlyFromProxies(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	setup := a.browser()
	setup.completeSetup()

	// Through nginx on loopback, saying the browser used HTTPS: Secure cookie.
	proxied := a.browser()
	proxied.peer = "127.0.0.1:50000"
	proxied.headers["X-Forwarded-Proto"] = "https"
	proxied.headers["X-Forwarded-For"] = "198.51.100.7"
	rec := proxied.get("/login")
	if c := findCookie(rec, cookieName); c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie through a trusted TLS proxy: %+v", c)
	}
	// The same headers from an untrusted peer are ignored.
	direct := a.browser()
	direct.peer = "203.0.113.9:50000"
	direct.headers["X-Forwarded-Proto"] = "https"
	rec = direct.get("/login")
	if c := findCookie(rec, cookieName); c == nil || c.Secure {
		t.Fatalf("cookie from an untrusted peer claiming https: %+v", c)
	}

	// Client IPs: the throttle keys on RealIP. With a frozen clock a second
	// failure from the same client is refused at once.
	frozen := time.Now()
	a.s.now = func() time.Time { return frozen }
	direct.headers["X-Forwarded-For"] = "198.51.100.1"
	direct.login("Wrong-Passw0rd")
	direct.headers["X-Forwarded-For"] = "198.51.100.2" // a forged header does not make a new client
	if rec := direct.login("Wrong-Passw0rd"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("untrusted peer escaped the throttle by changing X-Forwarded-For: %d", rec.Code)
	}
	proxied.headers["X-Forwarded-For"] = "198.51.100.3"
	proxied.login("Wrong-Passw0rd")
	proxied.headers["X-Forwarded-For"] = "198.51.100.4" // a different real client behind the proxy
	if rec := proxied.login("Wrong-Passw0rd"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("a different client behind the trusted proxy was throttled: %d", rec.Code)
	}
}

func findCookie(rec interface{ Result() *http.Response }, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestRestartKeepsSetupAndSessions(t *testing.T) {
	dir := t.TempDir()
	a := newTestApp(t, dir)
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	a.db.Close()

	a2 := newTestApp(t, dir)
	b.app = a2
	if rec := b.get("/jails"); rec.Code != http.StatusOK {
		t.Fatalf("after restart, logged-in page: %d", rec.Code)
	}
	assertRedirect(t, b.get("/setup"), "/login")
	// A session's lifetime is the session length chosen at setup (90 minutes).
	c := b.cookies[cookieName]
	if c.MaxAge < 85*60 || c.MaxAge > 91*60 {
		t.Fatalf("session cookie max-age %d s, want about 90 minutes", c.MaxAge)
	}
}

func TestSecondSetupRefused(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	tok := b.csrfFrom("/setup")
	b.completeSetup()
	form := validSetupForm(a)
	form.Set("password", "Another-Passw0rd")
	form.Set("password_confirm", "Another-Passw0rd")
	form.Set("_csrf", tok)
	if rec := b.do("POST", "/setup", form, nil); rec.Code != http.StatusConflict {
		t.Fatalf("second setup: %d, want 409", rec.Code)
	}
	// Nothing changed: the first password still works, the second does not.
	assertRedirect(t, b.login(goodPassword), "/")
	other := a.browser()
	if rec := other.login("Another-Passw0rd"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("second setup's password was accepted: %d", rec.Code)
	}
}

func TestSetupRulesEachHaveAMessage(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	cases := []struct {
		name, field, value, want string
	}{
		{"short", "password", "Ab1", "at least 8 characters"},
		{"long", "password", "A1" + strings.Repeat("x", 71), "at most 72 bytes"},
		{"no upper", "password", "lowercase1", "upper-case letter"},
		{"no digit", "password", "NoDigitsHere", "one digit"},
		{"mismatch", "password_confirm", "Different-Passw0rd", "differ"},
		{"socket empty", "socket", "", "path of the fail2ban socket"},
		{"socket relative", "socket", "run/fail2ban.sock", "absolute path"},
		{"config dir relative", "config_dir", "etc/fail2ban", "absolute path"},
		{"timezone unknown", "timezone", "Mars/Olympus", "Unknown time zone"},
		{"timezone empty", "timezone", "", "Choose a time zone"},
		{"minutes text", "session_minutes", "ten", "whole number"},
		{"minutes small", "session_minutes", "1", "between 5 and 43200"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := a.browser()
			form := validSetupForm(a)
			form.Set(tc.field, tc.value)
			if tc.field == "password" {
				form.Set("password_confirm", tc.value)
			}
			rec := b.postForm("/setup", "/setup", form)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", rec.Code)
			}
			doc := parse(t, rec)
			msgs := doc.Find("#" + tc.field + "-error li").Text()
			if !strings.Contains(strings.ToLower(msgs), strings.ToLower(tc.want)) {
				t.Fatalf("messages for %s = %q, want one containing %q", tc.field, msgs, tc.want)
			}
			if v, _ := doc.Find("#" + tc.field).Attr("aria-invalid"); v != "true" {
				t.Fatalf("%s not marked aria-invalid", tc.field)
			}
			if doc.Find(`input[type="password"][value]:not([value=""])`).Length() > 0 {
				t.Fatal("a password was echoed back into the form")
			}
		})
	}
	// A password breaking every rule gets one message per rule.
	b := a.browser()
	form := validSetupForm(a)
	form.Set("password", "abc")
	form.Set("password_confirm", "abc")
	rec := b.postForm("/setup", "/setup", form)
	if n := parse(t, rec).Find("#password-error li").Length(); n != 3 {
		t.Fatalf("%d messages for a short, lower-case, digit-free password; want 3", n)
	}
	// Nothing was saved by the failed attempts.
	assertRedirect(t, b.get("/"), "/setup")
}

func TestSafeNextRefusesOpenRedirects(t *testing.T) {
	a := newTestApp(t, t.TempDir(), withBasePath("/bangui/"))
	for next, want := range map[string]string{
		"":                          "/bangui/",
		"/bangui/jails":             "/bangui/jails",
		"/bangui/history?page=2":    "/bangui/history?page=2",
		"//evil.example/x":          "/bangui/",
		"https://evil.example/":     "/bangui/",
		"/\\evil.example":           "/bangui/",
		"/elsewhere":                "/bangui/",
		"/bangui/login":             "/bangui/",
		"jails":                     "/bangui/",
		"/bangui/../etc":            "/bangui/../etc", // stays a same-site path; the router cleans it
		"/bangui/%0d%0aSet-Cookie:": "/bangui/%0d%0aSet-Cookie:",
	} {
		if got := a.s.safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

func TestReadyzAndHealthz(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	if rec := b.get("/healthz"); rec.Code != http.StatusOK {
		t.Fatalf("healthz: %d", rec.Code)
	}
	rec := b.get("/readyz")
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz without fail2ban: %d", rec.Code)
	}
	var body readiness
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Database != "ok" || body.Fail2ban != "error" || !strings.Contains(body.Reason, "fail2ban") {
		t.Fatalf("readyz body: %+v", body)
	}
}

func TestErrorsArePagesNotStackTraces(t *testing.T) {
	dir := t.TempDir()
	a := newTestApp(t, dir)
	e := a.e
	e.GET("/boom", func(c echo.Context) error { panic("secret internals") })
	b := a.browser()
	rec := b.get("/boom")
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("panic: %d", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, "secret internals") || strings.Contains(body, "goroutine") {
		t.Fatalf("panic details leaked: %s", body)
	}
	if !strings.Contains(body, "Something went wrong") || !strings.Contains(body, rec.Header().Get(echo.HeaderXRequestID)) {
		t.Fatalf("500 page lacks its message or reference: %s", body)
	}
	rec = b.get("/no/such/page")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "Not found") {
		t.Fatalf("404: %d %.200s", rec.Code, rec.Body)
	}
	rec = b.do("GET", "/no/such/page", nil, map[string]string{"HX-Request": "true"})
	if rec.Header().Get("HX-Retarget") != "#flash" || strings.Contains(rec.Body.String(), "<html") {
		t.Fatalf("htmx error should be a flash fragment: %q %.200s", rec.Header().Get("HX-Retarget"), rec.Body)
	}
}
