package views

import (
	"strings"
	"testing"

	"github.com/a-h/templ"

	"bangui/models"
)

// TestNameLinks: a jail, filter or action name BanGUI's pages accept is a
// link; a hostile one is text, so that no link on a page leads to an error.
func TestNameLinks(t *testing.T) {
	hostile := `"'><img src=x>`
	for _, tc := range []struct {
		name string
		c    templ.Component
		link string // the link's href, "" for none
	}{
		{"jail sshd", jailLink("sshd", jailURL("sshd")), `href="/bangui/jails/sshd"`},
		{"hostile jail", jailLink(hostile, jailURL(hostile)), ""},
		{"filter sshd", itemLink("filter", "sshd"), `href="/bangui/config/filters/sshd"`},
		{"hostile filter", itemLink("filter", hostile), ""},
	} {
		out := renderString(t, "/bangui", tc.c)
		if tc.link != "" && !strings.Contains(out, tc.link) {
			t.Errorf("%s: want a link %s: %s", tc.name, tc.link, out)
		}
		if tc.link == "" && strings.Contains(out, "<a ") {
			t.Errorf("%s: want no link: %s", tc.name, out)
		}
		if strings.Contains(out, "<img") {
			t.Errorf("%s: the name is not escaped: %s", tc.name, out)
		}
	}
}

// TestRefusedJailNamesAreText: where an address is banned (the IP lookup,
// the current bans' jail column, the per-IP page), a jail name BanGUI
// refuses is text and a valid one a link.
func TestRefusedJailNamesAreText(t *testing.T) {
	hostile := `bad jail/..`
	for _, tc := range []struct {
		name string
		c    func(jail string) templ.Component
	}{
		{"lookup", func(j string) templ.Component {
			return lookupCard(LookupView{Query: "192.0.2.1", Result: &models.IPLookup{IP: "192.0.2.1", BannedIn: []string{j}}})
		}},
		{"active bans", func(j string) templ.Component {
			return ActiveBans(ActiveBansTable{ID: "bans", Bans: []models.ActiveBan{{Jail: j, IP: "192.0.2.1"}}})
		}},
		{"per-IP page", func(j string) templ.Component {
			return ipNow("192.0.2.1", IPHost{Host: "local", Current: []models.ActiveBan{{Jail: j, IP: "192.0.2.1"}}}, 0)
		}},
	} {
		if out := renderString(t, "/bangui", tc.c("sshd")); !strings.Contains(out, `href="/bangui/jails/sshd"`) {
			t.Errorf("%s: sshd is not a link: %s", tc.name, out)
		}
		out := renderString(t, "/bangui", tc.c(hostile))
		if !strings.Contains(out, hostile) || strings.Contains(out, "/jails/bad") {
			t.Errorf("%s: a refused jail name is linked: %s", tc.name, out)
		}
	}
}
