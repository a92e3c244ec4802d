package handlers

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigInGerman shows the configuration pages' messages that the
// German walk cannot reach in German: a change fail2ban refuses and BanGUI
// rolls back (fail2ban's own words kept, marked as its output), the regex
// tester's refusals (each under its field) and fail2ban-regex's, and a
// problem of the configuration reader.
func TestConfigInGerman(t *testing.T) {
	_, b, sb := configApp(t)
	b.headers["Accept-Language"] = "de-DE,de;q=0.9"
	english := englishOnly()

	// A broken regex: fail2ban refuses it at the reload, BanGUI rolls back.
	page := "/config/jails/web"
	form := formValues(parse(t, b.get(page)), `[data-testid="jail-form"]`)
	form.Set("failregex", "Failed (password for .* from <HOST>")
	assertRedirect(t, b.postForm(page, page, form), page)
	doc := parse(t, b.get(page))
	flash := doc.Find("#flash")
	msg := strings.Join(strings.Fields(flash.Text()), " ")
	for _, want := range []string{"Nicht übernommen: fail2ban konnte die Jail web nicht neu laden: Unable to compile regular expression",
		"BanGUI hat zurückgesetzt: jail.d/web.local ist wie zuvor und web läuft mit den vorigen Einstellungen."} {
		if !strings.Contains(msg, want) {
			t.Errorf("German flash after a rollback lacks %q: %q", want, msg)
		}
	}
	if said := flash.Find("samp").Text(); !strings.HasPrefix(said, "Unable to compile regular expression") {
		t.Errorf("fail2ban's words are not marked as its output: <samp>%q</samp> in %q", said, msg)
	}
	if got := untranslated(doc, english); len(got) > 0 {
		t.Errorf("English on the page after a rollback: %q", got)
	}

	// The regex tester: BanGUI's checks, each under its own field, and
	// fail2ban-regex's refusal.
	for _, c := range []struct {
		form       url.Values
		field, msg string
	}{
		{url.Values{"failregex": {""}, "lines": {"x"}}, "#rx-failregex-error", "Füllen Sie das Feld „Fail-Regex“ aus."},
		{url.Values{"failregex": {"<HOST>"}, "ignoreregex": {"a\x01b"}, "lines": {"x"}}, "#rx-ignoreregex-error",
			"Das Feld „Ignore-Regex“ muss eine einzige Zeile ohne Steuerzeichen sein."},
		{url.Values{"failregex": {"<HOST>"}, "datepattern": {strings.Repeat("x", 5000)}, "lines": {"x"}}, "#rx-datepattern-error",
			"Das Feld „Datumsmuster“ ist länger als"},
		{url.Values{"failregex": {"<HOST>"}, "lines": {" "}}, "#rx-lines-error", "Fügen Sie Protokollzeilen ein oder nennen Sie eine Protokolldatei."},
		{url.Values{"failregex": {"(<HOST>"}, "lines": {"x"}}, "#rx-failregex-error", "fail2ban-regex hat es abgelehnt: "},
	} {
		doc := parse(t, b.postForm("/config/regex", "/config/regex", c.form))
		if got := strings.TrimSpace(doc.Find(c.field).Text()); !strings.Contains(got, c.msg) {
			t.Errorf("regex tester %v: %s says %q, want %q", c.form, c.field, got, c.msg)
		}
	}

	// A file the reader cannot parse is listed in German.
	if err := os.WriteFile(filepath.Join(sb.ConfigDir, "jail.d", "broken.local"), []byte("enabled = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	doc = parse(t, b.get("/config"))
	problems := strings.Join(strings.Fields(doc.Find(".flash--error").Text()), " ")
	if want := "jail.d/broken.local, Zeile 1: die Datei beginnt nicht mit einer Abschnittsüberschrift wie [Definition]"; !strings.Contains(problems, want) {
		t.Errorf("reader problem in German: %q, want %q", problems, want)
	}
	if got := untranslated(doc, english); len(got) > 0 {
		t.Errorf("English on /config with a reader problem: %q", got)
	}

	// fail2ban refuses to reload that file: BanGUI's words in German,
	// fail2ban's marked as its output.
	assertRedirect(t, b.postForm("/config/server/reload", "/config/server", url.Values{}), "/config/server")
	doc = parse(t, b.get("/config/server"))
	flash = doc.Find("#flash")
	msg = strings.Join(strings.Fields(flash.Text()), " ")
	t.Logf("reload refused: %q, fail2ban said %q", msg, flash.Find("samp").Text())
	if !strings.HasPrefix(msg, "Neuladen fehlgeschlagen: fail2ban konnte nicht neu laden: ") || flash.Find("samp").Text() == "" {
		t.Errorf("a refused reload in German: %q", msg)
	}

	// A jail whose name BanGUI does not put in a file name.
	if err := os.WriteFile(filepath.Join(sb.ConfigDir, "jail.d", "odd.local"), []byte("[odd jail]\nenabled = false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	doc = parse(t, b.get("/config/jails/odd%20jail"))
	if got := strings.Join(strings.Fields(doc.Find("main").Text()), " "); !strings.Contains(got, `BanGUI kann die Jail "odd jail" nicht mit seinen Formularen bearbeiten`) {
		t.Errorf("a jail the forms cannot edit, in German: %q", got)
	}
}
