package handlers

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"bangui/models"
)

// TestAPIEndpointsAgainstRealFail2ban walks every endpoint against a real
// fail2ban: what a read token sees, what an operate token changes (and
// fail2ban shows), and that a read token may change nothing.
func TestAPIEndpointsAgainstRealFail2ban(t *testing.T) {
	f := newAPIFixture(t)

	var status struct{ Hosts []apiHostStatus }
	decode(t, f.call("GET", "/api/v1/status", "read", ""), http.StatusOK, &status)
	if len(status.Hosts) != 1 || !status.Hosts[0].Online || !strings.HasPrefix(status.Hosts[0].Version, "1.") || status.Hosts[0].Host != "local" {
		t.Fatalf("status: %+v", status)
	}

	var jails struct{ Hosts []apiHostJails }
	decode(t, f.call("GET", "/api/v1/jails", "read", ""), http.StatusOK, &jails)
	if len(jails.Hosts) != 1 || !slices.ContainsFunc(jails.Hosts[0].Jails, func(j apiJail) bool { return j.Name == "sshd" && j.Running }) {
		t.Fatalf("jails: %+v", jails)
	}
	var jail apiJailDetail
	decode(t, f.call("GET", "/api/v1/jails/sshd?host=local", "read", ""), http.StatusOK, &jail)
	if jail.Name != "sshd" || jail.Host != "local" || jail.MaxRetry != 5 || !slices.Contains(jail.Actions, "dummy") || len(jail.LogPaths) != 1 {
		t.Fatalf("jail: %+v", jail)
	}

	// A read token may not ban; an operate token may, of an address and of a range.
	wantAPIError(t, f.call("POST", "/api/v1/ban", "read", `{"target":"203.0.113.7","jail":"sshd"}`), http.StatusForbidden, "forbidden")
	var banned struct{ Results []apiBanResult }
	decode(t, f.call("POST", "/api/v1/ban", "operate", `{"target":"203.0.113.7","jail":"sshd"}`), http.StatusOK, &banned)
	if len(banned.Results) != 1 || banned.Results[0].NewBans != 1 || banned.Results[0].Error != nil || banned.Results[0].Host != "local" {
		t.Fatalf("ban: %+v", banned)
	}
	decode(t, f.call("POST", "/api/v1/ban", "operate", `{"target":"198.51.100.0/24","jail":"sshd","every_host":true}`), http.StatusOK, &banned)
	if len(banned.Results) != 1 || banned.Results[0].NewBans != 1 || banned.Results[0].Targets[0] != "198.51.100.0/24" {
		t.Fatalf("ban of a range on every host: %+v", banned)
	}
	if got := bannedIPs(t, f.sb, "sshd"); !slices.Contains(got, "203.0.113.7") || !slices.Contains(got, "198.51.100.0/24") {
		t.Fatalf("fail2ban bans %v", got)
	}

	var bans apiBanPage
	decode(t, f.call("GET", "/api/v1/bans?jail=sshd&size=25", "read", ""), http.StatusOK, &bans)
	if bans.Total != 2 || len(bans.Bans) != 2 || bans.Size != 25 || bans.Page != 1 {
		t.Fatalf("bans: %+v", bans)
	}
	decode(t, f.call("GET", "/api/v1/bans?ip=203.0.113", "read", ""), http.StatusOK, &bans)
	if bans.Total != 1 || bans.Bans[0].IP != "203.0.113.7" || bans.Bans[0].Jail != "sshd" || bans.Bans[0].Start == nil {
		t.Fatalf("bans filtered by address: %+v", bans)
	}
	decode(t, f.call("GET", "/api/v1/bans?size=25&page=2", "read", ""), http.StatusOK, &bans)
	if bans.Total != 2 || len(bans.Bans) != 0 || bans.Page != 2 {
		t.Fatalf("second page: %+v", bans)
	}

	var rep apiIPReport
	decode(t, f.call("GET", "/api/v1/history/203.0.113.7", "read", ""), http.StatusOK, &rep)
	if rep.IP != "203.0.113.7" || len(rep.Hosts) != 1 || len(rep.Hosts[0].Current) != 1 || rep.Hosts[0].Current[0].Jail != "sshd" {
		t.Fatalf("per-IP report: %+v", rep)
	}
	wantAPIError(t, f.call("GET", "/api/v1/history/192.0.2.99", "read", ""), http.StatusNotFound, "unknown_ip")
	wantAPIError(t, f.call("GET", "/api/v1/history/not-an-ip", "read", ""), http.StatusUnprocessableEntity, "invalid_input")

	var hist apiHistoryPage
	decode(t, f.call("GET", "/api/v1/history?range=24h&source=archive&jail=sshd", "read", ""), http.StatusOK, &hist)
	if hist.Total != 2 || hist.Size != 50 || !slices.ContainsFunc(hist.Events, func(e apiBanEvent) bool { return e.IP == "203.0.113.7" && e.Origin == "manual" }) {
		t.Fatalf("history: %+v", hist)
	}

	// Unban from every jail (jail omitted): the lossless path of the pages.
	wantAPIError(t, f.call("POST", "/api/v1/unban", "read", `{"target":"203.0.113.7"}`), http.StatusForbidden, "forbidden")
	var unbanned struct{ Results []apiUnbanResult }
	decode(t, f.call("POST", "/api/v1/unban", "operate", `{"target":"203.0.113.7"}`), http.StatusOK, &unbanned)
	if len(unbanned.Results) != 1 || unbanned.Results[0].Unbanned != 1 {
		t.Fatalf("unban: %+v", unbanned)
	}
	decode(t, f.call("POST", "/api/v1/unban", "admin", `{"target":"198.51.100.0/24","jail":"sshd","every_host":true}`), http.StatusOK, &unbanned)
	if len(unbanned.Results) != 1 || unbanned.Results[0].Unbanned != 1 || unbanned.Results[0].Error != nil {
		t.Fatalf("unban of a range on every host: %+v", unbanned)
	}
	if got := bannedIPs(t, f.sb, "sshd"); len(got) != 0 {
		t.Fatalf("fail2ban still bans %v", got)
	}

	// Ignore list: add, read, remove.
	var list apiIgnoreList
	wantAPIError(t, f.call("POST", "/api/v1/jails/sshd/ignore", "read", `{"target":"192.0.2.50"}`), http.StatusForbidden, "forbidden")
	decode(t, f.call("POST", "/api/v1/jails/sshd/ignore", "operate", `{"target":"192.0.2.50"}`), http.StatusOK, &list)
	if !slices.Contains(list.IgnoreIPs, "192.0.2.50") {
		t.Fatalf("ignore list after adding: %+v", list)
	}
	decode(t, f.call("GET", "/api/v1/jails/sshd/ignore", "read", ""), http.StatusOK, &list)
	if !slices.Contains(list.IgnoreIPs, "192.0.2.50") || list.IgnoreSelf == nil || list.Jail != "sshd" {
		t.Fatalf("ignore list: %+v", list)
	}
	decode(t, f.call("POST", "/api/v1/jails/sshd/ignore/remove", "operate", `{"target":"192.0.2.50"}`), http.StatusOK, &list)
	if slices.Contains(list.IgnoreIPs, "192.0.2.50") {
		t.Fatalf("ignore list after removing: %+v", list)
	}
	wantAPIError(t, f.call("POST", "/api/v1/jails/sshd/ignore/remove", "operate", `{"target":"192.0.2.50"}`), http.StatusUnprocessableEntity, "fail2ban_refused")

	// Blocklist import: trigger and result.
	wantAPIError(t, f.call("POST", "/api/v1/blocklists/import", "read", ""), http.StatusForbidden, "forbidden")
	wantAPIError(t, f.call("POST", "/api/v1/blocklists/import", "operate", `{"source_id":999}`), http.StatusNotFound, "not_found")
	var imp apiImport
	decode(t, f.call("POST", "/api/v1/blocklists/import", "operate", ""), http.StatusAccepted, &imp)
	if imp.StartedBy != "manual" {
		t.Fatalf("import started: %+v", imp)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		decode(t, f.call("GET", "/api/v1/blocklists/import", "read", ""), http.StatusOK, &imp)
		if !imp.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("import still running: %+v", imp)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
	if imp.FinishedAt == nil || imp.Results == nil {
		t.Fatalf("import result: %+v", imp)
	}
}

// TestAPIRefusesBadInput checks the answers to bodies and paths the API
// does not take: each a JSON error with its stable code, nothing changed.
func TestAPIRefusesBadInput(t *testing.T) {
	f := newAPIFixture(t)
	tok := f.tokens["operate"]
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      map[string]string
		status                   int
		code                     string
	}{
		{"bad JSON", "POST", "/api/v1/ban", `{"target":`, nil, 400, "bad_json"},
		{"unknown field", "POST", "/api/v1/ban", `{"target":"203.0.113.7","jail":"sshd","ttl":5}`, nil, 400, "bad_json"},
		{"two values", "POST", "/api/v1/ban", `{"target":"203.0.113.7","jail":"sshd"} {}`, nil, 400, "bad_json"},
		{"not an object", "POST", "/api/v1/ban", `["203.0.113.7"]`, nil, 400, "bad_json"},
		{"oversized", "POST", "/api/v1/ban", `{"target":"` + strings.Repeat("1", 70<<10) + `","jail":"sshd"}`, nil, 413, "body_too_large"},
		{"form body", "POST", "/api/v1/ban", `target=203.0.113.7&jail=sshd`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"no content type", "POST", "/api/v1/ban", `{"target":"203.0.113.7","jail":"sshd"}`, map[string]string{"Content-Type": ""}, 415, "unsupported_media_type"},
		{"text body", "POST", "/api/v1/unban", `{"target":"203.0.113.7"}`, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type"},
		{"no body", "POST", "/api/v1/ban", ``, nil, 415, "unsupported_media_type"},
		{"no target", "POST", "/api/v1/ban", `{"jail":"sshd"}`, nil, 422, "invalid_input"},
		{"no jail", "POST", "/api/v1/ban", `{"target":"203.0.113.7"}`, nil, 422, "invalid_input"},
		{"bad address", "POST", "/api/v1/ban", `{"target":"203.0.113.300","jail":"sshd"}`, nil, 422, "invalid_input"},
		{"two addresses", "POST", "/api/v1/ban", `{"target":"203.0.113.7 203.0.113.8","jail":"sshd"}`, nil, 422, "invalid_input"},
		{"host and every host", "POST", "/api/v1/ban", `{"target":"203.0.113.7","jail":"sshd","host":"local","every_host":true}`, nil, 422, "invalid_input"},
		{"unknown jail", "POST", "/api/v1/ban", `{"target":"203.0.113.7","jail":"nope"}`, nil, 404, "unknown_jail"},
		{"unknown host in body", "POST", "/api/v1/ban", `{"target":"203.0.113.7","jail":"sshd","host":"mars"}`, nil, 404, "unknown_host"},
		{"unknown host in query", "GET", "/api/v1/jails?host=mars", ``, nil, 404, "unknown_host"},
		{"unknown jail in path", "GET", "/api/v1/jails/nope", ``, nil, 404, "unknown_jail"},
		{"bad jail name", "GET", "/api/v1/jails/a%20b", ``, nil, 404, "unknown_jail"},
		{"bad jail filter", "GET", "/api/v1/bans?jail=..", ``, nil, 404, "unknown_jail"},
		{"ignore of unknown jail", "POST", "/api/v1/jails/nope/ignore", `{"target":"192.0.2.1"}`, nil, 404, "unknown_jail"},
		{"ignore without target", "POST", "/api/v1/jails/sshd/ignore", `{}`, nil, 422, "invalid_input"},
		{"unknown route", "GET", "/api/v1/nope", ``, nil, 404, "not_found"},
		// Echo's router answers a method no route takes as an unknown route.
		{"wrong method", "DELETE", "/api/v1/status", ``, nil, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantAPIError(t, apiCall(t, f.a, tc.method, tc.path, tok, tc.body, tc.hdr), tc.status, tc.code)
		})
	}
	if got := bannedIPs(t, f.sb, "sshd"); len(got) != 0 {
		t.Fatalf("refused requests banned %v", got)
	}
}

// TestAPITokenStates checks that an unknown, expired or revoked token, or
// one of a disabled user, is refused at once, and that a token's last use
// is noted at most once a minute.
func TestAPITokenStates(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	now := time.Now()
	f.a.s.now = func() time.Time { return now }
	soon := now.Add(time.Hour).Unix()
	f.mint("short", f.users[models.RoleAdmin], models.ScopeRead, &soon)

	ok := func(name string) {
		t.Helper()
		decode(t, f.call("GET", "/api/v1/status", name, ""), http.StatusOK, nil)
	}
	ok("short")
	wantAPIError(t, apiCall(t, f.a, "GET", "/api/v1/status", "", "", nil), http.StatusUnauthorized, "token_missing")
	wantAPIError(t, apiCall(t, f.a, "GET", "/api/v1/status", "bgu_"+strings.Repeat("A", 43), "", nil), http.StatusUnauthorized, "token_invalid")
	wantAPIError(t, apiCall(t, f.a, "GET", "/api/v1/status", "not-a-token", "", nil), http.StatusUnauthorized, "token_invalid")
	wantAPIError(t, apiCall(t, f.a, "GET", "/api/v1/status", "", "", map[string]string{"Authorization": "Basic " + f.tokens["read"]}), http.StatusUnauthorized, "token_missing")
	if rec := apiCall(t, f.a, "GET", "/api/v1/status", "", "", nil); rec.Header().Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}

	// Expired: one second past its end.
	now = time.Unix(soon, 0)
	wantAPIError(t, f.call("GET", "/api/v1/status", "short", ""), http.StatusUnauthorized, "token_expired")
	ok("read")

	// Revoked, through the store the page uses.
	if _, err := f.a.s.tokens.Revoke(ctx, f.ids["read"], 0); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, f.call("GET", "/api/v1/status", "read", ""), http.StatusUnauthorized, "token_revoked")

	// A disabled user's tokens stop at once; enabled again, they work.
	op := f.users[models.RoleOperator]
	ok("operator-admin")
	if err := f.a.s.users.SetDisabled(ctx, op.ID, true); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, f.call("GET", "/api/v1/status", "operator-admin", ""), http.StatusUnauthorized, "user_disabled")
	if err := f.a.s.users.SetDisabled(ctx, op.ID, false); err != nil {
		t.Fatal(err)
	}
	ok("operator-admin")

	// Last use: written on first use, then at most once a minute.
	lastUsed := func(name string) int64 {
		t.Helper()
		list, err := f.a.s.tokens.List(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range list {
			if tk.ID == f.ids[name] && tk.LastUsedAt != nil {
				return *tk.LastUsedAt
			}
		}
		return 0
	}
	start := now
	ok("admin")
	if got := lastUsed("admin"); got != start.Unix() {
		t.Fatalf("last use %d, want %d", got, start.Unix())
	}
	now = start.Add(30 * time.Second)
	ok("admin")
	if got := lastUsed("admin"); got != start.Unix() {
		t.Fatalf("last use written again within a minute: %d", got)
	}
	now = start.Add(61 * time.Second)
	ok("admin")
	if got := lastUsed("admin"); got != now.Unix() {
		t.Fatalf("last use after a minute %d, want %d", got, now.Unix())
	}
}

// TestAPIRateLimit checks the per-token bucket: past it, 429 with
// Retry-After; other tokens are not affected; it refills with time.
func TestAPIRateLimit(t *testing.T) {
	f := newAPIFixture(t)
	now := time.Now()
	f.a.s.now = func() time.Time { return now }
	for i := range apiBurst {
		if rec := f.call("GET", "/api/v1/jails", "read", ""); rec.Code != http.StatusOK {
			t.Fatalf("request %d of the burst: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := f.call("GET", "/api/v1/jails", "read", "")
	wantAPIError(t, rec, http.StatusTooManyRequests, "rate_limited")
	if ra := rec.Header().Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q, want 1", ra)
	}
	decode(t, f.call("GET", "/api/v1/jails", "operate", ""), http.StatusOK, nil)
	now = now.Add(time.Second)
	for range int(apiRate) {
		decode(t, f.call("GET", "/api/v1/jails", "read", ""), http.StatusOK, nil)
	}
	wantAPIError(t, f.call("GET", "/api/v1/jails", "read", ""), http.StatusTooManyRequests, "rate_limited")
}

// TestAPIRefusesCookies checks that a logged-in browser's session cookie
// opens nothing in the API, with or without a CSRF token, and that a token
// works whatever cookie comes with it.
func TestAPIRefusesCookies(t *testing.T) {
	f := newAPIFixture(t)
	b := loginAs(t, f.a, f.users[models.RoleAdmin])
	if rec := b.get("/"); rec.Code != http.StatusOK {
		t.Fatalf("the session is not logged in: %d", rec.Code)
	}
	csrf := b.csrfFrom("/account/tokens")
	wantAPIError(t, b.do("GET", "/api/v1/status", nil, nil), http.StatusUnauthorized, "token_missing")
	rec := b.do("POST", "/api/v1/ban", nil, map[string]string{"X-CSRF-Token": csrf, "Content-Type": "application/json"})
	wantAPIError(t, rec, http.StatusUnauthorized, "token_missing")
	if got := bannedIPs(t, f.sb, "sshd"); len(got) != 0 {
		t.Fatalf("a cookie request banned %v", got)
	}
	rec = b.do("GET", "/api/v1/status", nil, map[string]string{"Authorization": "Bearer " + f.tokens["read"]})
	decode(t, rec, http.StatusOK, nil)
	if rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("the API set a cookie: %q", rec.Header().Get("Set-Cookie"))
	}
}
