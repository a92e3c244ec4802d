package views

import (
	"strings"
	"testing"

	"github.com/a-h/templ"
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
