package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"bangui/services/alerts"
	"bangui/services/alerts/alertstest"
)

// flowAlerts adds a webhook channel on /alerts that points at a receiver
// in the test process, presses Send test (the receiver checks the HMAC
// signature) and reads the server's answer on the page; then adds a rule
// that sends to the channel, chosen by name, and deletes rule and channel.
func flowAlerts(t *testing.T, b *browser) {
	key := "e2e-hook-key-" + b.dev.name
	hook := alertstest.NewWebhook(t, alerts.SignatureHeader, key)
	name := "ops " + b.dev.name
	b.visit(t, "/alerts")
	b.typeInto(t, "#channel-name", name)
	b.do(t, chromedp.SetValue(chromedp.CSS("#channel-kind"), alerts.KindWebhook))
	b.typeInto(t, "#channel-url", "ftp://example.org/hook")
	if status := b.follow(t, button("Save")); status != 422 {
		t.Fatalf("%s: a channel with a bad URL answered %d, want 422", b.dev.name, status)
	}
	b.expectConsole("status of 422")
	if page := b.text(t, "[data-testid=alert-channel-form]"); !strings.Contains(page, "URL must start with http:// or https://") {
		t.Errorf("%s: the refusal of a bad URL says %q", b.dev.name, page)
	}
	b.typeInto(t, "#channel-url", hook.URL+"/bangui")
	b.typeInto(t, "#channel-secret", key)
	if status := b.follow(t, button("Save")); status != 200 {
		t.Fatalf("%s: saving the channel answered %d", b.dev.name, status)
	}
	if got := b.text(t, "[data-testid=alert-channels]"); !strings.Contains(got, name) || strings.Contains(got, key) {
		t.Fatalf("%s: the channels read %q, want %s with its secret masked", b.dev.name, got, name)
	}
	if status := b.follow(t, fmt.Sprintf(`//button[@aria-label=%q]`, "Send a test message to "+name)); status != 200 {
		t.Fatalf("%s: Send test answered %d", b.dev.name, status)
	}
	res := b.text(t, "[data-testid=alert-test-result]")
	if !strings.Contains(res, "Test of "+name+": delivered.") || !strings.Contains(res, "The server answered 200 OK") {
		t.Errorf("%s: the test's result reads %q", b.dev.name, res)
	}
	got := hook.Bodies()
	if len(got) != 1 || got[0]["subject"] != "BanGUI test message" || hook.BadSignatures() != 0 {
		t.Fatalf("%s: the receiver got %v (%d bad signatures), want one signed test message", b.dev.name, got, hook.BadSignatures())
	}
	b.check(t, "alerts-test")

	b.visit(t, "/alerts/rules")
	rule := "watch " + b.dev.name
	b.typeInto(t, "#rule-name", rule)
	b.do(t, chromedp.SetValue(chromedp.CSS("#rule-kind"), "watch"))
	b.do(t, chromedp.SetValue(chromedp.CSS("#rule-addresses"), "203.0.113.0/24"))
	b.do(t, b.press(fmt.Sprintf(`//label[normalize-space()=%q]`, name+" (webhook)")))
	if status := b.follow(t, button("Save the rule")); status != 200 {
		t.Fatalf("%s: saving the rule answered %d", b.dev.name, status)
	}
	row := fmt.Sprintf(`//tr[@data-rule][td[normalize-space()=%q]]`, rule)
	text := run(t, b, chromedp.Text(chromedp.Search(row)))
	if !strings.Contains(text, "bans and failures of 203.0.113.0/24") || !strings.Contains(text, name) {
		t.Fatalf("%s: the rule's row = %q, want the watched range and the channel's name", b.dev.name, text)
	}
	b.check(t, "alerts-rule")
	if status := b.follow(t, `//button[@aria-label="Delete the rule `+rule+`"]`); status != 200 {
		t.Fatalf("%s: deleting the rule answered %d", b.dev.name, status)
	}
	b.visit(t, "/alerts")
	if status := b.follow(t, fmt.Sprintf(`//button[@aria-label=%q]`, "Delete the channel "+name)); status != 200 {
		t.Fatalf("%s: deleting the channel answered %d", b.dev.name, status)
	}
}
