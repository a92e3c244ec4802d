package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// flowAlertRules adds a ban spike rule on /alerts/rules, is refused an
// absurd threshold with its message, turns the rule off and deletes it.
func flowAlertRules(t *testing.T, b *browser) {
	b.visit(t, "/alerts/rules")
	name := "storm " + b.dev.name
	b.typeInto(t, "#rule-name", name)
	b.do(t, chromedp.SetValue(chromedp.CSS("#rule-kind"), "spike"))
	b.typeInto(t, "#rule-bans", "0")
	b.typeInto(t, "#rule-minutes", "5")
	if status := b.follow(t, button("Save the rule")); status != 422 {
		t.Fatalf("%s: an absurd threshold answered %d, want 422", b.dev.name, status)
	}
	b.expectConsole("status of 422")
	if msg := b.text(t, "[data-testid=rule-error]"); !strings.Contains(msg, "The number of bans must be between 1 and") {
		t.Errorf("%s: the refusal says %q", b.dev.name, msg)
	}
	b.check(t, "alert-rules-refused")
	b.do(t, chromedp.SetValue(chromedp.CSS("#rule-bans"), "100"))
	if status := b.follow(t, button("Save the rule")); status != 200 {
		t.Fatalf("%s: saving the rule answered %d", b.dev.name, status)
	}
	if flash := b.text(t, "[data-testid=rules-flash]"); flash != "The rule was added." {
		t.Errorf("%s: the page says %q after adding", b.dev.name, flash)
	}
	row := `#main tr[data-rule]`
	if got := b.text(t, row); !strings.Contains(got, name) || !strings.Contains(got, "more than 100 bans in 5 minutes, per jail") {
		t.Fatalf("%s: the rule's row = %q", b.dev.name, got)
	}
	b.check(t, "alert-rules")
	if status := b.follow(t, `//button[@aria-label="Turn off the rule `+name+`"]`); status != 200 {
		t.Fatalf("%s: turning the rule off answered %d", b.dev.name, status)
	}
	if status := b.follow(t, `//button[@aria-label="Delete the rule `+name+`"]`); status != 200 {
		t.Fatalf("%s: deleting the rule answered %d", b.dev.name, status)
	}
}
