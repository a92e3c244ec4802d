package handlers

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"bangui/models"
)

// auditTrail keeps the entries the handlers write, for tests to read.
type auditTrail struct {
	mu      sync.Mutex
	entries []models.AuditEntry
}

func (a *auditTrail) Record(_ context.Context, e models.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

// count returns how many entries have action and a detail containing detail.
func (a *auditTrail) count(action models.AuditAction, detail string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.entries {
		if e.Action == action && strings.Contains(e.Detail, detail) {
			n++
		}
	}
	return n
}

// factorApp is a set-up panel whose master password belongs to the
// account "admin", on a clock the test moves, with its audit entries kept.
type factorApp struct {
	*testApp
	clock time.Time
	trail *auditTrail
}

func newFactorApp(t *testing.T, opts ...appOption) (*factorApp, *browser) {
	t.Helper()
	a := newTestApp(t, t.TempDir(), opts...)
	b := a.browser()
	b.completeSetup()
	f := &factorApp{testApp: a, clock: time.Date(2026, 12, 7, 9, 0, 3, 0, time.UTC), trail: &auditTrail{}}
	a.s.now = func() time.Time { return f.clock }
	a.s.auditLog = f.trail
	return f, b
}

// tick moves the panel's clock on.
func (f *factorApp) tick(d time.Duration) { f.clock = f.clock.Add(d) }

// code is what an authenticator app holding secret shows now.
func (f *factorApp) code(secret string) string {
	f.t.Helper()
	c, err := totp.GenerateCodeCustom(secret, f.clock, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// enrolFromPage reads the secret off a page that sets up an authenticator
// app, checks its QR code image, and returns the secret.
func (b *browser) enrolFromPage(page string) string {
	t := b.app.t
	t.Helper()
	doc := parse(t, b.get(page))
	secret := strings.ReplaceAll(doc.Find("#totp-secret").Text(), " ", "")
	if len(secret) != 32 {
		t.Fatalf("secret shown on %s: %q", page, secret)
	}
	src, _ := doc.Find(`img[data-testid="totp-qr"]`).Attr("src")
	rec := b.get(src)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/png" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("QR %s: %d %q %q", src, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
	}
	img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
	if err != nil || img.Bounds().Dx() != 240 {
		t.Fatalf("QR image: %v, %v", img, err)
	}
	return secret
}

// recoveryCodesOn returns the codes a recovery-codes page shows.
func recoveryCodesOn(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	var codes []string
	parse(t, rec).Find(`[data-testid="recovery-code"]`).Each(func(_ int, s *goquery.Selection) { codes = append(codes, s.Text()) })
	return codes
}

// secondFactorError is the error message a page shows.
func secondFactorError(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	return strings.TrimSpace(parse(t, rec).Find("#second-factor-error").Text())
}

// TestTOTPLoginEndToEnd walks an account through setting up an
// authenticator app on its page, then logging in with password and code:
// each code works once, an expired or wrong one does not, a waiting login
// opens no private page and expires, and a recovery code works once.
func TestTOTPLoginEndToEnd(t *testing.T) {
	f, b := newFactorApp(t)
	// No second factor yet: the password alone logs in.
	assertRedirect(t, b.login(goodPassword), "/")

	page := parse(t, b.get("/account/totp"))
	if page.Find(`form[data-testid="totp-start-form"]`).Length() != 1 {
		t.Fatal("no set-up button on /account/totp")
	}
	if rec := b.get("/account/totp/qr.png"); rec.Code != http.StatusNotFound {
		t.Fatalf("QR before set-up: %d", rec.Code)
	}
	assertRedirect(t, b.postForm("/account/totp/start", "/account/totp", nil), "/account/totp")
	secret := b.enrolFromPage("/account/totp")

	rec := b.postForm("/account/totp/confirm", "/account/totp", url.Values{"code": {wrongTOTP(f.code(secret))}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(secondFactorError(t, rec), "does not match") {
		t.Fatalf("wrong first code: %d %q", rec.Code, secondFactorError(t, rec))
	}
	f.tick(5 * time.Second) // past the throttle's wait
	first := f.code(secret)
	rec = b.postForm("/account/totp/confirm", "/account/totp", url.Values{"code": {first}})
	codes := recoveryCodesOn(t, rec)
	if rec.Code != http.StatusOK || len(codes) != 10 {
		t.Fatalf("confirm: %d, %d recovery codes", rec.Code, len(codes))
	}
	if f.trail.count(models.AuditFactorChange, "authenticator app turned on") != 1 {
		t.Fatal("turning the app on was not audited once")
	}
	// The codes download as text, and are not shown again.
	dl := b.postForm("/account/totp/recovery-codes.txt", "/account/totp", url.Values{"code": codes})
	if dl.Code != http.StatusOK || !strings.HasPrefix(dl.Header().Get("Content-Type"), "text/plain") ||
		!strings.Contains(dl.Header().Get("Content-Disposition"), "attachment") || !strings.Contains(dl.Body.String(), codes[9]+"\n") {
		t.Fatalf("download: %d %q %q %q", dl.Code, dl.Header().Get("Content-Type"), dl.Header().Get("Content-Disposition"), dl.Body)
	}
	// The file's heading is in the language of the browser that asks.
	form := url.Values{"code": codes, "_csrf": {b.csrfFrom("/account/totp")}}
	if dl := b.do("POST", "/account/totp/recovery-codes.txt", form, map[string]string{"Accept-Language": "de"}); !strings.HasPrefix(dl.Body.String(), "BanGUI-Wiederherstellungscodes (jeder gilt nur einmal)\n") {
		t.Fatalf("download in German: %q", dl.Body)
	}
	if rec := b.postForm("/account/totp/recovery-codes.txt", "/account/totp", url.Values{"code": {"<script>"}}); rec.Code != http.StatusBadRequest {
		t.Fatalf("download of something else: %d", rec.Code)
	}
	page = parse(t, b.get("/account/totp"))
	if !strings.Contains(page.Find(`[data-testid="totp-on"]`).Text(), "10 unused recovery codes") || page.Find("#totp-secret").Length() != 0 {
		t.Fatalf("account page once set up: %q, secret shown: %d", page.Find(`[data-testid="two-factor"]`).Text(), page.Find("#totp-secret").Length())
	}
	if rec := b.get("/account/totp/qr.png"); rec.Code != http.StatusNotFound {
		t.Fatalf("QR of a confirmed secret: %d", rec.Code)
	}
	assertRedirect(t, b.postForm("/logout", "/", nil), "/login")

	// Password, then the second-factor page; nothing private opens meanwhile.
	assertRedirect(t, b.postForm("/login", "/login", url.Values{"username": {testAdmin}, "password": {goodPassword}, "next": {"/jails"}}), "/login/second-factor")
	assertRedirect(t, b.get("/"), "/login?next=%2F")
	assertRedirect(t, b.get("/account/totp"), "/login?next=%2Faccount%2Ftotp")
	if rec := b.postForm("/account/totp/start", "/login/second-factor", nil); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
		t.Fatalf("set-up while waiting: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	// A login with a factor must use it: it cannot set up another.
	assertRedirect(t, b.postForm("/login/second-factor/totp/start", "/login/second-factor", nil), "/login/second-factor")
	if rec := b.get("/login/second-factor/totp/qr.png"); rec.Code != http.StatusSeeOther {
		t.Fatalf("login QR of an account with a factor: %d", rec.Code)
	}
	doc := parse(t, b.get("/login/second-factor"))
	if doc.Find(`form[data-testid="totp-login-form"] input[name="code"]`).Length() != 1 ||
		doc.Find(`form[data-testid="recovery-login-form"] input[name="recovery_code"]`).Length() != 1 {
		t.Fatal("second-factor page lacks the code or the recovery code field")
	}
	// The code that confirmed the app is spent (same step).
	f.tick(2 * time.Second)
	rec = b.postForm("/login/second-factor", "/login/second-factor", url.Values{"code": {first}})
	if rec.Code != http.StatusUnauthorized || !strings.Contains(secondFactorError(t, rec), "Wrong authenticator code") {
		t.Fatalf("reused code: %d %q", rec.Code, secondFactorError(t, rec))
	}
	if f.trail.count(models.AuditLoginFailed, "second factor: wrong authenticator code") != 1 {
		t.Fatal("the failed second factor was not audited once")
	}
	// Throttled: the next try at once is refused unchecked.
	rec = b.postForm("/login/second-factor", "/login/second-factor", url.Values{"code": {f.code(secret)}})
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("retry within the throttle's wait: %d", rec.Code)
	}
	// Expired: the code of two steps ago.
	f.tick(2 * time.Minute)
	old := f.code(secret)
	f.tick(time.Minute)
	if rec := b.postForm("/login/second-factor", "/login/second-factor", url.Values{"code": {old}}); rec.Code != http.StatusUnauthorized {
		t.Fatalf("expired code: %d", rec.Code)
	}
	f.tick(5 * time.Second)
	assertRedirect(t, b.postForm("/login/second-factor", "/login/second-factor", url.Values{"code": {f.code(secret)}}), "/jails")
	if rec := b.get("/jails"); rec.Code != http.StatusOK {
		t.Fatalf("after the second factor: %d", rec.Code)
	}
	assertRedirect(t, b.postForm("/logout", "/", nil), "/login")

	// A waiting login expires.
	assertRedirect(t, b.login(goodPassword), "/login/second-factor")
	f.tick(pendingLoginLifetime + time.Second)
	assertRedirect(t, b.get("/login/second-factor"), "/login")
	if msg := parse(t, b.get("/login")).Find(".flash").Text(); !strings.Contains(msg, "took too long") {
		t.Fatalf("login page after expiry: %q", msg)
	}
	f.tick(30 * time.Second)
	assertRedirect(t, b.postForm("/login/second-factor", "/login", url.Values{"code": {f.code(secret)}}), "/login")
	assertRedirect(t, b.get("/"), "/login?next=%2F")

	// A recovery code logs in once.
	assertRedirect(t, b.login(goodPassword), "/login/second-factor")
	assertRedirect(t, b.postForm("/login/second-factor", "/login/second-factor", url.Values{"recovery_code": {strings.ToUpper(codes[0])}}), "/")
	if f.trail.count(models.AuditFactorChange, "recovery code used") != 1 {
		t.Fatal("the recovery code's use was not audited")
	}
	assertRedirect(t, b.postForm("/logout", "/", nil), "/login")
	assertRedirect(t, b.login(goodPassword), "/login/second-factor")
	rec = b.postForm("/login/second-factor", "/login/second-factor", url.Values{"recovery_code": {codes[0]}})
	if rec.Code != http.StatusUnauthorized || !strings.Contains(secondFactorError(t, rec), "Wrong recovery code") {
		t.Fatalf("recovery code used twice: %d %q", rec.Code, secondFactorError(t, rec))
	}
	if !strings.Contains(parse(t, b.get("/login/second-factor")).Text(), "Use a recovery code") {
		t.Fatal("the recovery form went away with 9 codes left")
	}
}

// TestSecondFactorWrongCodesEndTheLogin: after pendingLoginMaxFailures
// wrong codes the password must be given again.
func TestSecondFactorWrongCodesEndTheLogin(t *testing.T) {
	f, b := newFactorApp(t)
	secret := f.enrolAdmin()
	assertRedirect(t, b.login(goodPassword), "/login/second-factor")
	for i := 1; i < pendingLoginMaxFailures; i++ {
		f.tick(10 * time.Second)
		if rec := b.postForm("/login/second-factor", "/login/second-factor", url.Values{"code": {wrongTOTP(f.code(secret))}}); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i, rec.Code)
		}
	}
	f.tick(10 * time.Second)
	assertRedirect(t, b.postForm("/login/second-factor", "/login/second-factor", url.Values{"code": {wrongTOTP(f.code(secret))}}), "/login")
	// The right code no longer helps.
	assertRedirect(t, b.postForm("/login/second-factor", "/login", url.Values{"code": {f.code(secret)}}), "/login")
	assertRedirect(t, b.get("/"), "/login?next=%2F")
	if n := f.trail.count(models.AuditLoginFailed, "second factor"); n != pendingLoginMaxFailures {
		t.Fatalf("%d failed second factors audited, want %d", n, pendingLoginMaxFailures)
	}
}

// enrolAdmin gives the account "admin" a confirmed authenticator app
// through the service and returns its secret.
func (f *factorApp) enrolAdmin() string {
	f.t.Helper()
	ctx := context.Background()
	u, err := f.app.Users.ByName(ctx, "admin")
	if err != nil {
		f.t.Fatal(err)
	}
	secret, err := f.app.SecondFactors.StartTOTP(ctx, u.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.app.SecondFactors.ConfirmTOTP(ctx, u.ID, f.code(secret), f.clock); err != nil {
		f.t.Fatal(err)
	}
	f.tick(30 * time.Second) // the confirming code is spent
	return secret
}

// wrongTOTP returns a six-digit code different from c.
func wrongTOTP(c string) string {
	n, _ := strconv.Atoi(c)
	return strconv.Itoa(100000 + (n+1)%900000)
}

// TestSecondFactorRoutesNeedAWaitingLogin: the second step of the login
// (public routes, like /login) does nothing for a session whose password
// was not just right: no cookie, a visitor's session, or a logged-in one
// all go back to the login page, with a right code too, and nothing
// changes.
func TestSecondFactorRoutesNeedAWaitingLogin(t *testing.T) {
	f, b := newFactorApp(t)
	secret := f.enrolAdmin()
	tt, err := f.app.Users.ByName(context.Background(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	anon := f.browser()
	anonToken := anon.csrfFrom("/login")
	assertRedirect(t, b.login(goodPassword), "/login/second-factor")
	assertRedirect(t, b.postForm("/login/second-factor", "/login/second-factor", url.Values{"code": {f.code(secret)}}), "/")
	f.tick(30 * time.Second)
	before, stepBefore := dbSnapshot(t, f.testApp), f.lastStep(tt.ID)
	loggedToken := b.csrfFrom("/")
	visitors := map[string]struct {
		b     *browser
		token string
	}{"no cookie": {f.browser(), anonToken}, "visitor": {anon, anonToken}, "logged in": {b, loggedToken}}
	n := 0
	for _, r := range appRoutes(t, f.testApp) {
		if !strings.HasPrefix(r.target, "/login/second-factor") {
			continue
		}
		n++
		for name, v := range visitors {
			form := url.Values{"code": {f.code(secret)}, "recovery_code": {"aaaa-bbbb-cccc-dddd"}, "_csrf": {v.token}}
			rec := v.b.request(r, form, nil)
			loc := rec.Header().Get("Location")
			if !(rec.Code == http.StatusSeeOther && loc == "/login") && !(name == "no cookie" && rec.Code == http.StatusForbidden) {
				t.Errorf("%s by %s: %d %q, want 303 to /login", r.key, name, rec.Code, loc)
			}
		}
	}
	if n != 7 { // with the passkey's begin and finish
		t.Fatalf("%d second-factor routes walked, want 7", n)
	}
	assertRedirect(t, anon.get("/"), "/login?next=%2F")
	if after := dbSnapshot(t, f.testApp); after != before {
		t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
	}
	if got := f.lastStep(tt.ID); got != stepBefore {
		t.Errorf("a code was spent: last step %d, was %d", got, stepBefore)
	}
}

// lastStep is the last accepted time step of the user's authenticator app.
func (f *factorApp) lastStep(userID int64) int64 {
	f.t.Helper()
	var step int64
	if err := f.db.NewRaw("SELECT last_step FROM user_totp WHERE user_id = ?", userID).Scan(context.Background(), &step); err != nil {
		f.t.Fatal(err)
	}
	return step
}

// TestSecondFactorBehindABasePath: the login's second step and the set-up
// stay below the base path (nginx on /bangui/).
func TestSecondFactorBehindABasePath(t *testing.T) {
	f, b := newFactorApp(t, withBasePath("/bangui/"))
	secret := f.enrolAdmin()
	assertRedirect(t, b.postForm("/bangui/login", "/bangui/login", url.Values{"username": {testAdmin}, "password": {goodPassword}, "next": {"/bangui/jails"}}), "/bangui/login/second-factor")
	doc := parse(t, b.get("/bangui/login/second-factor"))
	if action, _ := doc.Find(`form[data-testid="totp-login-form"]`).Attr("action"); action != "/bangui/login/second-factor" {
		t.Fatalf("code form posts to %q", action)
	}
	assertRedirect(t, b.postForm("/bangui/login/second-factor", "/bangui/login/second-factor", url.Values{"code": {f.code(secret)}}), "/bangui/jails")

	// An account without a factor, set up on its page.
	if err := f.app.SecondFactors.Reset(context.Background(), f.adminID()); err != nil {
		t.Fatal(err)
	}
	assertRedirect(t, b.postForm("/bangui/account/totp/start", "/bangui/account/totp", nil), "/bangui/account/totp")
	if src, _ := parse(t, b.get("/bangui/account/totp")).Find(`img[data-testid="totp-qr"]`).Attr("src"); src != "/bangui/account/totp/qr.png" {
		t.Fatalf("QR image at %q", src)
	}
	secret = b.enrolFromPage("/bangui/account/totp")
	f.tick(30 * time.Second)
	rec := b.postForm("/bangui/account/totp/confirm", "/bangui/account/totp", url.Values{"code": {f.code(secret)}})
	if href, _ := parse(t, rec).Find(`[data-testid="recovery-continue"]`).Attr("href"); rec.Code != http.StatusOK || href != "/bangui/account/totp" {
		t.Fatalf("confirm below the base path: %d, continue to %q", rec.Code, href)
	}
}

// TestNewPasswordEndsTheWaitingLogin: a right password starts the login
// afresh, dropping one that waited for its second factor.
func TestNewPasswordEndsTheWaitingLogin(t *testing.T) {
	f, b := newFactorApp(t)
	f.enrolAdmin()
	assertRedirect(t, b.postForm("/login", "/login", url.Values{"username": {testAdmin}, "password": {goodPassword}, "next": {"/jails"}}), "/login/second-factor")
	// Meanwhile the factor is reset: the next password logs in at once,
	// and the old waiting login is gone.
	if err := f.app.SecondFactors.Reset(context.Background(), f.adminID()); err != nil {
		t.Fatal(err)
	}
	assertRedirect(t, b.login(goodPassword), "/")
	assertRedirect(t, b.get("/login/second-factor"), "/login")
}
