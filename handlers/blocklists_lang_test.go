package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"bangui/services/blocklists"
)

// TestBlocklistImportInGerman: an import against a real fail2ban of a list
// whose server answers 404 and of a list with broken lines. A German
// reader sees the download's failure and the skip reasons in German, on
// the result and in the import log; an English reader sees the same log
// entries in English.
func TestBlocklistImportInGerman(t *testing.T) {
	a, b, _ := loggedInWithFail2ban(t)
	b.headers = map[string]string{"Accept-Language": "de-DE,de;q=0.9"}
	lists := newBlocklistServer(t)
	broken := lists.serve("broken.txt", "192.0.2.71\n192.0.2.71\nbogus\nnot an address either\n0.0.0.0\n")
	missing := httpNotFound(t)
	ctx := context.Background()
	ids := map[string]int64{}
	for name, u := range map[string]string{"Kaputt": broken, "Fehlt": missing} {
		src, err := a.s.blocklists.CreateSource(ctx, blocklists.SourceInput{Name: name, URL: u, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = src.ID
	}
	pv := parse(t, b.get("/blocklists/sources/"+itoa(ids["Fehlt"])+"/preview")).Find("#preview").Text()
	if !strings.Contains(pv, "Die Liste konnte nicht gelesen werden: Der Server antwortete 404 Not Found.") {
		t.Errorf("preview of a missing list in German: %q", pv)
	}
	assertRedirect(t, b.postForm("/blocklists/import", "/blocklists", nil), "/blocklists")
	doc := waitImport(t, b)
	gone := doc.Find(`[data-testid=import-results] tr[data-source="Fehlt"] [data-testid=result-error]`).Text()
	if gone != "Der Server antwortete 404 Not Found." {
		t.Errorf("download failure in German: %q", gone)
	}
	why := doc.Find(`[data-testid=import-results] tr[data-source="Kaputt"] [data-testid=result-skip-reasons]`).Text()
	if why != "Übersprungen: 2 ungültig, 1 doppelt, 1 reservierte Adresse." {
		t.Errorf("skip reasons in German: %q", why)
	}

	logText := parse(t, b.get("/blocklists")).Find("#import-log .log-error").Text()
	if !strings.Contains(logText, "Der Server antwortete 404 Not Found.") {
		t.Errorf("the import log in German: %q", logText)
	}
	b.headers = map[string]string{"Accept-Language": "en"}
	if logText := parse(t, b.get("/blocklists")).Find("#import-log .log-error").Text(); !strings.Contains(logText, "The server answered 404 Not Found.") {
		t.Errorf("the import log in English: %q", logText)
	}
}

// TestBlocklistNavAndJailInGerman: the navigation's badge after a failed
// scheduled import and the jail card of an unreachable fail2ban read in
// German.
func TestBlocklistNavAndJailInGerman(t *testing.T) {
	a := newTestApp(t, t.TempDir())
	b := a.browser()
	b.completeSetup()
	assertRedirect(t, b.login(goodPassword), "/")
	b.headers = map[string]string{"Accept-Language": "de"}
	lists := newBlocklistServer(t)
	if _, err := a.s.blocklists.CreateSource(context.Background(), blocklists.SourceInput{Name: "Broken", URL: lists.URL + "/missing.txt", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	a.s.blocklists.RunScheduled(context.Background())
	doc := parse(t, b.get("/blocklists"))
	if badge := doc.Find(`#site-nav a[href="/blocklists"] [data-testid=nav-alert]`).Text(); !strings.Contains(badge, "der letzte geplante Import hatte Fehler") {
		t.Errorf("nav badge: %q", badge)
	}
	if j := doc.Find("[data-testid=blocklist-jail]").Text(); !strings.Contains(j, "fail2ban antwortet nicht, daher kann BanGUI nicht sagen") {
		t.Errorf("jail card = %q", j)
	}
}

// httpNotFound is the address of a list that a server answers 404 for.
func httpNotFound(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	return srv.URL + "/gone.txt"
}
