package configuration

import (
	"errors"
	"fmt"
	"testing"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/lang"
)

// TestMessagesInGerman: what the configuration refuses reaches a form in
// the language of the request — a refusal of package fail2ban inside an
// error, the reader's and editor's refusals — while its English stays
// for the API and the audit log.
func TestMessagesInGerman(t *testing.T) {
	de := lang.Get("de")
	wrapped := fmt.Errorf("check: %w", &fail2ban.ValidationError{Field: fail2ban.FieldValue, Message: lang.M("cfg.enter_value")})
	if m := messageOf(wrapped); m.ID() != "cfg.enter_value" || m.In(de) != "Geben Sie einen Wert ein." || m.Error() != "Enter a value." {
		t.Errorf("a refusal of package fail2ban: %q, %q", m.In(de), m.Error())
	}
	for _, c := range []struct {
		kind, in, de string
	}{
		{"int", "x", "Geben Sie eine ganze Zahl von 1 bis 1000000 ein."},
		{"formula", "ban.Time * evil", `Die Formel darf "evil" nicht verwenden; erlaubt sind die Namen ban.Time, ban.Count, banFactor, if, else, min und max.`},
		{"paths", "var/log/x", `"var/log/x" ist kein absoluter Dateipfad (optional gefolgt von tail oder head).`},
		{"regexes", "a\n;b", `Zeile 2: fail2ban würde eine Zeile, die mit ";" beginnt, als Kommentar lesen.`},
		{"line", "100% wrong", `Ein % muss als %% geschrieben werden (oder einen Verweis wie %(name)s beginnen); gefunden: "% wrong".`},
	} {
		_, err := checkField(c.kind, c.in)
		if got := messageOf(err).In(de); got != c.de {
			t.Errorf("checkField(%s, %q) in German = %q, want %q", c.kind, c.in, got, c.de)
		}
	}
	_, err := f2bconf.CleanEditable("../jail.local")
	var pe *f2bconf.PathError
	if !errors.As(err, &pe) || pe.Message.In(de) != "Der Dateiname enthält „..“; nur Dateien im Konfigurationsverzeichnis können bearbeitet werden." {
		t.Errorf("a refused file name: %v", err)
	}
	_, err = f2bconf.Parse("jail.d/x.local", []byte("[a]\nx = 1\n[a]\n"))
	if got := messageOf(err).In(de); got != "jail.d/x.local, Zeile 3: der Abschnitt [a] kommt zweimal vor" {
		t.Errorf("a file the reader cannot parse, in German: %q (English %q)", got, err)
	}
}
