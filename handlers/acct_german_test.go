package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"bangui/models"
)

// germanBrowser is a browser whose Accept-Language asks for German.
func germanBrowser(a *testApp) *browser {
	b := a.browser()
	b.headers["Accept-Language"] = "de-DE,de;q=0.9"
	return b
}

// wantGerman fails when doc's text at sel lacks want, or shows English
// (as TestGermanPagesShowNoEnglish finds it).
func wantGerman(t *testing.T, where string, doc *goquery.Document, sel, want string) {
	t.Helper()
	found := doc.Find(sel)
	if got := strings.Join(strings.Fields(found.Text()), " "); !strings.Contains(got, want) {
		t.Errorf("%s: %s says %q, want %q", where, sel, got, want)
	}
	for _, n := range found.Nodes {
		for _, english := range untranslated(goquery.NewDocumentFromNode(n), englishOnly()) {
			t.Errorf("%s: English in German: %s", where, english)
		}
	}
}

// TestGermanSetupRefusals: before there is an account, the setup form's
// refusals and the socket test follow the browser's language.
func TestGermanSetupRefusals(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := germanBrowser(a)

	form := validSetupForm(a)
	form.Set("password", "Ab1")
	form.Set("password_confirm", "Ab1")
	form.Set("socket", "run/fail2ban.sock")
	form.Set("timezone", "Mars/Olympus")
	form.Set("session_minutes", "1")
	rec := b.postForm("/setup", "/setup", form)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("refused setup: status %d", rec.Code)
	}
	doc := parse(t, rec)
	wantGerman(t, "short password", doc, "#password-error", "Verwenden Sie mindestens 8 Zeichen.")
	wantGerman(t, "relative socket", doc, "#socket-error", "Verwenden Sie einen absoluten Pfad, beginnend mit /.")
	wantGerman(t, "unknown zone", doc, "#timezone-error", `Unbekannte Zeitzone "Mars/Olympus"`)
	wantGerman(t, "few minutes", doc, "#session_minutes-error", "zwischen 5 und 43200 Minuten")

	form = validSetupForm(a)
	form.Set("setup_code", "WRONGCODE1")
	doc = parse(t, b.postForm("/setup", "/setup", form))
	wantGerman(t, "wrong setup code", doc, "#setup_code-error", "Das ist nicht der Einrichtungscode.")

	// The socket test: without the code, and at a path with no socket.
	probe := func(code, socket string) *goquery.Document {
		rec := b.do("POST", "/setup/probe", url.Values{"_csrf": {b.csrfFrom("/setup")}, "socket": {socket}, "setup_code": {code}},
			map[string]string{"HX-Request": "true"})
		return parse(t, rec)
	}
	missing := filepath.Join(t.TempDir(), "fail2ban.sock")
	wantGerman(t, "probe without the code", probe("WRONGCODE1", missing), ".probe__title", "Geben Sie zuerst den Einrichtungscode ein")
	doc = probe(validSetupForm(a).Get("setup_code"), missing)
	wantGerman(t, "probe of no socket", doc, ".probe__title", "Unter "+missing+" gibt es keinen Socket.")
	wantGerman(t, "probe of no socket", doc, ".probe__fix", "Prüfen Sie, ob fail2ban läuft")

	// The same test in English reads as before.
	en := a.browser()
	rec = en.do("POST", "/setup/probe", url.Values{"_csrf": {en.csrfFrom("/setup")}, "socket": {missing}, "setup_code": {validSetupForm(a).Get("setup_code")}},
		map[string]string{"HX-Request": "true"})
	if got := parse(t, rec).Find(".probe__title").Text(); got != "There is no socket at "+missing+"." {
		t.Errorf("probe in English: %q", got)
	}
}

// TestGermanLoginRefusals: a wrong password, a wrong authenticator code
// and a passkey answer without its request are refused in German.
func TestGermanLoginRefusals(t *testing.T) {
	f, _ := newFactorApp(t)
	secret := f.enrolAdmin()
	b := germanBrowser(f.testApp)

	rec := b.login("Wrong-Passw0rd")
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", rec.Code)
	}
	wantGerman(t, "wrong password", parse(t, rec), "#login-error", "Falsches Passwort oder falscher Benutzername.")

	f.tick(10 * time.Second) // past the throttle's wait
	assertRedirect(t, b.login(goodPassword), "/login/second-factor")
	rec = b.postForm("/login/second-factor", "/login/second-factor", url.Values{"code": {wrongTOTP(f.code(secret))}})
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", rec.Code)
	}
	wantGerman(t, "wrong code", parse(t, rec), "#second-factor-error", "Falscher Authenticator-Code")

	anon := germanBrowser(f.testApp)
	rec = anon.postForm("/login/passkey/finish", "/login", url.Values{"credential": {"{}"}})
	if rec.Code != http.StatusConflict {
		t.Fatalf("passkey answer without a request: %d", rec.Code)
	}
	wantGerman(t, "passkey without request", parse(t, rec), "#login-error", "Hier läuft keine Passkey-Anfrage")

	// A passkey ceremony at an IP address: the JSON its script shows.
	req := httptest.NewRequest("POST", "http://192.0.2.1/login/passkey/begin", strings.NewReader("{}"))
	req.RemoteAddr = anon.peer
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", anon.csrfFrom("http://192.0.2.1/login"))
	req.Header.Set("Accept-Language", "de")
	for _, c := range anon.cookies {
		req.AddCookie(c)
	}
	jrec := httptest.NewRecorder()
	f.e.ServeHTTP(jrec, req)
	if jrec.Code != http.StatusConflict || !strings.Contains(jrec.Body.String(), "Passkeys brauchen das Panel unter seinem Hostnamen.") {
		t.Errorf("passkey at an IP address: %d %s", jrec.Code, jrec.Body)
	}
}

// TestGermanAccountRefusals: the account's refusals the form walk does
// not reach — a token scope above the role, a taken user name — in German.
func TestGermanAccountRefusals(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	setup := germanBrowser(a)
	setup.completeSetup()
	assertRedirect(t, setup.login(goodPassword), "/")

	rec := setup.postForm("/users", "/users", url.Values{"username": {"ADMIN"}, "password": {goodPassword}, "password_confirm": {goodPassword}, "role": {"viewer"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("taken name: %d", rec.Code)
	}
	wantGerman(t, "taken name", parse(t, rec), "#new-username-error", "Dieser Benutzername ist vergeben")

	a.addUser("vic", models.RoleViewer)
	v := germanBrowser(a)
	assertRedirect(t, v.loginAs("vic", goodPassword), "/")
	rec = v.postForm("/account/tokens", "/account/tokens", url.Values{"name": {"cron"}, "scope": {"operate"}, "expiry": {"30"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("scope above the role: %d", rec.Code)
	}
	wantGerman(t, "scope above the role", parse(t, rec), "#token-scope-error", "Ihre Rolle (Betrachter) erlaubt den Geltungsbereich operate nicht.")
}
