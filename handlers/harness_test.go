package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"github.com/uptrace/bun"

	"bangui/app"
	"bangui/config"
	"bangui/models"
	"bangui/services"
	"bangui/services/setup"
)

// testApp is a complete panel on a temp data dir, driven in-process.
type testApp struct {
	t       testing.TB
	e       *echo.Echo
	s       *Server
	db      *bun.DB
	dataDir string
	cfg     config.Config
	sync    *services.ArchiveSync
	app     *app.App
}

type appOption func(*config.Config)

func withBasePath(p string) appOption {
	return func(c *config.Config) { c.BasePath, _ = config.NormalizeBasePath(p) }
}

func withSocket(p string) appOption { return func(c *config.Config) { c.Socket = p } }

func withConfigDir(p string) appOption { return func(c *config.Config) { c.ConfigDir = p } }

func testConfig(t testing.TB, dataDir string, opts ...appOption) config.Config {
	cfg := config.Config{
		Listen:         "127.0.0.1:0",
		DataDir:        dataDir,
		Socket:         filepath.Join(t.TempDir(), "no-fail2ban.sock"),
		ConfigDir:      t.TempDir(),
		ClientPath:     "fail2ban-client",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		ShutdownGrace:  time.Second,
		GeoCountryDB:   testGeoDB(dataDir), // absent unless a test writes it
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// newTestApp opens (or reopens) the panel on dataDir.
func newTestApp(t testing.TB, dataDir string, opts ...appOption) *testApp {
	t.Helper()
	cfg := testConfig(t, dataDir, opts...)
	a, err := app.Build(context.Background(), cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	e, s, err := New(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return &testApp{t: t, e: e, s: s, db: a.DB, dataDir: dataDir, cfg: cfg, sync: a.ArchiveSync, app: a}
}

// browser keeps cookies like a browser and sends requests from a chosen peer.
type browser struct {
	app     *testApp
	cookies map[string]*http.Cookie
	peer    string            // RemoteAddr
	headers map[string]string // sent with every request
}

func (a *testApp) browser() *browser {
	return &browser{app: a, cookies: map[string]*http.Cookie{}, peer: "192.0.2.10:40000", headers: map[string]string{}}
}

func (b *browser) do(method, target string, form url.Values, hdr map[string]string) *httptest.ResponseRecorder {
	b.app.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = b.peer
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.headers {
		req.Header.Set(k, v)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.app.e.ServeHTTP(rec, req)
	b.keepCookies(rec)
	return rec
}

// keepCookies stores the cookies an answer set, and forgets those it
// deleted.
func (b *browser) keepCookies(rec *httptest.ResponseRecorder) {
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
}

func (b *browser) get(target string) *httptest.ResponseRecorder { return b.do("GET", target, nil, nil) }

// postForm posts form with the CSRF token taken from the page at tokenFrom.
func (b *browser) postForm(target, tokenFrom string, form url.Values) *httptest.ResponseRecorder {
	b.app.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", b.csrfFrom(tokenFrom))
	return b.do("POST", target, form, nil)
}

// csrfFrom loads a page and returns the token in its hidden _csrf field.
func (b *browser) csrfFrom(page string) string {
	b.app.t.Helper()
	rec := b.get(page)
	doc := parse(b.app.t, rec)
	tok, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if !ok || tok == "" {
		b.app.t.Fatalf("no CSRF token on %s (status %d)", page, rec.Code)
	}
	return tok
}

func parse(t testing.TB, rec *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

const goodPassword = "Sturdy-Passw0rd"

// testAdmin is the first admin that completeSetup creates, with
// goodPassword.
const testAdmin = "admin"

func validSetupForm(a *testApp) url.Values {
	code, err := setup.LoadCode(a.dataDir)
	if err != nil {
		a.t.Fatal(err)
	}
	return url.Values{
		"setup_code":       {code.String()},
		"username":         {testAdmin},
		"password":         {goodPassword},
		"password_confirm": {goodPassword},
		"socket":           {a.cfg.Socket},
		"config_dir":       {a.cfg.ConfigDir},
		"timezone":         {"Europe/Berlin"},
		"session_minutes":  {"90"},
	}
}

// completeSetup runs setup through the form and fails the test otherwise.
func (b *browser) completeSetup() {
	b.app.t.Helper()
	p := b.app.cfg.BasePath
	rec := b.postForm(p+"/setup", p+"/setup", validSetupForm(b.app))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != p+"/login" {
		b.app.t.Fatalf("setup: status %d location %q body %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
}

// login logs in as the first admin (testAdmin) with pw and returns the
// response.
func (b *browser) login(pw string) *httptest.ResponseRecorder {
	b.app.t.Helper()
	return b.loginAs(testAdmin, pw)
}

// loginAs logs in as user with pw and returns the response.
func (b *browser) loginAs(user, pw string) *httptest.ResponseRecorder {
	b.app.t.Helper()
	p := b.app.cfg.BasePath
	return b.postForm(p+"/login", p+"/login", url.Values{"username": {user}, "password": {pw}})
}

// addUser creates an account with role and goodPassword, and returns it.
func (a *testApp) addUser(name string, role models.Role) models.User {
	a.t.Helper()
	u, err := a.app.Accounts.Add(context.Background(), services.NewUser{Name: name, Password: goodPassword, Confirm: goodPassword, Role: role.String()})
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

// browserAs returns a browser logged in as a new account name with role
// (setup must be done).
func (a *testApp) browserAs(name string, role models.Role) *browser {
	a.t.Helper()
	a.addUser(name, role)
	b := a.browser()
	assertRedirect(a.t, b.loginAs(name, goodPassword), a.cfg.BasePath+"/")
	return b
}

func assertRedirect(t testing.TB, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	if rec.Code != http.StatusSeeOther && rec.Code != http.StatusMovedPermanently && rec.Code != http.StatusFound {
		t.Fatalf("status %d, want a redirect to %s; body: %.300s", rec.Code, want, rec.Body)
	}
	if got := rec.Header().Get("Location"); got != want {
		t.Fatalf("redirect to %q, want %q", got, want)
	}
}
