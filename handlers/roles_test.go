package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"bangui/models"
)

// routeRoleTable is the declared role of every route the panel serves:
// what the role matrix expects. A route added without a line here fails
// TestRoleMatrix, and so does a route whose declaration in the route table
// differs from this line.
var routeRoleTable = map[string]models.Role{
	"GET /assets/*": models.RoleNone,
	"GET /healthz":  models.RoleNone,
	"GET /readyz":   models.RoleNone,

	"GET /setup":          models.RoleNone,
	"POST /setup":         models.RoleNone,
	"POST /setup/probe":   models.RoleNone,
	"GET /login":          models.RoleNone,
	"POST /login":         models.RoleNone,
	"POST /logout":        models.RoleViewer,
	"GET /":               models.RoleViewer,
	"GET /status":         models.RoleViewer,
	"GET /events":         models.RoleViewer,
	"GET /history":        models.RoleViewer,
	"GET /history.csv":    models.RoleViewer,
	"GET /history/:ip":    models.RoleViewer,
	"GET /jails":          models.RoleViewer,
	"GET /jails/:name":    models.RoleViewer,
	"GET /map":            models.RoleViewer,
	"GET /account":        models.RoleViewer,
	"GET /blocklists":     models.RoleViewer,
	"POST /ignore":        models.RoleOperator,
	"POST /jails/ban":     models.RoleOperator,
	"POST /jails/unban":   models.RoleOperator,
	"POST /map/reresolve": models.RoleOperator,

	"POST /account/password":         models.RoleViewer,
	"POST /account/sessions/end":     models.RoleViewer,
	"POST /account/sessions/end-all": models.RoleViewer,
	"POST /account/language":         models.RoleViewer,

	"POST /jails/unban-all":                models.RoleOperator,
	"POST /jails/:name/ignore":             models.RoleOperator,
	"POST /jails/:name/ignore/delete":      models.RoleOperator,
	"POST /jails/:name/ignoreself":         models.RoleOperator,
	"POST /jails/reload":                   models.RoleAdmin,
	"POST /jails/:name/:action":            models.RoleAdmin,
	"GET /blocklists/progress":             models.RoleViewer,
	"GET /blocklists/jail":                 models.RoleViewer,
	"GET /blocklists/sources/:id":          models.RoleViewer,
	"GET /blocklists/sources/:id/preview":  models.RoleViewer,
	"POST /blocklists/import":              models.RoleOperator,
	"POST /blocklists/jail":                models.RoleAdmin,
	"POST /blocklists/schedule":            models.RoleAdmin,
	"POST /blocklists/sources":             models.RoleAdmin,
	"POST /blocklists/sources/:id":         models.RoleAdmin,
	"POST /blocklists/sources/:id/enabled": models.RoleAdmin,
	"POST /blocklists/sources/:id/delete":  models.RoleAdmin,
	"POST /map/thresholds":                 models.RoleAdmin,
	// Bulk actions: asking and running are an operator's; a CSV of the
	// selection is a viewer's, like the history's export.
	"POST /bulk/confirm":             models.RoleOperator,
	"POST /bulk/run":                 models.RoleOperator,
	"POST /bulk/export":              models.RoleViewer,
	"GET /bulk/jobs/:id":             models.RoleOperator,
	"GET /bulk/jobs/:id/results.csv": models.RoleOperator,

	"GET /config":                         models.RoleAdmin,
	"POST /config/jails":                  models.RoleAdmin,
	"GET /config/jails/:name":             models.RoleAdmin,
	"POST /config/jails/:name":            models.RoleAdmin,
	"POST /config/jails/:name/activate":   models.RoleAdmin,
	"POST /config/jails/:name/deactivate": models.RoleAdmin,
	"GET /config/filters":                 models.RoleAdmin,
	"POST /config/filters":                models.RoleAdmin,
	"GET /config/filters/:name":           models.RoleAdmin,
	"POST /config/filters/:name":          models.RoleAdmin,
	"GET /config/actions":                 models.RoleAdmin,
	"POST /config/actions":                models.RoleAdmin,
	"GET /config/actions/:name":           models.RoleAdmin,
	"POST /config/actions/:name":          models.RoleAdmin,
	"GET /config/raw":                     models.RoleAdmin,
	"POST /config/raw":                    models.RoleAdmin,
	"GET /config/server":                  models.RoleAdmin,
	"POST /config/server":                 models.RoleAdmin,
	"POST /config/server/flush":           models.RoleAdmin,
	"POST /config/server/reload":          models.RoleAdmin,
	"POST /config/server/restart":         models.RoleAdmin,
	"GET /config/regex":                   models.RoleAdmin,
	"POST /config/regex":                  models.RoleAdmin,
	"GET /config/log":                     models.RoleAdmin,
	"GET /config/log/lines":               models.RoleAdmin,

	"GET /hosts":                    models.RoleAdmin,
	"GET /hosts/probe":              models.RoleAdmin,
	"POST /hosts/probe":             models.RoleAdmin,
	"POST /hosts":                   models.RoleAdmin,
	"POST /hosts/:id/name":          models.RoleAdmin,
	"POST /hosts/:id/enabled":       models.RoleAdmin,
	"POST /hosts/:id/delete":        models.RoleAdmin,
	"POST /hosts/:id/fingerprint":   models.RoleAdmin,
	"GET /users":                    models.RoleAdmin,
	"POST /users":                   models.RoleAdmin,
	"POST /users/:id/role":          models.RoleAdmin,
	"POST /users/:id/enabled":       models.RoleAdmin,
	"POST /users/:id/password":      models.RoleAdmin,
	"POST /users/:id/delete":        models.RoleAdmin,
	"GET /audit":                    models.RoleViewer,
	"GET /audit.csv":                models.RoleViewer,
	"POST /audit/retention":         models.RoleAdmin,
	"GET /alerts/rules":             models.RoleAdmin,
	"POST /alerts/rules":            models.RoleAdmin,
	"POST /alerts/rules/:id/enable": models.RoleAdmin,
	"POST /alerts/rules/:id/delete": models.RoleAdmin,
	"GET /allowlist":                models.RoleOperator,
	"GET /allowlist/new":            models.RoleOperator,
	"POST /allowlist":               models.RoleOperator,
	"POST /allowlist/:id/delete":    models.RoleOperator,

	"POST /users/:id/factors/reset":            models.RoleAdmin,
	"POST /users/second-factor":                models.RoleAdmin,
	"GET /account/totp":                        models.RoleViewer,
	"POST /account/totp/start":                 models.RoleViewer,
	"GET /account/totp/qr.png":                 models.RoleViewer,
	"POST /account/totp/confirm":               models.RoleViewer,
	"POST /account/totp/disable":               models.RoleViewer,
	"POST /account/totp/recovery-codes":        models.RoleViewer,
	"POST /account/totp/recovery-codes.txt":    models.RoleViewer,
	"GET /login/second-factor":                 models.RoleNone,
	"POST /login/second-factor":                models.RoleNone,
	"POST /login/second-factor/totp/start":     models.RoleNone,
	"GET /login/second-factor/totp/qr.png":     models.RoleNone,
	"POST /login/second-factor/totp/confirm":   models.RoleNone,
	"GET /account/passkeys":                    models.RoleViewer,
	"GET /alerts":                              models.RoleAdmin,
	"POST /alerts/channels":                    models.RoleAdmin,
	"GET /alerts/channels/:id":                 models.RoleAdmin,
	"POST /alerts/channels/:id":                models.RoleAdmin,
	"POST /alerts/channels/:id/delete":         models.RoleAdmin,
	"POST /alerts/channels/:id/test":           models.RoleAdmin,
	"GET /alerts/log":                          models.RoleAdmin,
	"POST /account/passkeys/begin":             models.RoleViewer,
	"POST /account/passkeys/finish":            models.RoleViewer,
	"POST /account/passkeys/:id/delete":        models.RoleViewer,
	"POST /login/passkey/begin":                models.RoleNone,
	"POST /login/passkey/finish":               models.RoleNone,
	"POST /login/second-factor/passkey/begin":  models.RoleNone,
	"POST /login/second-factor/passkey/finish": models.RoleNone,
	"GET /account/tokens":                      models.RoleViewer,
	"POST /account/tokens":                     models.RoleViewer,
	"POST /account/tokens/:id/revoke":          models.RoleViewer,
}

// matrixClient is one column of the role matrix: who sends the requests.
type matrixClient struct {
	name string
	role models.Role // RoleNone: not logged in
	b    *browser
	// relogin logs the client in again after a route ended its session.
	relogin func()
}

// matrixPath turns a route's path into a request path: parameters get
// values that name nothing (so that no allowed request changes a real
// account, source or host) or a harmless one.
func matrixPath(p string) string {
	r := strings.NewReplacer(":ip", "192.0.2.1", ":name", "sshd", ":action", "stop", ":id", "999999", "*", "css/app.css")
	return r.Replace(p)
}

// TestRoleMatrix walks the route table (echo's e.Routes()): every route ×
// {anonymous, viewer, operator, admin} is allowed or refused as declared.
// Refused: anonymous gets the login page (with next), a logged-in role
// 403 — a page, or for htmx the flash fragment.
func TestRoleMatrix(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	admin := a.browser()
	admin.completeSetup()
	assertRedirect(t, admin.login(goodPassword), "/")

	clients := []*matrixClient{{name: "anonymous", role: models.RoleNone, b: a.browser()}}
	for _, r := range models.Roles {
		c := &matrixClient{name: r.String(), role: r}
		if r == models.RoleAdmin {
			c.b = admin
			c.relogin = func() { assertRedirect(t, c.b.login(goodPassword), "/") }
		} else {
			name := "matrix-" + r.String()
			c.b = a.browserAs(name, r)
			c.relogin = func() { assertRedirect(t, c.b.loginAs(name, goodPassword), "/") }
		}
		clients = append(clients, c)
	}

	var keys []string
	for _, r := range a.e.Routes() {
		if r.Method == echo.RouteNotFound || strings.HasPrefix(r.Path, apiPrefix+"/") {
			continue // the API answers tokens only: TestAPIRouteMatrix walks it by scope
		}
		key := r.Method + " " + r.Path
		keys = append(keys, key)
		want, ok := routeRoleTable[key]
		if !ok {
			t.Errorf("route %s has no line in routeRoleTable: declare its role", key)
			continue
		}
		if got, ok := a.s.routeRoles[key]; !ok || got != want {
			t.Errorf("route %s: the route table declares %v (declared: %v), the matrix expects %v", key, got, ok, want)
		}
	}
	sort.Strings(keys)
	for key := range routeRoleTable {
		if _, ok := a.s.routeRoles[key]; !ok || strings.Contains(key, apiPrefix+"/") {
			t.Errorf("routeRoleTable names %s, which the panel does not serve", key)
		}
	}

	for _, key := range keys {
		method, path, _ := strings.Cut(key, " ")
		need := routeRoleTable[key]
		for _, c := range clients {
			allowed := c.role >= need
			rec := matrixRequest(c.b, method, matrixPath(path), false)
			refusedLogin := rec.Code == http.StatusSeeOther && strings.HasPrefix(rec.Header().Get("Location"), "/login?next=")
			refused403 := rec.Code == http.StatusForbidden && strings.Contains(rec.Body.String(), "Your account may not do this")
			switch {
			case allowed && (refusedLogin || refused403):
				t.Errorf("%s as %s: refused (%d %s), want allowed", key, c.name, rec.Code, rec.Header().Get("Location"))
			case !allowed && c.role == models.RoleNone && !refusedLogin:
				t.Errorf("%s as %s: %d %q, want the login page", key, c.name, rec.Code, rec.Header().Get("Location"))
			case !allowed && c.role > models.RoleNone && !refused403:
				t.Errorf("%s as %s: %d, want 403", key, c.name, rec.Code)
			}
			if !allowed && c.role > models.RoleNone {
				// htmx gets the refusal too, as the flash fragment.
				hx := matrixRequest(c.b, method, matrixPath(path), true)
				if hx.Code != http.StatusForbidden || hx.Header().Get("HX-Retarget") != "#flash" || !strings.Contains(hx.Body.String(), "Your account may not do this") {
					t.Errorf("%s as %s over htmx: %d retarget %q, want 403 in #flash", key, c.name, hx.Code, hx.Header().Get("HX-Retarget"))
				}
			}
			if c.relogin != nil && strings.HasPrefix(rec.Header().Get("Location"), "/login") && c.b.get("/login").Code == http.StatusOK {
				c.relogin() // the route ended the session (logout, sign out everywhere)
			}
		}
	}
}

// matrixRequest sends one request of the matrix with the client's session
// and CSRF token (so that only the role decides), as htmx when hx. The
// request's context ends once the answer starts, so an event stream
// returns.
func matrixRequest(b *browser, method, target string, hx bool) *httptest.ResponseRecorder {
	b.app.t.Helper()
	var body *strings.Reader
	if method == http.MethodPost {
		body = strings.NewReader(url.Values{}.Encode())
	} else {
		body = strings.NewReader("")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequest(method, target, body).WithContext(ctx)
	req.RemoteAddr = b.peer
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", b.csrfToken())
	}
	if hx {
		req.Header.Set("HX-Request", "true")
	}
	for _, ck := range b.cookies {
		req.AddCookie(ck)
	}
	rec := &cancelOnAnswer{ResponseRecorder: httptest.NewRecorder(), cancel: cancel}
	b.app.e.ServeHTTP(rec, req)
	b.keepCookies(rec.ResponseRecorder)
	return rec.ResponseRecorder
}

// cancelOnAnswer ends the request's context when the answer's header is
// written.
type cancelOnAnswer struct {
	*httptest.ResponseRecorder
	cancel func()
}

func (w *cancelOnAnswer) WriteHeader(code int) {
	w.ResponseRecorder.WriteHeader(code)
	w.cancel()
}

// csrfToken returns the CSRF token of the browser's session, from a page
// every client may load.
func (b *browser) csrfToken() string {
	b.app.t.Helper()
	rec := b.get("/login")
	if rec.Code == http.StatusSeeOther { // logged in: the login page sends it home
		return b.csrfFrom("/account")
	}
	if rec.Code != http.StatusOK {
		b.app.t.Fatalf("login page: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	tok, _ := parse(b.app.t, rec).Find(`input[name="_csrf"]`).First().Attr("value")
	return tok
}
