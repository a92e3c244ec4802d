package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"bangui/models"
	"bangui/repo"
)

// flowPasskeys adds a passkey on the account page, logs out, logs in with
// the passkey alone, then with the password and the passkey as second
// factor, and removes it again — in real Chromium with its virtual
// authenticator (CDP WebAuthn domain: CTAP2, resident keys, user
// verification), through nginx on /bangui/.
//
// It runs in a browser of its own at the panel's public URL,
// https://localhost:<port>/bangui/ (--public-url): an IP address such as
// the other flows' 127.0.0.1 cannot be a WebAuthn relying party.
func (st *stack) flowPasskeys(t *testing.T, d device, password string) {
	pub := *st.apps[d.name]
	pub.origin = fmt.Sprintf("https://localhost:%d", pub.proxyPort)
	pub.base = pub.origin + basePath
	ensureAdminAccount(t, pub.dataDir)
	b := st.newBrowserFor(t, d, &pub)
	authenticator := addVirtualAuthenticator(t, b)

	// Log in with the password at the public address.
	b.visit(t, "/login")
	passwordStep(t, b, password)
	b.wantPath(t, basePath+"/")

	// Add a passkey.
	b.visit(t, "/account/passkeys")
	if n := eval[int](t, b, `document.querySelectorAll('[data-testid="passkeys-empty"]').length`); n != 1 {
		t.Fatalf("%s: /account/passkeys before adding one: %q", d.name, b.text(t, "main"))
	}
	name := "E2E " + d.name
	b.typeInto(t, "#passkey-name", name)
	b.do(t, b.press(button("Add a passkey")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="passkey-row"]`)))
	b.wantPath(t, basePath+"/account/passkeys")
	if row := b.text(t, `[data-testid="passkey-row"]`); !strings.Contains(row, name) {
		t.Errorf("%s: passkey row = %q, want %q", d.name, row, name)
	}
	if msg := b.text(t, ".flash--success"); !strings.Contains(msg, name) {
		t.Errorf("%s: flash after adding = %q", d.name, msg)
	}
	b.check(t, "passkeys-added")
	if creds := authenticatorCredentials(t, b, authenticator); len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
		t.Fatalf("%s: the authenticator holds %+v, want one discoverable credential for localhost", d.name, creds)
	}

	// Log out, then log in with the passkey alone.
	passkeyLogout(t, b)
	b.do(t, b.press(button("Sign in with a passkey")), chromedp.WaitVisible(chromedp.CSS("h1#page-title")))
	b.wantPath(t, basePath+"/")
	if h1 := b.text(t, "h1#page-title"); h1 != "Dashboard" {
		t.Errorf("%s: after the passkey login, title = %q", d.name, h1)
	}
	b.check(t, "passkey-login")

	// The password alone is no longer enough: the passkey is the second factor.
	passkeyLogout(t, b)
	passwordStep(t, b, password)
	b.wantPath(t, basePath+"/login/second-factor")
	b.check(t, "passkey-second-factor")
	b.do(t, b.press(button("Use a passkey")), chromedp.WaitVisible(chromedp.CSS("h1#page-title")))
	b.wantPath(t, basePath+"/")

	// Remove it (after a confirmation); the password alone logs in again.
	b.visit(t, "/account/passkeys")
	b.do(t, b.press(fmt.Sprintf(`//button[@aria-label=%q]`, "Remove passkey "+name)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="passkeys-empty"]`)))
	if msg := b.dialogs.last(); !strings.Contains(msg, name) {
		t.Errorf("%s: confirmation = %q, want it to name the passkey", d.name, msg)
	}
	b.check(t, "passkeys-removed")
	passkeyLogout(t, b)
	passwordStep(t, b, password)
	b.wantPath(t, basePath+"/")
	passkeyLogout(t, b)
}

// passwordStep submits the login form of the account "admin" (whose user
// name the form asks for once there are accounts).
func passwordStep(t *testing.T, b *browser, password string) {
	t.Helper()
	if eval[bool](t, b, `!!document.getElementById("username")`) {
		b.typeInto(t, "#username", "admin")
	}
	b.typeInto(t, "#password", password)
	if status := b.follow(t, button("Log in")); status != 200 {
		t.Fatalf("%s: password step answered %d", b.dev.name, status)
	}
}

// passkeyLogout logs out through the navigation's button, once the
// dashboard's live stream is up (a stream still connecting would retry
// after the logout and get the login page instead).
func passkeyLogout(t *testing.T, b *browser) {
	t.Helper()
	b.visit(t, "/")
	b.waitJS(t, `document.querySelector("[data-testid=live-state]")?.textContent.trim() === "Live"`)
	b.openMenu(t)
	if status := b.follow(t, `#site-nav .logout-form button[type="submit"]`); status != 200 {
		t.Fatalf("%s: logout answered %d", b.dev.name, status)
	}
	b.wantPath(t, basePath+"/login")
}

// addVirtualAuthenticator gives the tab a platform authenticator that
// keeps discoverable credentials and verifies its user at once.
func addVirtualAuthenticator(t *testing.T, b *browser) webauthn.AuthenticatorID {
	t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("%s: WebAuthn.enable: %v", b.dev.name, err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("%s: WebAuthn.addVirtualAuthenticator: %v", b.dev.name, err)
	}
	return res.AuthenticatorID
}

// authenticatorCredentials returns the credentials the virtual
// authenticator holds.
func authenticatorCredentials(t *testing.T, b *browser, id webauthn.AuthenticatorID) []*webauthn.Credential {
	t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		t.Fatalf("%s: WebAuthn.getCredentials: %v", b.dev.name, err)
	}
	return res.Credentials
}

// ensureAdminAccount makes sure the panel's database has the account
// "admin", which the master password's session is.
func ensureAdminAccount(t *testing.T, dataDir string) {
	t.Helper()
	ctx := context.Background()
	db, err := repo.Open(ctx, repo.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users := repo.NewUserStore(db)
	switch _, err := users.ByName(ctx, "admin"); {
	case err == nil:
		return
	case !errors.Is(err, repo.ErrNotFound):
		t.Fatal(err)
	}
	if _, err := users.Create(ctx, models.User{Name: "admin", PasswordHash: "-", Role: models.RoleAdmin.String()}); err != nil {
		t.Fatal(err)
	}
}
