package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"bangui/views"
)

// TestGermanBanResultsShowNoEnglish follows what the refusal walk cannot
// reach on the pages of bans, in German (the browser asks for it): the
// result of an allow-list add, a bulk job's per-address results, a timed
// ban fail2ban could not make and one the form refused, the flashes of an
// unban and of a jail's buttons, and the place label of a private address
// on its page.
func TestGermanBanResultsShowNoEnglish(t *testing.T) {
	english := englishOnly()
	a, b, sb := loggedInWithFail2ban(t)
	b.headers = map[string]string{"Accept-Language": "de-DE,de;q=0.9"}
	ctx := context.Background()
	host := a.app.Hosts.Local().ID()
	german := func(what string, doc *goquery.Selection, want string) {
		t.Helper()
		text := strings.Join(strings.Fields(doc.Text()), " ")
		if !strings.Contains(text, want) {
			t.Errorf("%s: %q does not say %q", what, text, want)
		}
		for _, found := range untranslated(goquery.NewDocumentFromNode(doc.Nodes[0]), english) {
			t.Errorf("%s: English in German: %s", what, found)
		}
	}
	// An allow-list add: the flash of the redirect's page.
	rec := b.postForm("/allowlist", "/allowlist", url.Values{"addresses": {"192.0.2.41"}, "scope": {"all"}})
	assertRedirect(t, rec, "/allowlist")
	german("allow-list add", parse(t, b.get(rec.Header().Get("Location"))).Find("#flash"), "192.0.2.41 steht auf der Ausnahmeliste für jede Jail")

	// A bulk unban of one banned and one unbanned address: the job page
	// lists why the second was not unbanned.
	if _, err := sb.Client().Ban(ctx, "sshd", "198.51.100.61"); err != nil {
		t.Fatal(err)
	}
	rec = b.postForm("/bulk/run", "/", url.Values{"action": {"unban"},
		"row": {views.BulkRow(host, "sshd", "198.51.100.61"), views.BulkRow(host, "sshd", "198.51.100.62")}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("bulk unban: %d %.400s", rec.Code, rec.Body.String())
	}
	job := followBulkJob(t, b, rec.Header().Get("Location"))
	german("bulk job", job.Find("[data-testid=bulk-failures]"), "war in sshd nicht gesperrt")

	// A timed ban the form refuses, and one fail2ban cannot make (no such
	// jail runs).
	rec = b.postForm("/jails/ban", "/jails", url.Values{"target": {"192.0.2.42"}, "jail": {"sshd"}, "duration": {"custom"}, "custom": {"5s"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a ban of 5 s: %d", rec.Code)
	}
	german("timed ban refused", parse(t, rec).Find("form").Has(`[name="custom"]`), "Eine gewählte Sperrzeit muss mindestens 10 s betragen.")
	rec = b.postForm("/jails/ban", "/jails", url.Values{"target": {"192.0.2.43"}, "jail": {"nosuch"}, "duration": {"1h"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("a timed ban in no jail: %d %.300s", rec.Code, rec.Body.String())
	}
	german("timed ban failed", parse(t, b.get(rec.Header().Get("Location"))).Find("#flash"),
		"Nicht jede Sperre wurde gesetzt: 192.0.2.43: fail2ban betreibt keine Jail nosuch; nichts wurde gesperrt.")

	// An unban of an address that is not banned, and a jail's idle button.
	rec = b.postForm("/jails/unban", "/jails", url.Values{"target": {"192.0.2.44"}, "jail": {"sshd"}})
	german("unban", parse(t, b.get(rec.Header().Get("Location"))).Find("#flash"), "192.0.2.44 war in sshd nicht gesperrt; nichts wurde geändert.")
	rec = b.postForm("/jails/sshd/idle", "/jails", url.Values{"idle": {views.CheckboxOn}})
	german("idle", parse(t, b.get(rec.Header().Get("Location"))).Find("#flash"), "Die Jail sshd ist nun im Leerlauf")

	// A private address's page names its kind of range.
	if _, err := sb.Client().Ban(ctx, "sshd", "10.1.2.4"); err != nil {
		t.Fatal(err)
	}
	page := b.get("/history/10.1.2.4")
	if page.Code != http.StatusOK {
		t.Fatalf("/history/10.1.2.4: %d", page.Code)
	}
	german("per-IP page", parse(t, page).Find(".country--special").First(), "privates Netz")
}
