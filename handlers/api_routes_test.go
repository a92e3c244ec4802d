package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"bangui/models"
)

// apiRegisteredRoutes returns "METHOD /path" (OpenAPI's {param} syntax,
// below /api/v1) of every route Echo has under /api/v1, leaving out the
// catch-all that answers unknown paths.
func apiRegisteredRoutes(t *testing.T, a *testApp) []string {
	t.Helper()
	param := regexp.MustCompile(`:([a-z_]+)`)
	var out []string
	for _, r := range a.e.Routes() {
		p, ok := strings.CutPrefix(r.Path, a.cfg.BasePath+apiPrefix)
		if !ok || strings.HasSuffix(p, "*") || p == "" || !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, r.Method) {
			continue
		}
		out = append(out, r.Method+" "+param.ReplaceAllString(p, "{$1}"))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestAPIOpenAPIMatchesRoutes validates the OpenAPI document, served by
// the panel, and holds it to the routes: no undocumented route, no
// documented route missing, and each operation's x-bangui-scope is the
// scope of the route table.
func TestAPIOpenAPIMatchesRoutes(t *testing.T) {
	f := newAPIFixture(t)
	rec := f.call("GET", "/api/v1/openapi.json", "read", "")
	decode(t, rec, http.StatusOK, nil)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("servers: %+v", doc.Servers)
	}

	scopes := map[string]models.TokenScope{}
	for _, r := range f.a.s.apiRouteTable() {
		scopes[r.Method+" "+regexp.MustCompile(`:([a-z_]+)`).ReplaceAllString(r.Path, "{$1}")] = r.Scope
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			documented = append(documented, key)
			var scope string
			if raw, ok := op.Extensions["x-bangui-scope"]; ok {
				if b, err := json.Marshal(raw); err == nil {
					json.Unmarshal(b, &scope)
				}
			}
			if want, ok := scopes[key]; ok && scope != string(want) {
				t.Errorf("%s: documented scope %q, the route table says %q", key, scope, want)
			}
			if op.Responses.Value("401") == nil || op.Responses.Value("429") == nil {
				t.Errorf("%s: 401 or 429 not documented", key)
			}
		}
	}
	slices.Sort(documented)
	registered := apiRegisteredRoutes(t, f.a)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not documented", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("documented %s is not a route", d)
		}
	}
	if len(registered) != len(f.a.s.apiRouteTable()) {
		t.Errorf("%d routes registered, %d in the table: %v", len(registered), len(f.a.s.apiRouteTable()), registered)
	}

	// Behind a base path the document names the API's address there.
	b := newTestApp(t, t.TempDir(), withBasePath("/bangui"))
	var served struct{ Servers []struct{ URL string } }
	if err := json.Unmarshal(apiOpenAPIDoc, &served); err != nil || served.Servers[0].URL != "/api/v1" {
		t.Fatalf("embedded servers: %+v, %v", served, err)
	}
	if got := apiRegisteredRoutes(t, b); !slices.Equal(got, registered) {
		t.Fatalf("routes under /bangui: %v, want %v", got, registered)
	}
}

// TestAPIRouteMatrix walks every /api/v1 route of the route table with no
// token and with tokens of each scope (and admin-scoped tokens of a viewer
// and an operator, which act as their users' roles): each is allowed or
// refused as the route's scope says, so a future route is covered.
func TestAPIRouteMatrix(t *testing.T) {
	f := newAPIFixture(t)
	f.a.s.api.burst = 1000 // the matrix is many requests of one token
	subjects := []struct {
		token string
		role  models.Role
	}{
		{"read", models.RoleViewer}, {"operate", models.RoleOperator}, {"admin", models.RoleAdmin},
		{"viewer-admin", models.RoleViewer}, {"operator-admin", models.RoleOperator},
	}
	fill := strings.NewReplacer(":name", "sshd", ":ip", "192.0.2.1")
	for _, r := range f.a.s.apiRouteTable() {
		path := "/api/v1" + fill.Replace(r.Path)
		body := ""
		if r.Method == http.MethodPost {
			body = `{}`
		}
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			wantAPIError(t, apiCall(t, f.a, r.Method, path, "", body, nil), http.StatusUnauthorized, "token_missing")
			for _, sub := range subjects {
				rec := f.call(r.Method, path, sub.token, body)
				allowed := sub.role.Allows(r.Scope.Role())
				switch {
				case allowed && (rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized || rec.Code >= 500):
					t.Errorf("token %s (acts as %s): %d %s, want it allowed", sub.token, sub.role, rec.Code, rec.Body)
				case !allowed:
					wantAPIError(t, rec, http.StatusForbidden, "forbidden")
				}
			}
		})
	}
	if n := len(f.a.s.apiRouteTable()); n < 14 {
		t.Fatalf("only %d API routes walked", n)
	}
}

// TestAPIRequiresToken walks every route Echo has under /api/v1 (so a
// future one is covered) as the page walks of security_test.go do with
// sessions: before setup and after it, with no cookie, an unknown cookie,
// an anonymous session and a logged-in session with its CSRF token, but no
// bearer token, each answers 401 token_missing as JSON, with the security
// headers and no-store, and nothing in the database or the config
// directory changes. With a token, reading changes nothing either.
func TestAPIRequiresToken(t *testing.T) {
	a := newTestApp(t, t.TempDir(), withBasePath("/bangui/"))
	base := a.cfg.BasePath
	fill := strings.NewReplacer(":name", "sshd", ":ip", "192.0.2.1")
	type route struct{ method, target string }
	var routes []route
	for _, r := range a.e.Routes() {
		if strings.HasPrefix(r.Path, base+apiPrefix+"/") && r.Method != echo.RouteNotFound && !strings.HasSuffix(r.Path, "*") {
			routes = append(routes, route{r.Method, fill.Replace(r.Path)})
		}
	}
	if len(routes) != len(a.s.apiRouteTable()) {
		t.Fatalf("%d API routes registered, %d in the table", len(routes), len(a.s.apiRouteTable()))
	}
	refuseAll := func(when string, visitors map[string]*browser, hdr map[string]string) {
		t.Helper()
		for _, r := range routes {
			for name, b := range visitors {
				h := map[string]string{"Content-Type": "application/json"}
				for k, v := range hdr {
					h[k] = v
				}
				var form url.Values
				if r.method == http.MethodPost {
					form = url.Values{"target": {"203.0.113.5"}, "jail": {"sshd"}, "_csrf": {hdr["X-CSRF-Token"]}}
				}
				rec := b.do(r.method, r.target, form, h)
				what := when + ", " + r.method + " " + r.target + " with " + name
				wantAPIError(t, rec, http.StatusUnauthorized, "token_missing")
				if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("%s: Cache-Control %q", what, cc)
				}
				assertSecurityHeaders(t, what, rec)
			}
		}
	}
	refuseAll("before setup", map[string]*browser{"no cookie": a.browser()}, nil)

	admin := a.browser()
	admin.completeSetup()
	assertRedirect(t, admin.login(goodPassword), base+"/")
	csrf := admin.csrfFrom(base + "/")
	before := dbSnapshot(t, a)
	confBefore := dirHash(t, a.cfg.ConfigDir)
	forged := a.browser()
	forged.cookies[cookieName] = &http.Cookie{Name: cookieName, Value: "forged-token-that-was-never-issued"}
	anon := a.browser()
	anon.csrfFrom(base + "/login")
	refuseAll("after setup", map[string]*browser{"no cookie": a.browser(), "unknown cookie": forged, "anonymous session": anon, "logged-in session": admin},
		map[string]string{"X-CSRF-Token": csrf})
	if after := dbSnapshot(t, a); after != before {
		t.Errorf("requests without a token changed the database:\nbefore %s\nafter  %s", before, after)
	}
	if dirHash(t, a.cfg.ConfigDir) != confBefore {
		t.Error("requests without a token changed the fail2ban config directory")
	}

	// With a token every GET answers no-store with the security headers and
	// changes no row.
	u, err := a.s.users.Create(context.Background(), models.User{Name: "reader", PasswordHash: "x", Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	secret := newTokenSecret()
	if _, err := a.s.tokens.Create(context.Background(), models.APIToken{UserID: u, Name: "r", Scope: models.ScopeRead, Hash: tokenHash(secret)}); err != nil {
		t.Fatal(err)
	}
	before = dbSnapshot(t, a)
	for _, r := range routes {
		if r.method != http.MethodGet {
			continue
		}
		rec := apiCall(t, a, r.method, r.target, secret, "", nil)
		if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s with a read token: %d, Cache-Control %q", r.target, rec.Code, rec.Header().Get("Cache-Control"))
		}
		assertSecurityHeaders(t, "GET "+r.target+" with a token", rec)
	}
	if after := dbSnapshot(t, a); after != before {
		t.Errorf("GET requests with a token changed the database:\nbefore %s\nafter  %s", before, after)
	}
}

// TestAPIHostileInput sends every API route, with a token that may do
// everything, junk in its path parameters, its query and its body's
// fields: each answer is JSON (UTF-8) and a result or a refusal, never a
// 5xx.
func TestAPIHostileInput(t *testing.T) {
	f := newAPIFixture(t)
	f.a.s.api.burst = 100000
	values := []string{"", "\x00", "'", "\xff\xfe", "../../../etc/passwd", "-1", "99999999999999999999", "%", "*", "0.0.0.0/0", "::/0", strings.Repeat("x", 5000)}
	n := 0
	for _, r := range f.a.s.apiRouteTable() {
		for _, v := range values {
			pv := url.PathEscape(v)
			if pv == "" {
				pv = "x"
			}
			path := "/api/v1" + strings.NewReplacer(":name", pv, ":ip", pv).Replace(r.Path)
			var rec *httptest.ResponseRecorder
			if r.Method == http.MethodGet {
				q := url.Values{}
				for _, k := range []string{"jail", "ip", "page", "size", "range", "origin", "source"} {
					q.Set(k, v)
				}
				rec = f.call("GET", path+"?"+q.Encode(), "admin", "")
			} else {
				body := map[string]any{"target": v, "jail": v}
				switch {
				case strings.Contains(r.Path, "ignore"):
					body = map[string]any{"target": v}
				case strings.Contains(r.Path, "import"):
					id, _ := strconv.ParseInt(v, 10, 64)
					body = map[string]any{"source_id": id}
				}
				raw, _ := json.Marshal(body)
				rec = f.call("POST", path, "admin", string(raw))
			}
			n++
			if rec.Code >= 500 || !utf8.Valid(rec.Body.Bytes()) || !json.Valid(rec.Body.Bytes()) {
				t.Errorf("%s %s with %.20q: %d %.300s", r.Method, r.Path, v, rec.Code, rec.Body)
			}
		}
	}
	if n < 150 {
		t.Fatalf("only %d requests", n)
	}
	if got := bannedIPs(t, f.sb, "sshd"); len(got) != 0 {
		t.Errorf("junk banned %v", got)
	}
	f.a.s.blocklists.Wait()
}

// TestTokensOpenNoPage walks every page route with an admin's admin-scoped
// token and no session: a token is for the API only, so each page answers
// as to anyone not logged in (the login page) and nothing changes.
func TestTokensOpenNoPage(t *testing.T) {
	f := newAPIFixture(t)
	before := dbSnapshot(t, f.a)
	b := f.a.browser()
	b.headers["Authorization"] = "Bearer " + f.tokens["admin"]
	n := 0
	for _, r := range appRoutes(t, f.a) {
		if publicRoutes[r.key] {
			continue
		}
		n++
		rec := b.request(r, plausibleForm(), nil)
		if want := "/login?next=" + url.QueryEscape(r.target); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
			t.Errorf("%s with a token: %d location %q, want 303 to %s", r.key, rec.Code, rec.Header().Get("Location"), want)
		}
	}
	if n < 40 {
		t.Fatalf("only %d page routes walked", n)
	}
	if after := dbSnapshot(t, f.a); after != before {
		t.Errorf("page requests with a token changed the database:\nbefore %s\nafter  %s", before, after)
	}
}
