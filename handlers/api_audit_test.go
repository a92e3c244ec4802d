package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"bangui/models"
)

// auditEntries keeps the entries handlers write, in order: the AuditLog
// seam before the audit store is wired in this branch.
type auditEntries struct {
	mu      sync.Mutex
	entries []models.AuditEntry
}

func (a *auditEntries) Record(_ context.Context, e models.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

// take returns the entries written since the last take.
func (a *auditEntries) take() []models.AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.entries
	a.entries = nil
	return out
}

// TestAPIAudit checks that each change made through the API, and each
// token made or revoked, writes exactly one audit entry naming the user,
// the token and the role it acted with; refused requests write none.
func TestAPIAudit(t *testing.T) {
	f := newAPIFixture(t)
	log := &auditEntries{}
	f.a.s.auditLog = log
	admin := f.users[models.RoleAdmin]

	one := func(what string, want models.AuditEntry) models.AuditEntry {
		t.Helper()
		got := log.take()
		if len(got) != 1 {
			t.Fatalf("%s: %d audit entries, want 1: %+v", what, len(got), got)
		}
		e := got[0]
		if e.Action != want.Action || e.Actor != want.Actor || e.UserID != want.UserID || e.Token != want.Token ||
			e.Role != want.Role || e.Host != want.Host || e.Jail != want.Jail || e.Target != want.Target || e.Result != want.Result || e.Client == "" || e.At == 0 {
			t.Fatalf("%s: audit entry %+v, want %+v", what, e, want)
		}
		return e
	}
	// The operate token of the admin acts as an operator.
	by := models.AuditEntry{Actor: admin.Name, UserID: admin.ID, Token: f.ids["operate"], Role: models.RoleOperator, Result: "ok"}
	with := func(e models.AuditEntry) models.AuditEntry {
		e.Actor, e.UserID, e.Token, e.Role = by.Actor, by.UserID, by.Token, by.Role
		if e.Result == "" {
			e.Result = "ok"
		}
		return e
	}

	decode(t, f.call("POST", "/api/v1/ban", "operate", `{"target":"203.0.113.7","jail":"sshd"}`), http.StatusOK, nil)
	one("ban", with(models.AuditEntry{Action: models.AuditBan, Host: "local", Jail: "sshd", Target: "203.0.113.7"}))
	decode(t, f.call("POST", "/api/v1/unban", "operate", `{"target":"203.0.113.7","every_host":true}`), http.StatusOK, nil)
	one("unban on every host", with(models.AuditEntry{Action: models.AuditUnban, Target: "203.0.113.7"}))
	decode(t, f.call("POST", "/api/v1/jails/sshd/ignore", "operate", `{"target":"192.0.2.50"}`), http.StatusOK, nil)
	one("ignore add", with(models.AuditEntry{Action: models.AuditIgnoreAdd, Host: "local", Jail: "sshd", Target: "192.0.2.50"}))
	decode(t, f.call("POST", "/api/v1/jails/sshd/ignore/remove", "operate", `{"target":"192.0.2.50"}`), http.StatusOK, nil)
	one("ignore remove", with(models.AuditEntry{Action: models.AuditIgnoreRemove, Host: "local", Jail: "sshd", Target: "192.0.2.50"}))
	wantAPIError(t, f.call("POST", "/api/v1/ban", "operate", `{"target":"203.0.113.7","jail":"nope"}`), http.StatusNotFound, "unknown_jail")
	one("failed ban", with(models.AuditEntry{Action: models.AuditBan, Host: "local", Jail: "nope", Target: "203.0.113.7", Result: "fail2ban has no jail by that name."}))

	// Refused before acting: nothing written.
	wantAPIError(t, f.call("POST", "/api/v1/ban", "read", `{"target":"203.0.113.7","jail":"sshd"}`), http.StatusForbidden, "forbidden")
	wantAPIError(t, f.call("POST", "/api/v1/ban", "operate", `{"target":`), http.StatusBadRequest, "bad_json")
	wantAPIError(t, f.call("POST", "/api/v1/ban", "operate", `{"target":"203.0.113.300","jail":"sshd"}`), http.StatusUnprocessableEntity, "invalid_input")
	wantAPIError(t, apiCall(t, f.a, "POST", "/api/v1/ban", "", `{"target":"203.0.113.7","jail":"sshd"}`, nil), http.StatusUnauthorized, "token_missing")
	decode(t, f.call("GET", "/api/v1/bans", "operate", ""), http.StatusOK, nil)
	if got := log.take(); len(got) != 0 {
		t.Fatalf("refused requests and reads were audited: %+v", got)
	}

	// Tokens made and revoked on the page: one entry each, by the session's user.
	viewer := f.users[models.RoleViewer]
	b := loginAs(t, f.a, viewer)
	rec := b.postForm("/account/tokens", "/account/tokens", url.Values{"name": {"cron"}, "scope": {"read"}, "expiry": {"never"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("make a token: %d", rec.Code)
	}
	list, _ := f.a.s.tokens.List(context.Background(), viewer.ID)
	id := strconv.FormatInt(list[0].ID, 10)
	page := models.AuditEntry{Actor: viewer.Name, UserID: viewer.ID, Role: models.RoleViewer, Result: "ok", Action: models.AuditTokenChange, Target: "cron (#" + id + ")"}
	if e := one("token made", page); e.Detail != "create: scope read, expires never" {
		t.Fatalf("token made: detail %q", e.Detail)
	}
	assertRedirect(t, b.postForm("/account/tokens/"+id+"/revoke", "/account/tokens", nil), "/account/tokens")
	if e := one("token revoked", page); e.Detail != "revoke" {
		t.Fatalf("token revoked: detail %q", e.Detail)
	}
}
