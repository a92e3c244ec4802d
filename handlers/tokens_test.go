package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"bangui/models"
)

// TestTokenPages makes, uses, lists and revokes a token through the pages,
// as a viewer; checks that a scope above the role is refused, that another
// user cannot revoke it, and that an admin sees and may revoke everyone's.
func TestTokenPages(t *testing.T) {
	f := newAPIFixture(t)
	viewer := f.users[models.RoleViewer]
	b := loginAs(t, f.a, viewer)

	doc := parse(t, b.get("/account/tokens"))
	var scopes []string
	doc.Find(`select[name="scope"] option`).Each(func(_ int, s *goquery.Selection) {
		scopes = append(scopes, s.AttrOr("value", ""))
	})
	if strings.Join(scopes, ",") != "read" {
		t.Fatalf("a viewer is offered the scopes %v", scopes)
	}
	if doc.Find(`select[name="expiry"] option`).Length() != 4 {
		t.Fatal("expiry choices missing")
	}

	// Scope above the role, an empty name, an unknown expiry: refused.
	rec := b.postForm("/account/tokens", "/account/tokens", url.Values{"name": {"cron"}, "scope": {"operate"}, "expiry": {"30"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "does not allow the scope operate") {
		t.Fatalf("scope above the role: %d %s", rec.Code, rec.Body)
	}
	rec = b.postForm("/account/tokens", "/account/tokens", url.Values{"name": {" "}, "scope": {"read"}, "expiry": {"7"}})
	if doc := parse(t, rec); rec.Code != http.StatusUnprocessableEntity || doc.Find(".field--invalid").Length() != 2 {
		t.Fatalf("empty name and unknown expiry: %d, %d invalid fields", rec.Code, doc.Find(".field--invalid").Length())
	}
	if list, _ := f.a.s.tokens.List(context.Background(), viewer.ID); len(list) != 1 { // viewer-admin of the fixture
		t.Fatalf("refused forms stored tokens: %+v", list)
	}

	// Made: shown once.
	before := time.Now()
	rec = b.postForm("/account/tokens", "/account/tokens", url.Values{"name": {"grafana"}, "scope": {"read"}, "expiry": {"30"}})
	doc = parse(t, rec)
	secret := strings.TrimSpace(doc.Find(`[data-testid="token-secret"]`).Text())
	if rec.Code != http.StatusOK || !strings.HasPrefix(secret, "bgu_") || len(secret) != 47 || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("new token: %d %q (cache %q)", rec.Code, secret, rec.Header().Get("Cache-Control"))
	}
	list, err := f.a.s.tokens.List(context.Background(), viewer.ID)
	if err != nil || len(list) != 2 || list[0].Name != "grafana" || list[0].Scope != models.ScopeRead || list[0].Hash != tokenHash(secret) {
		t.Fatalf("stored tokens: %+v, %v", list, err)
	}
	if exp := *list[0].ExpiresAt; exp < before.Add(30*24*time.Hour).Unix() || exp > time.Now().Add(30*24*time.Hour).Unix() {
		t.Fatalf("expires at %d, want 30 days from now", exp)
	}
	id := strconv.FormatInt(list[0].ID, 10)
	row := doc.Find(`tr[data-token="` + id + `"]`)
	if row.AttrOr("data-state", "") != "active" || strings.TrimSpace(row.Find(`[data-testid="token-last-used"]`).Text()) != "never" {
		t.Fatalf("new token's row: %q", row.Text())
	}

	// Used: it reads, it may not ban; its last use shows.
	decode(t, apiCall(t, f.a, "GET", "/api/v1/status", secret, "", nil), http.StatusOK, nil)
	wantAPIError(t, apiCall(t, f.a, "POST", "/api/v1/ban", secret, `{"target":"203.0.113.9","jail":"sshd"}`, nil), http.StatusForbidden, "forbidden")
	doc = parse(t, b.get("/account/tokens"))
	if doc.Find(`[data-testid="token-secret"]`).Length() != 0 || strings.Contains(doc.Text(), secret) {
		t.Fatal("the secret is shown again")
	}
	if used := strings.TrimSpace(doc.Find(`tr[data-token="` + id + `"] [data-testid="token-last-used"]`).Text()); used == "never" || used == "" {
		t.Fatalf("last use after a request: %q", used)
	}

	// Another user cannot revoke it; an admin sees it with its user.
	op := loginAs(t, f.a, f.users[models.RoleOperator])
	if rec := op.postForm("/account/tokens/"+id+"/revoke", "/account/tokens", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("someone else's revoke: %d", rec.Code)
	}
	admin := loginAs(t, f.a, f.users[models.RoleAdmin])
	adminDoc := parse(t, admin.get("/account/tokens"))
	if !strings.Contains(adminDoc.Find(`tr[data-token="`+id+`"]`).Text(), viewer.Name) {
		t.Fatal("the admin does not see the viewer's token with its user")
	}

	// Revoked by its owner: refused at once.
	rec = b.postForm("/account/tokens/"+id+"/revoke", "/account/tokens", nil)
	assertRedirect(t, rec, "/account/tokens")
	wantAPIError(t, apiCall(t, f.a, "GET", "/api/v1/status", secret, "", nil), http.StatusUnauthorized, "token_revoked")
	doc = parse(t, b.get("/account/tokens"))
	if doc.Find(`tr[data-token="`+id+`"]`).AttrOr("data-state", "") != "revoked" || !strings.Contains(doc.Find("#flash").Text(), "revoked") {
		t.Fatalf("after revoking: %q", doc.Find(`tr[data-token="`+id+`"]`).Text())
	}

	// The admin revokes the viewer's other token.
	other := strconv.FormatInt(f.ids["viewer-admin"], 10)
	assertRedirect(t, admin.postForm("/account/tokens/"+other+"/revoke", "/account/tokens", nil), "/account/tokens")
	wantAPIError(t, f.call("GET", "/api/v1/status", "viewer-admin", ""), http.StatusUnauthorized, "token_revoked")

	// Without the CSRF token nothing happens.
	rec = b.do("POST", "/account/tokens", url.Values{"name": {"x"}, "scope": {"read"}, "expiry": {"never"}}, nil)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("create without CSRF: %d", rec.Code)
	}
}
