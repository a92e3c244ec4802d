package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// flowAccounts: the admin opens Users from the top bar, adds a viewer
// (after a refused try that explains itself), and opens their own account
// page with this browser's session listed.
func flowAccounts(t *testing.T, b *browser) {
	if status := b.follow(t, `[data-testid=user-menu] a[href="`+basePath+`/users"]`); status != 200 {
		t.Fatalf("%s: users page answered %d", b.dev.name, status)
	}
	b.wantPath(t, basePath+"/users")
	if !strings.Contains(b.text(t, "[data-testid=users-table]"), adminName) {
		t.Errorf("%s: the users table lacks %s", b.dev.name, adminName)
	}
	b.check(t, "users")

	name := "viewer-" + b.dev.name
	b.typeInto(t, "#new-username", name)
	b.do(t, chromedp.SetValue(chromedp.CSS("#new-role"), "viewer"))
	b.typeInto(t, "#new-password", "Viewer-Passw0rd")
	b.typeInto(t, "#new-confirm", "Not-the-same-1")
	// The boosted form: htmx swaps the refusal (a 422) in as the page.
	b.do(t, b.press(button("Add the user")))
	b.waitJS(t, `document.querySelector("#new-confirm-error")`)
	if msg := b.text(t, "#new-confirm-error"); !strings.Contains(msg, "differ") {
		t.Errorf("%s: confirm error = %q", b.dev.name, msg)
	}
	b.expectConsole("status of 422")
	// htmx swaps a 422 as an answer, not an error (the htmx-config meta):
	// its "Response Status Error Code 422" would fail the check.
	b.check(t, "users-refused")
	b.typeInto(t, "#new-password", "Viewer-Passw0rd")
	b.typeInto(t, "#new-confirm", "Viewer-Passw0rd")
	b.do(t, b.press(button("Add the user")))
	b.waitJS(t, `document.querySelector('tr[data-user="`+name+`"]')`)
	b.wantPath(t, basePath+"/users")
	if msg := b.text(t, "#flash"); !strings.Contains(msg, "Added "+name+" as viewer") {
		t.Errorf("%s: flash after adding = %q", b.dev.name, msg)
	}

	if status := b.follow(t, `[data-testid=user-menu] a[href="`+basePath+`/account"]`); status != 200 {
		t.Fatalf("%s: account page answered %d", b.dev.name, status)
	}
	if role := b.text(t, "[data-testid=account-role]"); role != "admin" {
		t.Errorf("%s: account role = %q", b.dev.name, role)
	}
	if s := b.text(t, "[data-testid=sessions-table]"); !strings.Contains(s, "this browser") {
		t.Errorf("%s: sessions table = %q", b.dev.name, s)
	}
	b.check(t, "account")
}
