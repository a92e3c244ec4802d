package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"bangui/models"
)

// TestSecondFactorRequired: once the admin requires a second factor, an
// account without one sets it up right after its password, before any
// page opens, and cannot turn off its last one.
func TestSecondFactorRequired(t *testing.T) {
	f, b := newFactorApp(t)
	assertRedirect(t, b.login(goodPassword), "/")
	assertRedirect(t, b.postForm("/users/second-factor", "/", url.Values{"require": {"on"}}), "/users")
	if f.trail.count(models.AuditFactorChange, "second factor required for every account") != 1 {
		t.Fatal("the policy change was not audited")
	}
	if on, err := f.app.SecondFactors.Required(context.Background()); !on || err != nil {
		t.Fatalf("required after the form: %v, %v", on, err)
	}
	assertRedirect(t, b.postForm("/logout", "/", nil), "/login")

	assertRedirect(t, b.postForm("/login", "/login", url.Values{"username": {testAdmin}, "password": {goodPassword}, "next": {"/history"}}), "/login/second-factor")
	doc := parse(t, b.get("/login/second-factor"))
	if !strings.Contains(doc.Text(), "requires a second factor") || doc.Find(`form[data-testid="totp-start-form"]`).Length() != 1 ||
		doc.Find(`form[data-testid="totp-login-form"]`).Length() != 0 {
		t.Fatalf("second-factor page of an account that must set one up: %s", doc.Find("main").Text())
	}
	assertRedirect(t, b.get("/history"), "/login?next=%2Fhistory")
	assertRedirect(t, b.postForm("/login/second-factor/totp/start", "/login/second-factor", nil), "/login/second-factor")
	secret := b.enrolFromPage("/login/second-factor")
	assertRedirect(t, b.get("/history"), "/login?next=%2Fhistory") // still waiting

	rec := b.postForm("/login/second-factor/totp/confirm", "/login/second-factor", url.Values{"code": {wrongTOTP(f.code(secret))}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(secondFactorError(t, rec), "does not match") {
		t.Fatalf("wrong first code at login: %d %q", rec.Code, secondFactorError(t, rec))
	}
	f.tick(5 * time.Second)
	rec = b.postForm("/login/second-factor/totp/confirm", "/login/second-factor", url.Values{"code": {f.code(secret)}})
	codes := recoveryCodesOn(t, rec)
	if rec.Code != http.StatusOK || len(codes) != 10 {
		t.Fatalf("confirm at login: %d, %d codes", rec.Code, len(codes))
	}
	if next, _ := parse(t, rec).Find(`[data-testid="recovery-continue"]`).Attr("href"); next != "/history" {
		t.Fatalf("continue goes to %q, want /history", next)
	}
	if rec := b.get("/history"); rec.Code != http.StatusOK {
		t.Fatalf("after setting up the factor at login: %d", rec.Code)
	}
	// The download form of that page works in the now logged-in session.
	form := url.Values{"code": codes, "_csrf": {parse(t, rec).Find(`input[name="_csrf"]`).First().AttrOr("value", "")}}
	if dl := b.do("POST", "/account/totp/recovery-codes.txt", form, nil); dl.Code != http.StatusOK {
		t.Fatalf("download after login set-up: %d", dl.Code)
	}

	// The last factor of a required policy stays on.
	f.tick(30 * time.Second)
	rec = b.postForm("/account/totp/disable", "/account/totp", url.Values{"proof": {f.code(secret)}})
	if rec.Code != http.StatusConflict || !strings.Contains(secondFactorError(t, rec), "requires a second factor") {
		t.Fatalf("turning off the last factor while required: %d %q", rec.Code, secondFactorError(t, rec))
	}
	if st, _ := f.app.SecondFactors.Status(context.Background(), f.adminID()); !st.TOTP {
		t.Fatal("the factor went anyway")
	}
	// Next login asks for the code, not for a set-up.
	assertRedirect(t, b.postForm("/logout", "/", nil), "/login")
	assertRedirect(t, b.login(goodPassword), "/login/second-factor")
	assertRedirect(t, b.postForm("/login/second-factor/totp/start", "/login/second-factor", nil), "/login/second-factor")
	f.tick(30 * time.Second)
	assertRedirect(t, b.postForm("/login/second-factor", "/login/second-factor", url.Values{"code": {f.code(secret)}}), "/")
}

// TestTOTPAccountChanges: new recovery codes and turning the app off need
// a current code or the password; both are audited.
func TestTOTPAccountChanges(t *testing.T) {
	f, b := newFactorApp(t)
	secret := f.enrolAdmin()
	assertRedirect(t, b.login(goodPassword), "/login/second-factor")
	assertRedirect(t, b.postForm("/login/second-factor", "/login/second-factor", url.Values{"code": {f.code(secret)}}), "/")

	rec := b.postForm("/account/totp/recovery-codes", "/account/totp", url.Values{"proof": {"not it"}})
	if rec.Code != http.StatusUnauthorized || !strings.Contains(secondFactorError(t, rec), "neither") {
		t.Fatalf("new codes with a wrong proof: %d %q", rec.Code, secondFactorError(t, rec))
	}
	f.tick(30 * time.Second)
	rec = b.postForm("/account/totp/recovery-codes", "/account/totp", url.Values{"proof": {f.code(secret)}})
	codes := recoveryCodesOn(t, rec)
	if rec.Code != http.StatusOK || len(codes) != 10 {
		t.Fatalf("new codes with a current code: %d, %d codes", rec.Code, len(codes))
	}
	rec = b.postForm("/account/totp/recovery-codes", "/account/totp", url.Values{"proof": {goodPassword}})
	if again := recoveryCodesOn(t, rec); rec.Code != http.StatusOK || len(again) != 10 || again[0] == codes[0] {
		t.Fatalf("new codes with the password: %d, %v", rec.Code, again)
	}
	if n := f.trail.count(models.AuditFactorChange, "new recovery codes"); n != 2 {
		t.Fatalf("%d renewals audited, want 2", n)
	}

	rec = b.postForm("/account/totp/disable", "/account/totp", url.Values{"proof": {"wrong"}})
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("turn off with a wrong proof: %d", rec.Code)
	}
	f.tick(10 * time.Second)
	assertRedirect(t, b.postForm("/account/totp/disable", "/account/totp", url.Values{"proof": {goodPassword}}), "/account/totp")
	if f.trail.count(models.AuditFactorChange, "authenticator app turned off") != 1 {
		t.Fatal("turning off was not audited")
	}
	if st, _ := f.app.SecondFactors.Status(context.Background(), f.adminID()); st.TOTP || st.RecoveryCodes != 0 {
		t.Fatalf("after turning off: %+v", st)
	}
	// Confirming with nothing being set up starts again.
	assertRedirect(t, b.postForm("/account/totp/confirm", "/account/totp", url.Values{"code": {"123456"}}), "/account/totp")
	if msg := parse(t, b.get("/account/totp")).Find(".flash").Text(); !strings.Contains(msg, "Nothing was being set up") {
		t.Fatalf("after confirming nothing: %q", msg)
	}
	assertRedirect(t, b.postForm("/logout", "/", nil), "/login")
	assertRedirect(t, b.login(goodPassword), "/")
}

// TestAdminResetsFactors: an admin removes a user's second factors (lost
// phone), audited; the user logs in with the password alone afterwards.
func TestAdminResetsFactors(t *testing.T) {
	f, b := newFactorApp(t)
	assertRedirect(t, b.login(goodPassword), "/")
	ctx := context.Background()
	bob, err := f.app.Users.Create(ctx, models.User{Name: "bob", PasswordHash: "x", Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := f.app.SecondFactors.StartTOTP(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.SecondFactors.ConfirmTOTP(ctx, bob, f.code(secret), f.clock); err != nil {
		t.Fatal(err)
	}
	assertRedirect(t, b.postForm("/users/"+strconv.FormatInt(bob, 10)+"/factors/reset", "/", nil), "/users")
	if st, _ := f.app.SecondFactors.Status(ctx, bob); st.TOTP || st.RecoveryCodes != 0 {
		t.Fatalf("bob after the reset: %+v", st)
	}
	if f.trail.count(models.AuditFactorChange, "reset by an admin") != 1 {
		t.Fatal("the reset was not audited once")
	}
	for _, id := range []string{"999", "x", "-1"} {
		if rec := b.postForm("/users/"+id+"/factors/reset", "/", nil); rec.Code != http.StatusNotFound {
			t.Fatalf("reset of user %q: %d", id, rec.Code)
		}
	}
	// Without the CSRF token nothing happens.
	if rec := b.do("POST", "/users/"+strconv.FormatInt(bob, 10)+"/factors/reset", url.Values{}, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("reset without CSRF: %d", rec.Code)
	}
	// Anonymous: to the login page.
	anon := f.browser()
	assertRedirect(t, anon.do("POST", "/users/"+strconv.FormatInt(bob, 10)+"/factors/reset", url.Values{}, nil),
		"/login?next=%2Fusers%2F"+strconv.FormatInt(bob, 10)+"%2Ffactors%2Freset")
}

// adminID is the users row of the account "admin".
func (f *factorApp) adminID() int64 {
	f.t.Helper()
	u, err := f.app.Users.ByName(context.Background(), "admin")
	if err != nil {
		f.t.Fatal(err)
	}
	return u.ID
}
