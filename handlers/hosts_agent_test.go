package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bangui/agent"
	"bangui/agent/agenttest"
	"bangui/fail2ban/sandbox"
	"bangui/fail2ban/sandbox/sandboxtest"
	"bangui/repo"
)

// agentBin is the bangui binary run as agents, built on first use.
var agentBin agenttest.Binary

// bodies keeps every answer a test got, to prove what none of them holds.
type bodies []string

func (bs *bodies) keep(rec *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	*bs = append(*bs, rec.Body.String())
	return rec
}

// Adding a host through the page with the built agent: the confirmation
// shows the fingerprint the agent printed, enrolment lists the host online
// with its bans, rename, a changed certificate shown with old and new
// fingerprints and accepted, removal flashed; the credential is in no
// answer.
func TestHostsPageEnrolsARealAgent(t *testing.T) {
	a, b, _ := loggedInWithFail2ban(t)
	sb := sandboxtest.Start(t, sandbox.Jail{Name: "sshd", MaxRetry: 5})
	if _, err := sb.Client().Ban(context.Background(), "sshd", "192.0.2.90", "192.0.2.91"); err != nil {
		t.Fatal(err)
	}
	addr, dataDir := agenttest.FreeAddr(t), filepath.Join(t.TempDir(), "agent")
	ag := agenttest.Start(t, agentBin.Path(t), sb, addr, dataDir)
	var seen bodies

	rec := seen.keep(b.postForm("/hosts/probe", "/hosts", url.Values{"name": {"Edge one"}, "url": {ag.URL}, "token": {ag.Token}}))
	if rec.Code != http.StatusOK {
		t.Fatalf("probe: %d %.500s", rec.Code, parse(t, rec).Find("main").Text())
	}
	doc := parse(t, rec)
	if fp := strings.Join(strings.Fields(doc.Find(`[data-testid="fingerprint"]`).Text()), ""); fp != ag.Fingerprint {
		t.Fatalf("confirmation shows %q, the agent printed %q", fp, ag.Fingerprint)
	}
	confirm := formValues(doc, `form[action="/hosts"]`)
	if confirm.Get("id") != "edge-one" || confirm.Get("fingerprint") != ag.Fingerprint {
		t.Fatalf("confirmation form %v", confirm)
	}
	assertRedirect(t, seen.keep(b.postForm("/hosts", "/hosts", confirm)), "/hosts")
	rec = seen.keep(b.get("/hosts"))
	doc = parse(t, rec)
	if f := doc.Find("#flash").Text(); !strings.Contains(f, "Enrolled Edge one") {
		t.Errorf("flash after enrolment: %q", f)
	}
	row := doc.Find(`tr[data-host="edge-one"]`)
	if state := strings.TrimSpace(row.Find(`[data-testid="host-state"]`).Text()); state != "Online" {
		t.Fatalf("edge-one is %q: %s", state, row.Text())
	}
	if bans := strings.TrimSpace(row.Find(`[data-testid="host-bans"]`).Text()); bans != "2" {
		t.Errorf("edge-one bans %q, want 2", bans)
	}
	if doc.Find(`[data-testid="hosts-empty"]`).Length() != 0 {
		t.Error("empty state shown with a host")
	}
	// The same token again: refused, next to the token field.
	rec = seen.keep(b.postForm("/hosts", "/hosts", url.Values{"name": {"Twice"}, "url": {ag.URL}, "token": {ag.Token}, "fingerprint": {ag.Fingerprint}}))
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(fieldErrors(parse(t, rec), "host-url"), "enrolled already") {
		t.Errorf("enrolling the agent again: %d %q", rec.Code, fieldErrors(parse(t, rec), "host-url"))
	}

	// Rename inline.
	assertRedirect(t, seen.keep(b.postForm("/hosts/edge-one/name", "/hosts", url.Values{"name": {"Edge 1 (Paris)"}})), "/hosts")
	doc = parse(t, seen.keep(b.get("/hosts")))
	if n := doc.Find(`tr[data-host="edge-one"] [data-testid="host-name"]`).Text(); n != "Edge 1 (Paris)" {
		t.Errorf("renamed to %q", n)
	}

	// A new certificate on the same address: shown with both fingerprints
	// until accepted.
	ag.Stop()
	for _, f := range []string{agent.KeyFile, agent.CertFile} {
		if err := os.Remove(filepath.Join(dataDir, f)); err != nil {
			t.Fatal(err)
		}
	}
	ag2 := agenttest.Start(t, agentBin.Path(t), sb, addr, dataDir)
	a.s.status.Refresh(context.Background())
	doc = parse(t, seen.keep(b.get("/hosts")))
	changed := doc.Find(`[data-testid="certificate-changed"][data-host="edge-one"]`)
	if changed.Find(`[data-testid="old-fingerprint"]`).Text() != ag.Fingerprint || changed.Find(`[data-testid="new-fingerprint"]`).Text() != ag2.Fingerprint {
		t.Fatalf("certificate change shown as %q", changed.Text())
	}
	if state := strings.TrimSpace(doc.Find(`tr[data-host="edge-one"] [data-testid="host-state"]`).Text()); state != "Certificate changed" {
		t.Errorf("state %q", state)
	}
	germanCertificateChange(t, b, &seen, ag.Fingerprint)
	// Accepting takes the fingerprint from the agent's log, typed or pasted:
	// the form offers none, so a click alone accepts nothing.
	if v, ok := changed.Find(`form input[name="fingerprint"]`).Attr("value"); ok && v != "" {
		t.Errorf("the accept form comes filled in with %q", v)
	}
	if rec := seen.keep(b.postForm("/hosts/edge-one/fingerprint", "/hosts", url.Values{"fingerprint": {""}})); rec.Code != http.StatusSeeOther {
		t.Fatalf("an empty fingerprint: status %d", rec.Code)
	}
	if f := parse(t, seen.keep(b.get("/hosts"))).Find("#flash").Text(); !strings.Contains(f, "Paste the fingerprint the agent printed") {
		t.Errorf("flash after an empty fingerprint: %q", f)
	}
	assertRedirect(t, seen.keep(b.postForm("/hosts/edge-one/fingerprint", "/hosts", url.Values{"fingerprint": {ag2.Fingerprint}})), "/hosts")
	doc = parse(t, seen.keep(b.get("/hosts")))
	if f := doc.Find("#flash").Text(); !strings.Contains(f, "Accepted the new certificate") {
		t.Errorf("flash after accepting: %q", f)
	}
	if state := strings.TrimSpace(doc.Find(`tr[data-host="edge-one"] [data-testid="host-state"]`).Text()); state != "Online" {
		t.Errorf("after accepting: %q", state)
	}

	// The credential the panel stored is in no answer it gave.
	stored, err := repo.NewHostStore(a.db).Get(context.Background(), "edge-one")
	if err != nil || len(stored.Credential) < 16 {
		t.Fatalf("stored host %v", err)
	}
	for i, body := range seen {
		if strings.Contains(body, stored.Credential) {
			t.Fatalf("answer %d holds the host's credential", i)
		}
	}

	// Remove, with a confirmation asked first and a flash after.
	if c, _ := doc.Find(`form[action="/hosts/edge-one/delete"]`).Attr("hx-confirm"); !strings.Contains(c, "archived bans stay") {
		t.Errorf("remove asks %q", c)
	}
	assertRedirect(t, b.postForm("/hosts/edge-one/delete", "/hosts", nil), "/hosts")
	doc = parse(t, b.get("/hosts"))
	if f := doc.Find("#flash").Text(); !strings.Contains(f, "Removed Edge 1 (Paris) and revoked its credential") || !strings.Contains(f, "archived bans stay") {
		t.Errorf("flash after removal: %q", f)
	}
	if doc.Find(`tr[data-host="edge-one"]`).Length() != 0 || doc.Find(`[data-testid="hosts-empty"]`).Length() != 1 {
		t.Error("the removed host is still listed")
	}
}
