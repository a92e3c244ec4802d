package handlers

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban/sandbox"
	"bangui/models"
)

// apiFixture is a panel on a real fail2ban sandbox with one user of each
// role and tokens of every scope.
type apiFixture struct {
	t     *testing.T
	a     *testApp
	sb    *sandbox.Sandbox
	users map[models.Role]models.User
	// tokens by name: "read", "operate", "admin" belong to the admin user;
	// "viewer-admin" and "operator-admin" are admin-scoped tokens of the
	// viewer and the operator.
	tokens map[string]string
	ids    map[string]int64
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	a, _, sb := loggedInWithFail2ban(t)
	f := &apiFixture{t: t, a: a, sb: sb, users: map[models.Role]models.User{}, tokens: map[string]string{}, ids: map[string]int64{}}
	for _, r := range models.Roles {
		f.users[r] = f.addUser("user-"+r.String(), r)
	}
	for _, sc := range models.TokenScopes {
		f.mint(string(sc), f.users[models.RoleAdmin], sc, nil)
	}
	f.mint("viewer-admin", f.users[models.RoleViewer], models.ScopeAdmin, nil)
	f.mint("operator-admin", f.users[models.RoleOperator], models.ScopeAdmin, nil)
	return f
}

// addUser stores a user of role r.
func (f *apiFixture) addUser(name string, r models.Role) models.User {
	f.t.Helper()
	u := models.User{Name: name, PasswordHash: "x", Role: r.String()}
	id, err := f.a.s.users.Create(context.Background(), u)
	if err != nil {
		f.t.Fatal(err)
	}
	u.ID = id
	return u
}

// mint stores a token of u under name and returns its text.
func (f *apiFixture) mint(name string, u models.User, sc models.TokenScope, expires *int64) string {
	f.t.Helper()
	secret := newTokenSecret()
	id, err := f.a.s.tokens.Create(context.Background(), models.APIToken{UserID: u.ID, Name: name, Scope: sc, Hash: tokenHash(secret), ExpiresAt: expires})
	if err != nil {
		f.t.Fatal(err)
	}
	f.tokens[name], f.ids[name] = secret, id
	return secret
}

// apiCall sends one request to the panel: with token (when not "") as a
// bearer token and body (when not "") as JSON, unless hdr says otherwise.
func apiCall(t testing.TB, a *testApp, method, target, token, body string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	req.RemoteAddr = "192.0.2.20:50000"
	if token != "" {
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	}
	if body != "" {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

// call is apiCall with one of the fixture's tokens by name.
func (f *apiFixture) call(method, path, token, body string) *httptest.ResponseRecorder {
	f.t.Helper()
	return apiCall(f.t, f.a, method, path, f.tokens[token], body, nil)
}

// decode decodes a JSON answer of status want into v.
func decode(t testing.TB, rec *httptest.ResponseRecorder, want int, v any) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status %d, want %d; body %s", rec.Code, want, rec.Body)
	}
	if ct := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		t.Fatalf("content type %q, want JSON; body %s", ct, rec.Body)
	}
	if v != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			t.Fatalf("decode %s: %v", rec.Body, err)
		}
	}
}

// wantAPIError checks that an answer is the API's JSON error with status
// and code.
func wantAPIError(t testing.TB, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	var body struct {
		Error struct{ Code, Message string }
	}
	decode(t, rec, status, &body)
	if body.Error.Code != code || body.Error.Message == "" {
		t.Fatalf("error %+v, want code %q with a message; body %s", body.Error, code, rec.Body)
	}
}

// loginAs returns a browser whose session is logged in as u, through a
// route this test adds (the login form is the accounts' business).
func loginAs(t testing.TB, a *testApp, u models.User) *browser {
	t.Helper()
	a.e.GET("/_test/login-as", func(c echo.Context) error {
		ctx := c.Request().Context()
		if err := a.s.sm.RenewToken(ctx); err != nil {
			return err
		}
		user, err := a.s.users.ByName(ctx, c.QueryParam("name"))
		if err != nil {
			return err
		}
		a.s.logIn(ctx, user.Identity())
		return c.NoContent(http.StatusNoContent)
	}, a.s.loadSession)
	b := a.browser()
	if rec := b.get("/_test/login-as?name=" + u.Name); rec.Code != http.StatusNoContent {
		t.Fatalf("log in as %s: %d %s", u.Name, rec.Code, rec.Body)
	}
	return b
}
