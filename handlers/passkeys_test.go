package handlers

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"

	"bangui/config"
	"bangui/models"
)

// The passkey ceremonies against a software authenticator: an ECDSA P-256
// key that answers the panel's options as a browser and a passkey would.

const passkeyOrigin = "https://panel.example"

var b64u = base64.RawURLEncoding

// softPasskey is a discoverable credential in a software authenticator.
type softPasskey struct {
	t      testing.TB
	key    *ecdsa.PrivateKey
	id     []byte
	handle []byte // the user handle it stores
	rpID   string
	origin string // the origin the "browser" reports
	count  uint32
}

func newSoftPasskey(t testing.TB) *softPasskey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &softPasskey{t: t, key: key, id: id, rpID: "panel.example", origin: passkeyOrigin}
}

func (k *softPasskey) authData(flags byte, attested bool) []byte {
	h := sha256.Sum256([]byte(k.rpID))
	ad := append(h[:], flags)
	ad = binary.BigEndian.AppendUint32(ad, k.count)
	if attested {
		cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1,
			-2: k.key.PublicKey.X.FillBytes(make([]byte, 32)), -3: k.key.PublicKey.Y.FillBytes(make([]byte, 32))})
		if err != nil {
			k.t.Fatal(err)
		}
		ad = append(ad, make([]byte, 16)...) // AAGUID
		ad = binary.BigEndian.AppendUint16(ad, uint16(len(k.id)))
		ad = append(append(ad, k.id...), cose...)
	}
	return ad
}

func (k *softPasskey) clientData(typ string, options []byte) []byte {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil || o.PublicKey.Challenge == "" {
		k.t.Fatalf("options %s: %v", options, err)
	}
	if o.PublicKey.User.ID != "" {
		h, err := b64u.DecodeString(o.PublicKey.User.ID)
		if err != nil {
			k.t.Fatal(err)
		}
		k.handle = h
	}
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": o.PublicKey.Challenge, "origin": k.origin, "crossOrigin": false})
	return b
}

// create answers creation options as navigator.credentials.create would.
func (k *softPasskey) create(options []byte) string {
	cd := k.clientData("webauthn.create", options)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(0x45, true)})
	if err != nil {
		k.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64u.EncodeToString(k.id), "rawId": b64u.EncodeToString(k.id), "type": "public-key",
		"clientExtensionResults": map[string]any{"credProps": map[string]any{"rk": true}},
		"response": map[string]any{"clientDataJSON": b64u.EncodeToString(cd), "attestationObject": b64u.EncodeToString(att),
			"transports": []string{"internal", "hybrid"}},
	})
	return string(b)
}

// get answers request options as navigator.credentials.get would, with
// the user verified.
func (k *softPasskey) get(options []byte) string {
	k.count++
	cd := k.clientData("webauthn.get", options)
	ad := k.authData(0x05, false)
	sum := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64u.EncodeToString(k.id), "rawId": b64u.EncodeToString(k.id), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64u.EncodeToString(cd), "authenticatorData": b64u.EncodeToString(ad),
			"signature": b64u.EncodeToString(sig), "userHandle": b64u.EncodeToString(k.handle)},
	})
	return string(b)
}

// of returns the entries with action, oldest first.
func (a *auditTrail) of(action models.AuditAction) []models.AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []models.AuditEntry
	for _, e := range a.entries {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// identityOfBrowser is who the browser's session is logged in as.
func (a *testApp) identityOfBrowser(b *browser) models.Identity {
	a.t.Helper()
	c, ok := b.cookies[cookieName]
	if !ok {
		return models.Identity{}
	}
	ctx, err := a.s.sm.Load(context.Background(), c.Value)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.s.sessionIdentity(ctx)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func withPublicURL(u string) appOption {
	return func(c *config.Config) { c.PublicURL, _ = config.ParsePublicURL(u, c.BasePath) }
}

// passkeyBegin posts a ceremony's begin request and returns its options.
func (b *browser) passkeyBegin(path, tokenFrom string, body string) (*httptest.ResponseRecorder, []byte) {
	b.app.t.Helper()
	tok := b.csrfFrom(tokenFrom)
	req := httptest.NewRequest("POST", passkeyOrigin+path, strings.NewReader(body))
	req.RemoteAddr = b.peer
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", tok)
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.app.e.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		b.cookies[c.Name] = c
	}
	return rec, rec.Body.Bytes()
}

// passkeyFinish posts the browser's answer as passkeys.js does.
func (b *browser) passkeyFinish(path, tokenFrom, credential string, extra url.Values) *httptest.ResponseRecorder {
	b.app.t.Helper()
	form := url.Values{"credential": {credential}}
	for k, v := range extra {
		form[k] = v
	}
	return b.postForm(passkeyOrigin+path, tokenFrom, form)
}

// addPasskey logs a browser in with the password and adds a passkey named
// name to the account "admin".
func addPasskey(t *testing.T, a *testApp, name string) (*browser, *softPasskey) {
	t.Helper()
	const account = passkeyOrigin + "/account/passkeys"
	b := a.browser()
	assertRedirect(t, b.login(goodPassword), "/")
	key := newSoftPasskey(t)
	_, opts := b.passkeyBegin("/account/passkeys/begin", account, `{"name":"`+name+`"}`)
	assertRedirect(t, b.passkeyFinish("/account/passkeys/finish", account, key.create(opts), nil), "/account/passkeys")
	return b, key
}

func newPasskeyApp(t *testing.T) (*testApp, *auditTrail, int64) {
	a := newTestApp(t, t.TempDir(), withPublicURL(passkeyOrigin))
	spy := &auditTrail{}
	a.s.auditLog = spy
	a.browser().completeSetup()
	u, err := a.app.Users.ByName(context.Background(), testAdmin)
	if err != nil {
		t.Fatal(err)
	}
	return a, spy, u.ID
}

func TestPasskeyRegisterLoginSecondFactorRemove(t *testing.T) {
	a, spy, adminID := newPasskeyApp(t)
	const account = passkeyOrigin + "/account/passkeys"

	b := a.browser()
	assertRedirect(t, b.login(goodPassword), "/") // no passkey yet: the password is enough
	doc := parse(t, b.get(account))
	if doc.Find(`[data-testid="passkeys-empty"]`).Length() != 1 || doc.Find(`form[data-passkey="register"]`).Length() != 1 {
		t.Fatalf("account passkeys before adding: %s", doc.Find("#passkeys").Text())
	}

	// Bad names are refused before any ceremony.
	for _, name := range []string{`{"name":"  "}`, `{"name":"` + strings.Repeat("x", 65) + `"}`, `{"name":"a\nb"}`, `not json`} {
		if rec, _ := b.passkeyBegin("/account/passkeys/begin", account, name); rec.Code < 400 || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("begin with %q: %d %s", name, rec.Code, rec.Body)
		}
	}

	// Register.
	key := newSoftPasskey(t)
	rec, opts := b.passkeyBegin("/account/passkeys/begin", account, `{"name":"Laptop"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("register begin: %d %s", rec.Code, rec.Body)
	}
	var creation struct {
		PublicKey struct {
			RP                     struct{ ID string }
			AuthenticatorSelection struct {
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &creation); err != nil || creation.PublicKey.RP.ID != "panel.example" ||
		creation.PublicKey.AuthenticatorSelection.ResidentKey != "required" || creation.PublicKey.AuthenticatorSelection.UserVerification != "required" {
		t.Fatalf("creation options: %s", opts)
	}
	answer := key.create(opts)
	assertRedirect(t, b.passkeyFinish("/account/passkeys/finish", account, answer, nil), "/account/passkeys")
	doc = parse(t, b.get(account))
	if rows := doc.Find(`[data-testid="passkey-row"]`); rows.Length() != 1 || !strings.Contains(rows.Text(), "Laptop") {
		t.Fatalf("passkeys after adding: %q", doc.Find("#passkeys").Text())
	}
	if !strings.Contains(doc.Find(".flash--success").Text(), "Laptop") {
		t.Errorf("no success message: %q", doc.Find("#flash").Text())
	}
	if got := spy.of(models.AuditFactorChange); len(got) != 1 || got[0].Target != "admin" || !strings.Contains(got[0].Detail, "passkey added: Laptop") {
		t.Fatalf("audit after adding: %+v", got)
	}
	// The same answer again: the challenge was used.
	b.passkeyFinish("/account/passkeys/finish", account, answer, nil)
	if doc := parse(t, b.get(account)); doc.Find(`[data-testid="passkey-row"]`).Length() != 1 ||
		!strings.Contains(doc.Find(".flash--error").Text(), "No passkey request") {
		t.Fatalf("replayed registration: %q", doc.Find("main").Text())
	}

	// Log in with the passkey alone, in a fresh browser.
	anon := a.browser()
	login := passkeyOrigin + "/login"
	if parse(t, anon.get(login)).Find(`form[data-passkey="login"]`).Length() != 1 {
		t.Fatal("the login page has no passkey button")
	}
	rec, opts = anon.passkeyBegin("/login/passkey/begin", login, `{}`)
	if rec.Code != http.StatusOK || !strings.Contains(string(opts), `"userVerification":"required"`) || strings.Contains(string(opts), "allowCredentials") {
		t.Fatalf("login begin: %d %s", rec.Code, opts)
	}
	answer = key.get(opts)
	assertRedirect(t, anon.passkeyFinish("/login/passkey/finish", login, answer, url.Values{"next": {"/jails"}}), "/jails")
	if id := a.identityOfBrowser(anon); id.UserID != adminID || id.Name != "admin" || id.Role != models.RoleAdmin {
		t.Fatalf("logged in as %+v", id)
	}
	// A replay of that answer does not log anyone in.
	thief := a.browser()
	thief.peer = "192.0.2.20:40000" // each attacker has its own throttle
	thief.passkeyBegin("/login/passkey/begin", login, `{}`)
	if rec := thief.passkeyFinish("/login/passkey/finish", login, answer, nil); rec.Code != http.StatusUnauthorized ||
		!strings.Contains(parse(t, rec).Find("#login-error").Text(), "not accepted") {
		t.Fatalf("replayed login answer: %d %s", rec.Code, rec.Body)
	}
	if a.identityOfBrowser(thief).LoggedIn() {
		t.Fatal("a replayed answer logged in")
	}

	// Another origin (a phishing proxy) is refused.
	phish := a.browser()
	phish.peer = "192.0.2.21:40000"
	_, opts = phish.passkeyBegin("/login/passkey/begin", login, `{}`)
	key.origin = "https://panel.example.evil"
	rec = phish.passkeyFinish("/login/passkey/finish", login, key.get(opts), nil)
	key.origin = passkeyOrigin
	if msg := parse(t, rec).Find("#login-error").Text(); rec.Code != http.StatusUnauthorized ||
		!strings.Contains(msg, "origin") || a.identityOfBrowser(phish).LoggedIn() {
		t.Fatalf("answer from another origin: %d %q", rec.Code, msg)
	}
	if got := spy.of(models.AuditLoginFailed); len(got) != 2 {
		t.Fatalf("failed passkey logins audited: %+v", got)
	}

	// With a passkey, the password alone is not enough.
	two := a.browser()
	assertRedirect(t, two.postForm(login, login, url.Values{"username": {testAdmin}, "password": {goodPassword}, "next": {"/history"}}), "/login/second-factor")
	if a.identityOfBrowser(two).LoggedIn() {
		t.Fatal("logged in before the second factor")
	}
	step := passkeyOrigin + "/login/second-factor"
	if parse(t, two.get(step)).Find(`form[data-passkey="second-factor"]`).Length() != 1 {
		t.Fatal("no passkey button on the second-factor page")
	}
	rec, opts = two.passkeyBegin("/login/second-factor/passkey/begin", step, `{}`)
	if rec.Code != http.StatusOK || !strings.Contains(string(opts), b64u.EncodeToString(key.id)) {
		t.Fatalf("second factor begin: %d %s", rec.Code, opts)
	}
	assertRedirect(t, two.passkeyFinish("/login/second-factor/passkey/finish", step, key.get(opts), nil), "/history")
	if id := a.identityOfBrowser(two); id.UserID != adminID || id.Name != "admin" || id.Role != models.RoleAdmin {
		t.Fatalf("after the second factor: %+v", id)
	}
	// The waiting login is used up.
	assertRedirect(t, two.get(step), "/login")

	// A key whose counter goes back is refused as a copy.
	clone := a.browser()
	clone.peer = "192.0.2.22:40000"
	_, opts = clone.passkeyBegin("/login/passkey/begin", login, `{}`)
	key.count = 0
	rec = clone.passkeyFinish("/login/passkey/finish", login, key.get(opts), nil)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "copy") {
		t.Fatalf("cloned key: %d %s", rec.Code, rec.Body)
	}

	// Remove it: someone else's id is not found, the owner's goes.
	list, _ := a.app.Passkeys.List(context.Background(), adminID)
	if len(list) != 1 || list[0].LastUsedAt == 0 || !list[0].CloneWarning {
		t.Fatalf("stored passkey: %+v", list)
	}
	del := passkeyOrigin + "/account/passkeys/" + itoa(list[0].ID) + "/delete"
	if rec := b.postForm(passkeyOrigin+"/account/passkeys/999/delete", account, nil); rec.Code != http.StatusNotFound {
		t.Fatalf("delete an unknown passkey: %d", rec.Code)
	}
	assertRedirect(t, b.postForm(del, account, nil), "/account/passkeys")
	if got := spy.of(models.AuditFactorChange); len(got) != 2 || !strings.Contains(got[1].Detail, "passkey removed: Laptop") {
		t.Fatalf("audit after removing: %+v", got)
	}
	assertRedirect(t, a.browser().postForm(login, login, url.Values{"username": {testAdmin}, "password": {goodPassword}}), "/")
}

func TestPasskeyLoginOfADisabledAccount(t *testing.T) {
	a, _, adminID := newPasskeyApp(t)
	_, key := addPasskey(t, a, "Key")
	if err := a.app.Users.SetDisabled(context.Background(), adminID, true); err != nil {
		t.Fatal(err)
	}
	anon := a.browser()
	_, opts := anon.passkeyBegin("/login/passkey/begin", passkeyOrigin+"/login", `{}`)
	rec := anon.passkeyFinish("/login/passkey/finish", passkeyOrigin+"/login", key.get(opts), nil)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "disabled") || a.identityOfBrowser(anon).LoggedIn() {
		t.Fatalf("disabled account: %d %s", rec.Code, rec.Body)
	}
}

func TestPasskeyCeremoniesNeedTheirAddress(t *testing.T) {
	a, _, _ := newPasskeyApp(t)
	b := a.browser()
	assertRedirect(t, b.login(goodPassword), "/")
	// The panel opened by another address than --public-url points there.
	doc := parse(t, b.get("/account/passkeys"))
	if doc.Find(`form[data-passkey="register"]`).Length() != 0 || doc.Find(`a[href="https://panel.example/"]`).Length() != 1 {
		t.Fatalf("passkeys at another address: %s", doc.Find("#passkeys").Text())
	}
	rec := b.do("POST", "/login/passkey/begin", nil, map[string]string{"X-CSRF-Token": b.csrfFrom("/account/passkeys"), "Content-Type": "application/json"})
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "https://panel.example/") {
		t.Fatalf("begin at another address: %d %s", rec.Code, rec.Body)
	}
	// Without the CSRF token nothing starts.
	if rec := a.browser().do("POST", passkeyOrigin+"/login/passkey/begin", nil, map[string]string{"Content-Type": "application/json"}); rec.Code != http.StatusForbidden {
		t.Fatalf("begin without CSRF token: %d", rec.Code)
	}
	// Anonymous visitors cannot manage passkeys.
	assertRedirect(t, a.browser().get(passkeyOrigin+"/account/passkeys"), "/login?next=%2Faccount%2Fpasskeys")
}

func TestPasskeyOriginFromRequest(t *testing.T) {
	a := newTestApp(t, t.TempDir(), withBasePath("/bangui/"))
	for _, tc := range []struct {
		peer, target string
		hdr          map[string]string
		want         string
	}{
		{"192.0.2.1:1", "http://panel.example/bangui/login", nil, "http://panel.example"},
		{"192.0.2.1:1", "https://panel.example:443/bangui/login", nil, "https://panel.example"},
		// A trusted proxy's forwarded host and scheme count …
		{"127.0.0.1:1", "http://127.0.0.1:8080/bangui/login", map[string]string{"X-Forwarded-Host": "Panel.Example:8443", "X-Forwarded-Proto": "https"}, "https://panel.example:8443"},
		// … anyone else's do not.
		{"192.0.2.1:1", "http://127.0.0.1:8080/bangui/login", map[string]string{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}, "http://127.0.0.1:8080"},
	} {
		req := httptest.NewRequest("GET", tc.target, nil)
		req.RemoteAddr = tc.peer
		for k, v := range tc.hdr {
			req.Header.Set(k, v)
		}
		c := a.e.NewContext(req, httptest.NewRecorder())
		if got := a.s.passkeyOrigin(c); got != tc.want {
			t.Errorf("%s from %s %v: origin %q, want %q", tc.target, tc.peer, tc.hdr, got, tc.want)
		}
	}
	// An IP address cannot be a relying party.
	req := httptest.NewRequest("GET", "http://192.0.2.5/bangui/login", nil)
	if o := a.s.passkeyOffer(a.e.NewContext(req, httptest.NewRecorder())); o.Here || o.Reason == "" {
		t.Errorf("offer at an IP address: %+v", o)
	}
}

func TestPasskeyCeremonyExpires(t *testing.T) {
	a, _, _ := newPasskeyApp(t)
	_, key := addPasskey(t, a, "Key")

	clock := time.Now()
	a.s.now = func() time.Time { return clock }
	login := passkeyOrigin + "/login"
	anon := a.browser()
	_, opts := anon.passkeyBegin("/login/passkey/begin", login, `{}`)
	answer := key.get(opts)
	clock = clock.Add(passkeyTimeout + time.Second)
	rec := anon.passkeyFinish("/login/passkey/finish", login, answer, nil)
	if msg := parse(t, rec).Find("#login-error").Text(); rec.Code != http.StatusConflict || !strings.Contains(msg, "took too long") || a.identityOfBrowser(anon).LoggedIn() {
		t.Fatalf("late answer: %d %q", rec.Code, msg)
	}

	// The password step waits as long for its passkey.
	two := a.browser()
	assertRedirect(t, two.postForm(login, login, url.Values{"username": {testAdmin}, "password": {goodPassword}}), "/login/second-factor")
	clock = clock.Add(passkeyTimeout + time.Second)
	assertRedirect(t, two.get(passkeyOrigin+"/login/second-factor"), "/login")
	if msg := parse(t, two.get(login)).Find(".flash").Text(); !strings.Contains(msg, "took too long") {
		t.Errorf("after the waiting login expired: %q", msg)
	}
}

func TestPasskeysAccountSection(t *testing.T) {
	a, _, adminID := newPasskeyApp(t)
	u, err := a.app.Users.Get(context.Background(), adminID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.app.Passkeys.Add(context.Background(), models.Passkey{UserID: adminID, RPID: "old.example",
		CredentialID: []byte{7}, PublicKey: []byte{1}, AAGUID: []byte{}, Name: "Old laptop"}); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", passkeyOrigin+"/account", nil)
	c := a.e.NewContext(req, httptest.NewRecorder())
	comp, err := a.s.passkeysAccountSection(c, u)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := comp.Render(req.Context(), &sb); err != nil {
		t.Fatal(err)
	}
	// A passkey made for another host name is marked as such.
	if html := sb.String(); !strings.Contains(html, "Old laptop") || !strings.Contains(html, "for old.example") || !strings.Contains(html, `data-passkey="register"`) {
		t.Fatalf("account section: %s", html)
	}
}

// TestPasskeyLoginBeginsStoreLittle: a usernameless login keeps its
// challenge in a session, so visitors could add session rows; one address
// adds at most one per throttle wait, and each lives only passkeyTimeout.
func TestPasskeyLoginBeginsStoreLittle(t *testing.T) {
	a, _, _ := newPasskeyApp(t)
	count := func() int {
		n, err := a.db.NewSelect().Model((*models.Session)(nil)).Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	before := count()
	login := passkeyOrigin + "/login"
	refused := 0
	for i := 0; i < 20; i++ {
		rec, body := a.browser().passkeyBegin("/login/passkey/begin", login, `{}`)
		switch rec.Code {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			if !strings.Contains(string(body), "Too many passkey logins") {
				t.Fatalf("refusal: %s", body)
			}
			refused++
		default:
			t.Fatalf("begin %d: %d %s", i, rec.Code, body)
		}
	}
	if added := count() - before; added != 1 || refused != 19 {
		t.Fatalf("20 quick begins from one address: %d session rows added, %d refused; want 1 and 19", added, refused)
	}
	short, err := a.db.NewSelect().Model((*models.Session)(nil)).
		Where("expiry <= ?", time.Now().Add(passkeyTimeout+5*time.Second).Unix()).Count(context.Background())
	if err != nil || short != 1 {
		t.Fatalf("session rows that end within the ceremony's time: %d (%v), want the new one", short, err)
	}
}

// TestRequiredSecondFactorKeepsTheLastPasskey: while the admin requires a
// second factor, an account's only one cannot be removed.
func TestRequiredSecondFactorKeepsTheLastPasskey(t *testing.T) {
	a, _, adminID := newPasskeyApp(t)
	b, _ := addPasskey(t, a, "Only")
	const account = passkeyOrigin + "/account/passkeys"
	if err := a.app.SecondFactors.SetRequired(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	list, _ := a.app.Passkeys.List(context.Background(), adminID)
	del := passkeyOrigin + "/account/passkeys/" + itoa(list[0].ID) + "/delete"
	assertRedirect(t, b.postForm(del, account, nil), "/account/passkeys")
	doc := parse(t, b.get(account))
	if doc.Find(`[data-testid="passkey-row"]`).Length() != 1 || !strings.Contains(doc.Find(".flash--error").Text(), "requires a second factor") {
		t.Fatalf("the last passkey under the policy: %s", doc.Find("main").Text())
	}
	if err := a.app.SecondFactors.SetRequired(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	assertRedirect(t, b.postForm(del, account, nil), "/account/passkeys")
	if n, _ := a.app.Passkeys.Count(context.Background(), adminID); n != 0 {
		t.Fatalf("passkeys left: %d", n)
	}
}
