package handlers

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"bangui/models"
	"bangui/repo"
)

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
	a, b, _ := loggedInWithFail2ban(t)
	ctx := context.Background()
	dead := deadAgentURL(t)
	if err := repo.NewHostStore(a.db).Create(ctx, models.RemoteHost{ID: "gone", Name: "Gone", URL: dead, Fingerprint: fakeFingerprint(7), Credential: "secret-credential-0123456789", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := a.s.fleet.Load(ctx); err != nil {
		t.Fatal(err)
	}
	a.s.status.Refresh(ctx)
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
