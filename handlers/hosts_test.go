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
	b, dead := withDeadAgent(t)
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

// withDeadAgent is a logged-in browser on a panel with the host "gone"
// (named Gone) whose agent at dead does not answer, checked once.
func withDeadAgent(t *testing.T) (b *browser, dead string) {
	t.Helper()
	a, b, _ := loggedInWithFail2ban(t)
	ctx := context.Background()
	dead = deadAgentURL(t)
	if err := repo.NewHostStore(a.db).Create(ctx, models.RemoteHost{ID: "gone", Name: "Gone", URL: dead, Fingerprint: fakeFingerprint(7), Credential: "secret-credential-0123456789", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := a.s.fleet.Load(ctx); err != nil {
		t.Fatal(err)
	}
	a.s.status.Refresh(ctx)
	return b, dead
}

// deadAgentURL is the https address of a port nothing listens on.
func deadAgentURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "https://" + ln.Addr().String()
	ln.Close()
	return u
}

// assertNoEnglish fails when text holds one of the English phrases of the
// hosts' and the status probe's messages.
func assertNoEnglish(t *testing.T, where, text string) {
	t.Helper()
	for _, en := range []string{"The agent", "the agent", "does not answer", "nothing listens", "could not", "certificate", "fail2ban's socket"} {
		if strings.Contains(text, en) {
			t.Errorf("%s in German holds %q: %q", where, en, text)
		}
	}
}

// A German admin reads an unreachable agent in German: on /hosts, in the
// status bar, in the flashes of enabling and removing the host, and when
// the first step of adding a host cannot reach the address.
func TestHostsPageInGermanWithADeadAgent(t *testing.T) {
	b, dead := withDeadAgent(t)
	b.headers = map[string]string{"Accept-Language": "de-DE,de;q=0.9"}
	down := "Der Agent unter " + dead + " antwortet nicht: unter dieser Adresse lauscht nichts (Verbindung abgelehnt): der Agent ist angehalten oder lauscht woanders."

	doc := parse(t, b.get("/hosts"))
	why := strings.TrimSpace(doc.Find(`tr[data-host="gone"] [data-testid="host-problem"]`).Text())
	if why != down {
		t.Errorf("last error on /hosts: %q, want %q", why, down)
	}
	assertNoEnglish(t, "/hosts", why)
	bar := strings.Join(strings.Fields(parse(t, b.do("GET", "/status", nil, map[string]string{"HX-Request": "true"})).Find("[data-testid=status-offline]").Text()), " ")
	if !strings.Contains(bar, "Gone hat nicht geantwortet: "+down) {
		t.Errorf("status bar: %q", bar)
	}
	assertNoEnglish(t, "the status bar", bar)

	assertRedirect(t, b.postForm("/hosts/gone/enabled", "/hosts", url.Values{"enabled": {"off"}}), "/hosts")
	b.get("/hosts")
	assertRedirect(t, b.postForm("/hosts/gone/enabled", "/hosts", url.Values{"enabled": {"on"}}), "/hosts")
	if f := hostsFlash(t, b); !strings.Contains(f, "Er antwortet noch nicht: "+down) {
		t.Errorf("flash after enabling: %q", f)
	}

	// Adding an agent at another dead address: refused next to the address.
	other := deadAgentURL(t)
	rec := b.postForm("/hosts/probe", "/hosts", url.Values{"name": {"Tot"}, "url": {other}, "token": {"tok-123"}})
	got := fieldErrors(parse(t, rec), "host-url")
	want := "Das Panel konnte keinen Agenten unter " + other + " erreichen: der Agent unter " + other + " antwortet nicht: unter dieser Adresse lauscht nichts"
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(got, want) {
		t.Errorf("probe of a dead address: %d %q, want %q", rec.Code, got, want)
	}
	assertNoEnglish(t, "the probe's refusal", got)

	// Removing it: its credential could not be revoked, said in German.
	assertRedirect(t, b.postForm("/hosts/gone/delete", "/hosts", nil), "/hosts")
	if f := hostsFlash(t, b); !strings.Contains(f, "konnte nicht angewiesen werden") || !strings.Contains(f, "der Agent unter "+dead+" antwortet nicht") {
		t.Errorf("flash after removing: %q", f)
	}
}

// hostsFlash is the flash of the next /hosts page.
func hostsFlash(t *testing.T, b *browser) string {
	t.Helper()
	return strings.Join(strings.Fields(parse(t, b.get("/hosts")).Find("#flash").Text()), " ")
}

// germanCertificateChange checks, while the agent of edge-one presents a
// new certificate, that a German admin reads why in German on /hosts and
// in the status bar, and that accepting the old fingerprint (which the
// agent no longer presents) is refused in German. The browser asks in
// English again afterwards.
func germanCertificateChange(t *testing.T, b *browser, seen *bodies, oldFingerprint string) {
	t.Helper()
	b.headers = map[string]string{"Accept-Language": "de"}
	defer func() { b.headers = nil }()
	changed := "Das Zertifikat des Agenten hat sich geändert, daher spricht das Panel nicht mehr mit ihm."
	doc := parse(t, seen.keep(b.get("/hosts")))
	why := strings.TrimSpace(doc.Find(`tr[data-host="edge-one"] [data-testid="host-problem"]`).Text())
	if !strings.HasPrefix(why, changed) {
		t.Errorf("last error on /hosts: %q", why)
	}
	assertNoEnglish(t, "/hosts", why)
	bar := strings.Join(strings.Fields(parse(t, seen.keep(b.do("GET", "/status", nil, map[string]string{"HX-Request": "true"}))).Find("[data-testid=status-offline]").Text()), " ")
	if !strings.Contains(bar, changed) {
		t.Errorf("status bar: %q", bar)
	}
	assertNoEnglish(t, "the status bar", bar)
	if rec := seen.keep(b.postForm("/hosts/edge-one/fingerprint", "/hosts", url.Values{"fingerprint": {oldFingerprint}})); rec.Code != http.StatusSeeOther {
		t.Fatalf("accepting the old fingerprint: status %d", rec.Code)
	}
	f := strings.Join(strings.Fields(parse(t, seen.keep(b.get("/hosts"))).Find("#flash").Text()), " ")
	if !strings.Contains(f, "legt ein anderes Zertifikat (") || !strings.Contains(f, "prüfen Sie den Agenten, bevor Sie annehmen") {
		t.Errorf("flash after accepting the old fingerprint: %q", f)
	}
}
