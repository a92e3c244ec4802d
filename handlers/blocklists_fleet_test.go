package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"bangui/fail2ban/sandbox"
	"bangui/models"
)

// blocklistBans returns what a sandbox bans in the blocklist jail, sorted
// (none when the jail does not run).
func blocklistBans(t *testing.T, sb *sandbox.Sandbox) []string {
	t.Helper()
	st, err := sb.Client().JailStatus(context.Background(), models.BlocklistJail)
	if err != nil {
		return nil
	}
	slices.Sort(st.Banned)
	return st.Banned
}

// TestBlocklistSourcesChooseTheirHosts: on a panel with several hosts the
// source form offers the hosts; a source for two hosts imports on both and
// the page shows a result per host; the import log names each host; a
// source with no host ticked is refused.
func TestBlocklistSourcesChooseTheirHosts(t *testing.T) {
	f := fleetApp(t, []string{"web2"}, true)
	b := f.b
	lists := newBlocklistServer(t)
	two := lists.serve("two.txt", "192.0.2.71\n192.0.2.72\n")
	every := lists.serve("every.txt", "198.51.100.0/28\n")

	doc := parse(t, b.get("/blocklists"))
	if doc.Find(`[data-testid="add-hosts"] input[name="hosts"]`).Length() != 3 {
		t.Fatalf("the add form offers hosts %q", doc.Find(`[data-testid="add-hosts"]`).Text())
	}
	if doc.Find(`#add-host-local[checked]`).Length() != 1 || doc.Find(`#add-host-web2[checked]`).Length() != 0 {
		t.Error("a new source does not ban on the local host only by default")
	}

	// No host ticked: refused with a message, nothing added.
	rec := b.postForm("/blocklists/sources", "/blocklists", url.Values{"name": {"None"}, "url": {two}, "enabled": {"on"}})
	if got := fieldErrors(parse(t, rec), "add-hosts"); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(got, "at least one host") {
		t.Fatalf("a source without hosts: %d %q", rec.Code, got)
	}

	assertRedirect(t, b.postForm("/blocklists/sources", "/blocklists",
		url.Values{"name": {"Two"}, "url": {two}, "enabled": {"on"}, "hosts": {"local", "web2"}}), "/blocklists")
	assertRedirect(t, b.postForm("/blocklists/sources", "/blocklists",
		url.Values{"name": {"Every"}, "url": {every}, "enabled": {"on"}, "hosts_all": {"on"}}), "/blocklists")

	assertRedirect(t, b.postForm("/blocklists/import", "/blocklists", nil), "/blocklists")
	doc = waitImport(t, b)
	results := map[string]string{}
	doc.Find(`[data-testid="import-results"] tr[data-source="Every"] [data-testid="result-hosts"] li`).Each(func(_ int, s *goquerySelection) {
		results[s.AttrOr("data-host", "")] = s.Text()
	})
	if !strings.Contains(results["local"], "1 imported") || !strings.Contains(results["web2"], "1 imported") ||
		!strings.Contains(results["gone"], "Gone host: did not import") {
		t.Fatalf("results of the source for every host: %q", results)
	}
	if got := doc.Find(`tr[data-source="Two"] [data-testid="result-hosts"] li`).Length(); got != 2 {
		t.Errorf("the source for two hosts lists %d host results", got)
	}
	for id, sb := range map[string]*sandbox.Sandbox{"local": f.local, "web2": f.other["web2"]} {
		if got, want := blocklistBans(t, sb), []string{"192.0.2.71", "192.0.2.72", "198.51.100.0/28"}; !slices.Equal(got, want) {
			t.Errorf("%s bans %v in the blocklist jail, want %v", id, got, want)
		}
	}

	// The source's page says where it bans; its log has a row per host.
	doc = parse(t, b.get("/blocklists"))
	href, _ := doc.Find(`[data-testid=sources-table] tr[data-source="Every"] a`).First().Attr("href")
	doc = parse(t, b.get(href))
	if got := doc.Find(`[data-testid="source-hosts"]`).Text(); got != "Bans on every host." {
		t.Errorf("the source page says %q", got)
	}
	if doc.Find(`#edit-hosts-all[checked]`).Length() != 1 {
		t.Error("the edit form does not tick every host")
	}
	var logHosts []string
	doc.Find(`[data-testid="log-host"]`).Each(func(_ int, s *goquerySelection) { logHosts = append(logHosts, s.Text()) })
	slices.Sort(logHosts)
	if !slices.Equal(logHosts, []string{"Gone host", "local", "web2"}) {
		t.Errorf("import log hosts %v", logHosts)
	}

	// Editing keeps the choice the form sends.
	assertRedirect(t, b.postForm(href, href, url.Values{"name": {"Every"}, "url": {every}, "enabled": {"on"}, "hosts": {"web2"}}), href)
	if got := parse(t, b.get(href)).Find(`[data-testid="source-hosts"]`).Text(); got != "Bans on web2." {
		t.Errorf("after the edit the source page says %q", got)
	}
}
