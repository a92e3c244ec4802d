package handlers

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"bangui/models"
	"bangui/repo"
)

// The Hosts page lists the local host with its status, says that no other
// host exists yet, and refuses bad add-host forms field by field, with
// each message tied to its input.
func TestHostsPageValidation(t *testing.T) {
	_, b, _ := loggedInWithFail2ban(t)
	rec := b.get("/hosts")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /hosts: %d %.300s", rec.Code, rec.Body)
	}
	doc := parse(t, rec)
	local := doc.Find(`tr[data-host="local"]`)
	if local.Length() != 1 || strings.TrimSpace(local.Find(`[data-testid="host-state"]`).Text()) != "Online" {
		t.Fatalf("local row: %q", local.Text())
	}
	if doc.Find(`[data-testid="hosts-empty"]`).Length() != 1 {
		t.Error("no empty state with only the local host")
	}
	if cur, _ := doc.Find(`nav a[aria-current="page"]`).Attr("href"); cur != "/hosts" {
		t.Errorf("current nav entry %q, want /hosts", cur)
	}

	cases := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"nothing", url.Values{}, "host-id", "Give the host a name or an id"},
		{"nothing", url.Values{}, "host-url", "Enter the agent's address"},
		{"nothing", url.Values{}, "host-token", "Enter the enrolment token"},
		{"bad id", url.Values{"id": {"Web_1"}, "url": {"https://192.0.2.1:9443"}, "token": {"t"}}, "host-id", "lower-case letters, digits and dashes"},
		{"local", url.Values{"id": {"local"}, "url": {"https://192.0.2.1:9443"}, "token": {"t"}}, "host-id", "panel's own machine"},
		{"long id", url.Values{"id": {strings.Repeat("a", 33)}, "url": {"https://192.0.2.1:9443"}, "token": {"t"}}, "host-id", "1 to 32"},
		{"http", url.Values{"name": {"Web 1"}, "url": {"http://192.0.2.1:9443"}, "token": {"t"}}, "host-url", "only HTTPS"},
		{"path", url.Values{"name": {"Web 1"}, "url": {"https://192.0.2.1:9443/api?x=1"}, "token": {"t"}}, "host-url", "without a path"},
		{"user", url.Values{"name": {"Web 1"}, "url": {"https://u:p@192.0.2.1:9443"}, "token": {"t"}}, "host-url", "user name or password"},
		{"port", url.Values{"name": {"Web 1"}, "url": {"https://192.0.2.1:99999"}, "token": {"t"}}, "host-url", "port"},
		{"token", url.Values{"name": {"Web 1"}, "url": {"https://192.0.2.1:9443"}, "token": {"tökén"}}, "host-token", "not an enrolment token"},
		{"name control", url.Values{"name": {"Web\x01"}, "id": {"web"}, "url": {"https://192.0.2.1:9443"}, "token": {"t"}}, "host-name", "control characters"},
		{"unreachable", url.Values{"name": {"Web 1"}, "url": {"https://127.0.0.1:1"}, "token": {"t"}}, "host-url", "could not reach an agent at https://127.0.0.1:1"},
	}
	for _, c := range cases {
		rec := b.postForm("/hosts/probe", "/hosts", c.form)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", c.name, rec.Code)
			continue
		}
		doc := parse(t, rec)
		if got := fieldErrors(doc, c.field); !strings.Contains(got, c.want) {
			t.Errorf("%s: %s says %q, want %q", c.name, c.field, got, c.want)
		}
		if by, _ := doc.Find("#" + c.field).Attr("aria-describedby"); !strings.Contains(by, c.field+"-error") {
			t.Errorf("%s: #%s aria-describedby=%q, not tied to its error", c.name, c.field, by)
		}
		if inv, _ := doc.Find("#" + c.field).Attr("aria-invalid"); inv != "true" {
			t.Errorf("%s: #%s aria-invalid=%q", c.name, c.field, inv)
		}
	}
	// The id comes from the name when empty, and the form keeps what was typed.
	rec = b.postForm("/hosts/probe", "/hosts", url.Values{"name": {"Mail Server #2"}, "url": {"http://mail"}, "token": {"tok"}})
	doc = parse(t, rec)
	if v, _ := doc.Find("#host-id").Attr("value"); v != "mail-server-2" {
		t.Errorf("id made from the name: %q, want mail-server-2", v)
	}
	if v, _ := doc.Find("#host-name").Attr("value"); v != "Mail Server #2" {
		t.Errorf("name kept: %q", v)
	}

	// Enrolling without the compared fingerprint is refused; so is every
	// action without the CSRF token, and actions on unknown hosts are 404.
	rec = b.postForm("/hosts", "/hosts", url.Values{"id": {"web"}, "url": {"https://192.0.2.1:9443"}, "token": {"t"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "Compare the agent") {
		t.Errorf("enrol without fingerprint: %d", rec.Code)
	}
	if rec := b.do("POST", "/hosts/probe", url.Values{"id": {"web"}}, nil); rec.Code != http.StatusForbidden {
		t.Errorf("probe without CSRF token: %d, want 403", rec.Code)
	}
	for _, p := range []string{"/hosts/nope/name", "/hosts/nope/enabled", "/hosts/nope/delete", "/hosts/nope/fingerprint"} {
		if rec := b.postForm(p, "/hosts", url.Values{"name": {"x"}, "fingerprint": {"AA"}}); rec.Code != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", p, rec.Code)
		}
	}
	if rec := b.get("/hosts/probe"); rec.Code != http.StatusSeeOther {
		t.Errorf("GET /hosts/probe: %d, want a redirect to the page", rec.Code)
	}
}

// A host whose agent is gone: disabled and enabled from the page, each
// with a flash that says what happened, and removed with a warning that
// its credential could not be revoked.
func TestHostsPageWithADeadAgent(t *testing.T) {
	a, b, _ := loggedInWithFail2ban(t)
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "https://" + ln.Addr().String()
	ln.Close()
	if err := repo.NewHostStore(a.db).Create(ctx, models.RemoteHost{ID: "gone", Name: "Gone", URL: dead, Fingerprint: fakeFingerprint(7), Credential: "secret-credential-0123456789", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := a.s.fleet.Load(ctx); err != nil {
		t.Fatal(err)
	}
	a.s.status.Refresh(ctx)
	state := func(doc *goquery.Document) string {
		return strings.TrimSpace(doc.Find(`tr[data-host="gone"] [data-testid="host-state"]`).Text())
	}
	doc := parse(t, b.get("/hosts"))
	if st := state(doc); st != "Offline" {
		t.Fatalf("a dead agent's host is %q", st)
	}
	if why := doc.Find(`tr[data-host="gone"] [data-testid="host-problem"]`).Text(); !strings.Contains(why, "The agent at "+dead+" does not answer") {
		t.Errorf("last error %q", why)
	}

	assertRedirect(t, b.postForm("/hosts/gone/enabled", "/hosts", url.Values{"enabled": {"off"}}), "/hosts")
	doc = parse(t, b.get("/hosts"))
	if f := doc.Find("#flash").Text(); !strings.Contains(f, "Disabled Gone") || state(doc) != "Disabled" {
		t.Errorf("after disabling: flash %q, state %q", f, state(doc))
	}
	assertRedirect(t, b.postForm("/hosts/gone/enabled", "/hosts", url.Values{"enabled": {"on"}}), "/hosts")
	doc = parse(t, b.get("/hosts"))
	if f := doc.Find("#flash").Text(); !strings.Contains(f, "Enabled Gone. It does not answer yet: The agent at "+dead) || state(doc) != "Offline" {
		t.Errorf("after enabling: flash %q, state %q", f, state(doc))
	}
	assertRedirect(t, b.postForm("/hosts/gone/delete", "/hosts", nil), "/hosts")
	doc = parse(t, b.get("/hosts"))
	if f := doc.Find("#flash .flash--warning").Text(); !strings.Contains(f, "could not be told to forget") || !strings.Contains(f, "archived bans stay") {
		t.Errorf("after removing: flash %q", f)
	}
	if doc.Find(`tr[data-host="gone"]`).Length() != 0 {
		t.Error("the removed host is still listed")
	}
}
