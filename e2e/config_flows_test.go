package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"bangui/fail2ban/sandbox"
)

// configJails are the jails the configuration flows edit: one running jail
// and one inactive twin per device, so that the devices, which run in
// parallel against one fail2ban, never edit or reload each other's jails.
var configJails = []sandbox.Jail{
	{Name: "cfg-desktop", Filter: "sshd"},
	{Name: "cfg-desktop-off", Filter: "sshd", Disabled: true},
	{Name: "cfg-phone", Filter: "sshd"},
	{Name: "cfg-phone-off", Filter: "sshd", Disabled: true},
}

// configJail is the running jail this device edits.
func configJail(d device) string { return "cfg-" + d.name }

// waitFlash waits until the flash area says want and returns its text.
func (b *browser) waitFlash(t *testing.T, kind, want string) string {
	t.Helper()
	b.waitJS(t, fmt.Sprintf(`[...document.querySelectorAll("#flash .flash--%s")].some(e => e.textContent.includes(%q))`, kind, want))
	return b.text(t, "#flash")
}

// runningMaxRetry reads a jail's max retry as fail2ban runs it, from the
// jails page (which asks the socket).
func (b *browser) runningMaxRetry(t *testing.T, jail string) string {
	t.Helper()
	b.visit(t, "/jails")
	return b.text(t, fmt.Sprintf(`[data-testid="jails-table"] tr[data-jail=%q] td[data-label="Max retry"]`, jail))
}

// flowConfigJail edits max retry of the device's jail and saves, then
// saves a broken regex that fail2ban refuses and BanGUI rolls back.
func flowConfigJail(t *testing.T, b *browser) {
	jail := configJail(b.dev)
	row := fmt.Sprintf(`[data-testid="config-jails"] tr[data-jail=%q]`, jail)
	b.visit(t, "/config")
	if state := b.text(t, row+` [data-testid="jail-state"]`); state != "Active" {
		t.Fatalf("%s: %s shows %q, want Active", b.dev.name, jail, state)
	}
	if state := b.text(t, fmt.Sprintf(`[data-testid="config-jails"] tr[data-jail=%q] [data-testid="jail-state"]`, jail+"-off")); state != "Inactive" {
		t.Fatalf("%s: %s-off shows %q, want Inactive", b.dev.name, jail, state)
	}
	b.check(t, "config-jails")

	if status := b.follow(t, row+" a"); status != 200 {
		t.Fatalf("%s: jail page answered %d", b.dev.name, status)
	}
	b.wantPath(t, basePath+"/config/jails/"+jail)
	b.check(t, "config-jail")

	// Edit max retry and save: htmx posts the boosted form, follows the
	// redirect and shows the result.
	b.typeInto(t, "#f-maxretry", "3")
	b.do(t, b.press(button("Save and apply")))
	msg := b.waitFlash(t, "success", "Saved jail.d/"+jail+".local")
	if !strings.Contains(msg, "runs it with the new values") {
		t.Errorf("%s: flash after saving = %q", b.dev.name, msg)
	}
	if v := eval[string](t, b, `document.getElementById("f-maxretry").value`); v != "3" {
		t.Errorf("%s: max retry field shows %q after saving", b.dev.name, v)
	}
	if src := b.text(t, `[data-testid="merged-jail"] tr[data-option="maxretry"] [data-testid="source"]`); !strings.HasPrefix(src, "jail.d/"+jail+".local:") {
		t.Errorf("%s: merged view says maxretry comes from %q", b.dev.name, src)
	}
	b.check(t, "config-jail-saved")
	if got := b.runningMaxRetry(t, jail); got != "3" {
		t.Fatalf("%s: fail2ban runs %s with max retry %s, want 3", b.dev.name, jail, got)
	}

	// A regex Python cannot compile passes fail2ban's -t but not the
	// reload: BanGUI rolls back and says so.
	b.visit(t, "/config/jails/"+jail)
	b.typeInto(t, "#f-maxretry", "4")
	// A text area: set its value (Clear needs a text node, which an empty one lacks).
	b.do(t, chromedp.SetValue(chromedp.CSS("#f-failregex"), "Failed (password for .* from <HOST>"))
	b.do(t, b.press(button("Save and apply")))
	msg = b.waitFlash(t, "error", "rolled back")
	for _, want := range []string{"Not applied", "Unable to compile regular expression", "jail.d/" + jail + ".local is as it was", jail + " runs with the previous settings"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%s: rollback message lacks %q: %q", b.dev.name, want, msg)
		}
	}
	if v := eval[string](t, b, `document.getElementById("f-failregex").value`); v != "" {
		t.Errorf("%s: fail regex field shows %q after the rollback", b.dev.name, v)
	}
	b.check(t, "config-rollback")
	if got := b.runningMaxRetry(t, jail); got != "3" {
		t.Fatalf("%s: after the rollback %s runs with max retry %s, want 3", b.dev.name, jail, got)
	}
}

// flowConfigActivate activates the device's inactive jail from the list.
func flowConfigActivate(t *testing.T, b *browser) {
	jail := configJail(b.dev) + "-off"
	row := fmt.Sprintf(`[data-testid="config-jails"] tr[data-jail=%q]`, jail)
	b.visit(t, "/config")
	b.do(t, b.press(row+` button[type="submit"]`))
	b.waitFlash(t, "success", "Activated "+jail)
	if d := b.dialogs.last(); !strings.Contains(d, "Activate the jail "+jail+"?") {
		t.Errorf("%s: confirmation = %q", b.dev.name, d)
	}
	if state := b.text(t, row+` [data-testid="jail-state"]`); state != "Active" {
		t.Fatalf("%s: %s shows %q after activation", b.dev.name, jail, state)
	}
	b.check(t, "config-activated")
	b.visit(t, "/jails")
	b.do(t, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-testid="jails-table"] tr[data-jail=%q]`, jail))))
}

// flowConfigTabs visits the other tabs: filters, actions, raw files,
// server, the regex tester (with a real run) and the log.
func flowConfigTabs(t *testing.T, b *browser) {
	jail := configJail(b.dev)
	b.visit(t, "/config/filters")
	if used := b.text(t, `[data-testid="config-filters"] tr[data-item="sshd"] td[data-label="Used by"]`); !strings.Contains(used, jail) {
		t.Errorf("%s: sshd used by %q", b.dev.name, used)
	}
	b.check(t, "config-filters")
	b.visit(t, "/config/filters/sshd")
	b.check(t, "config-filter")
	b.visit(t, "/config/actions")
	b.check(t, "config-actions")
	b.visit(t, "/config/actions/dummy")
	b.check(t, "config-action")

	b.visit(t, "/config/raw?file=jail.d/"+jail+".local")
	if v := eval[string](t, b, `document.getElementById("raw-content").value`); !strings.Contains(v, "maxretry = 3") {
		t.Errorf("%s: raw editor shows %q", b.dev.name, v)
	}
	b.check(t, "config-raw")

	b.visit(t, "/config/server")
	if lv := eval[string](t, b, `document.getElementById("f-loglevel").value`); lv != "INFO" {
		t.Errorf("%s: log level %q", b.dev.name, lv)
	}
	b.check(t, "config-server")

	b.visit(t, "/config/regex")
	b.typeInto(t, "#rx-failregex", `Failed password for \S+ from <HOST>`)
	b.do(t, chromedp.SetValue(chromedp.CSS("#rx-lines"),
		"2024-01-02 03:04:05 sshd[7]: Failed password for root from 198.51.100.77 port 22\n2024-01-02 03:04:06 sshd[7]: Accepted key for root"))
	b.do(t, b.press(button("Test")), chromedp.WaitVisible(chromedp.CSS("#regex-result")))
	if s := b.text(t, `[data-testid="regex-summary"]`); !strings.Contains(s, "1 matched") || !strings.Contains(s, "1 missed") {
		t.Errorf("%s: regex summary %q", b.dev.name, s)
	}
	if host := b.text(t, `tr[data-result="matched"] td[data-label="Host"]`); host != "198.51.100.77" {
		t.Errorf("%s: matched host %q", b.dev.name, host)
	}
	b.check(t, "config-regex")

	b.visit(t, "/config/log?n=100&q=cfg-")
	if n := eval[int](t, b, `document.querySelectorAll('[data-testid="log-lines"] li').length`); n == 0 {
		t.Errorf("%s: no log lines mention the cfg- jails", b.dev.name)
	}
	b.check(t, "config-log")
}
