package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"bangui/models"
	"bangui/services/allowlist"
)

// TestAllowListPageAddsShowsAndRemoves: an entry added with the form is on
// the page (its note escaped, its time left shown), in the running jail
// and in BanGUI's file; removing it takes it off all three.
func TestAllowListPageAddsShowsAndRemoves(t *testing.T) {
	a, b, sb := configApp(t)
	rec := b.postForm("/allowlist", "/allowlist", url.Values{"addresses": {"192.0.2.40"}, "scope": {"all"},
		"note": {"<b>office</b>"}, "expiry": {"24h"}})
	assertRedirect(t, rec, "/allowlist")
	page := b.get("/allowlist")
	body := page.Body.String()
	if page.Code != http.StatusOK || !strings.Contains(body, "&lt;b&gt;office&lt;/b&gt;") || strings.Contains(body, "<b>office") {
		t.Fatalf("page %d does not show the note escaped:\n%s", page.Code, body)
	}
	doc := parse(t, page)
	row := doc.Find(`tr[data-address="192.0.2.40"]`)
	if row.Length() != 1 || !strings.Contains(row.Find(`[data-testid="allow-left"]`).Text(), "left") {
		t.Fatalf("row = %q", row.Text())
	}
	if l, _ := sb.Client().IgnoreIPs(context.Background(), "web"); !slices.Contains(l, "192.0.2.40") {
		t.Fatalf("web's ignore list = %v", l)
	}
	if n := parse(t, b.get("/allowlist?q=OFFICE")).Find(`tr[data-testid="allow-row"]`).Length(); n != 1 {
		t.Fatalf("a search of the note finds %d rows", n)
	}
	if msg := parse(t, b.get("/allowlist?q=203.0.113")).Find(`[data-testid="allow-empty"]`).Text(); !strings.Contains(msg, "matches") {
		t.Fatalf("a search that finds nothing says %q", msg)
	}
	action, _ := row.Find("form").Attr("action")
	assertRedirect(t, b.postForm(action, "/allowlist", nil), "/allowlist")
	if l, _ := sb.Client().IgnoreIPs(context.Background(), "web"); slices.Contains(l, "192.0.2.40") {
		t.Fatalf("web's ignore list still has it: %v", l)
	}
	data, _ := os.ReadFile(filepath.Join(sb.ConfigDir, allowlist.File))
	if strings.Contains(string(data), "192.0.2.40") {
		t.Fatalf("the file still has it:\n%s", data)
	}
	entries := allowAudit(t, a, models.AuditAllowAdd)
	if len(entries) != 1 || entries[0].Target != "192.0.2.40" || !strings.Contains(entries[0].Detail, "note: <b>office</b>") {
		t.Fatalf("audit of the add = %+v", entries)
	}
	if got := allowAudit(t, a, models.AuditAllowRemove); len(got) != 1 || got[0].Target != "192.0.2.40" || got[0].Result != "ok" {
		t.Fatalf("audit of the removal = %+v", got)
	}
}

func allowAudit(t *testing.T, a *testApp, action models.AuditAction) []models.AuditEntry {
	t.Helper()
	out, _, err := a.s.audits.List(context.Background(), models.AuditFilter{Action: action}, models.Page{Number: 1, Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAllowListRefusesBadInput: malformed addresses, an end in the past, no
// jail ticked and a list above the limit each get a clear message, and
// nothing is written.
func TestAllowListRefusesBadInput(t *testing.T) {
	_, b, sb := configApp(t)
	var big strings.Builder
	for i := range allowlist.MaxEntries + 1 {
		fmt.Fprintf(&big, "10.%d.%d.%d\n", i>>16, (i>>8)&255, i&255)
	}
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"addresses": {"192.0.2.300"}}, "is not an IP address"},
		{url.Values{"addresses": {"bad!name"}}, "not an IP address, CIDR range or DNS name"},
		{url.Values{"addresses": {"192.0.2.1"}, "expiry": {"custom"}, "until": {"2001-01-01T10:00"}}, "is in the past"},
		{url.Values{"addresses": {"192.0.2.1"}, "expiry": {"custom"}, "until": {"tomorrow"}}, "Write the end as"},
		{url.Values{"addresses": {"192.0.2.1"}, "scope": {"jails"}}, "Tick at least one jail"},
		{url.Values{"addresses": {"192.0.2.1"}, "scope": {"jails"}, "jail": {"nosuch"}}, "No jail of this host is called nosuch"},
		{url.Values{"addresses": {"192.0.2.1"}, "note": {strings.Repeat("n", 501)}}, "at most 500"},
		{url.Values{"addresses": {big.String()}}, "holds at most 10000"},
		{url.Values{"addresses": {""}}, "Enter an IP address"},
	} {
		rec := b.postForm("/allowlist", "/allowlist", c.form)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("%v: %d, want 422 saying %q", c.form.Get("addresses")[:min(20, len(c.form.Get("addresses")))], rec.Code, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(sb.ConfigDir, allowlist.File)); !os.IsNotExist(err) {
		t.Fatalf("refused input wrote the file: %v", err)
	}
}

// TestAllowListShowsOtherFilesReadOnly: an entry of a file BanGUI did not
// write is listed with its file and line, offers no removal, and a removal
// posted anyway changes nothing.
func TestAllowListShowsOtherFilesReadOnly(t *testing.T) {
	a, b, sb := configApp(t)
	if err := os.WriteFile(filepath.Join(sb.ConfigDir, "jail.d/admin.local"), []byte("[web]\nignoreip = 198.51.100.7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, _ := a.s.hosts.Get(models.LocalHost)
	if _, err := h.Reload(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	doc := parse(t, b.get("/allowlist"))
	row := doc.Find(`tr[data-address="198.51.100.7"]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), "jail.d/admin.local, line 2") || row.Find("form").Length() != 0 ||
		row.Find(`[data-testid="allow-readonly"]`).Length() != 1 {
		t.Fatalf("read-only row = %q", row.Text())
	}
	before := dirHash(t, sb.ConfigDir)
	rec := b.postForm("/allowlist/1/delete", "/allowlist", nil)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "not on the allow-list") {
		t.Fatalf("removal of an unknown entry: %d %s", rec.Code, rec.Body.String())
	}
	if dirHash(t, sb.ConfigDir) != before {
		t.Fatal("the refused removal changed the configuration")
	}
}

// TestNeverBanConfirmation: the per-IP page links to the confirmation,
// which offers the jail it came from first and goes back there.
func TestNeverBanConfirmation(t *testing.T) {
	_, b, sb := configApp(t)
	if _, err := sb.Client().Ban(context.Background(), "web", "192.0.2.42"); err != nil {
		t.Fatal(err)
	}
	ip := b.get("/history/192.0.2.42")
	link := parse(t, ip).Find(`a[data-testid="never-ban"]`)
	href, ok := link.Attr("href")
	if !ok {
		t.Fatalf("the per-IP page has no Never ban link:\n%s", ip.Body.String())
	}
	rec := b.get(href)
	doc := parse(t, rec)
	if rec.Code != http.StatusOK || !strings.Contains(doc.Find("h1").Text(), "Never ban 192.0.2.42?") {
		t.Fatalf("confirmation %d: %s", rec.Code, doc.Find("h1").Text())
	}
	if rec := b.get("/allowlist/new?ip=192.0.2.999"); rec.Code != http.StatusBadRequest {
		t.Fatalf("a bad address: %d", rec.Code)
	}
	// Without an address: the allow-list page, whose form asks for one.
	assertRedirect(t, b.get("/allowlist/new"), "/allowlist")
	jr := b.get("/allowlist/new?ip=192.0.2.42&jail=web&back=/jails/web")
	jd := parse(t, jr)
	if v, _ := jd.Find(`input[name="scope"][checked]`).Attr("value"); v != "jails" {
		t.Fatalf("scope checked = %q", v)
	}
	if jd.Find(`input[name="jail"][checked]`).Length() != 1 {
		t.Fatal("the jail is not ticked")
	}
	form := url.Values{"addresses": {"192.0.2.42"}, "scope": {"jails"}, "jail": {"web"}, "back": {"/jails/web"}, "expiry": {"1h"}}
	assertRedirect(t, b.postForm("/allowlist", "/allowlist", form), "/jails/web")
	if l, _ := sb.Client().IgnoreIPs(context.Background(), "web"); !slices.Contains(l, "192.0.2.42") {
		t.Fatalf("web's ignore list = %v", l)
	}
}

// TestAllowListPageCapsRows: a long allow-list shows its first rows and
// says how many there are; a search finds the others.
func TestAllowListPageCapsRows(t *testing.T) {
	a, b, _ := configApp(t)
	var reqs []models.AllowRequest
	for i := range 600 {
		reqs = append(reqs, models.AllowRequest{Address: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)})
	}
	if _, err := a.s.allowList.Allow(context.Background(), models.LocalHost, reqs); err != nil {
		t.Fatal(err)
	}
	doc := parse(t, b.get("/allowlist"))
	if n := doc.Find(`tr[data-testid="allow-row"]`).Length(); n != 500 {
		t.Fatalf("%d rows shown, want 500", n)
	}
	if msg := doc.Find(`[data-testid="allow-shown"]`).Text(); !strings.Contains(msg, "500 of 600") {
		t.Fatalf("the page says %q", msg)
	}
	if n := parse(t, b.get("/allowlist?q=10.0.2.")).Find(`tr[data-testid="allow-row"]`).Length(); n != 100 {
		t.Fatalf("a search finds %d rows, want 100", n)
	}
}
