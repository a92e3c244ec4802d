package hosts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"bangui/hosts/wire"
	"bangui/lang"
)

// The hosts' errors read in German for a German user, also when they come
// from an agent over the wire, and stay English as errors.
func TestErrorsInGerman(t *testing.T) {
	de := lang.Get("de")
	root := t.TempDir()
	logs := filepath.Join(root, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	_, outside := NewLocal(LocalOptions{LogDirs: []string{logs}}).TailLog(context.Background(), "/etc/passwd", 5, "")
	overWire := DecodeError(EncodeError(outside))
	cases := []struct {
		err    error
		en, de string
	}{
		{outside, "the file is not inside the folders BanGUI may read (" + logs + ")", "die Datei liegt nicht in den Ordnern, die BanGUI lesen darf (" + logs + ")"},
		{overWire, "the file is not inside the folders BanGUI may read (" + logs + ")", "die Datei liegt nicht in den Ordnern, die BanGUI lesen darf (" + logs + ")"},
		{&FingerprintError{Want: "AA", Got: "BB"}, "the agent's certificate changed: expected AA, got BB", "das Zertifikat des Agenten hat sich geändert: erwartet AA, erhalten BB"},
		{&UnreachableError{URL: "https://web-1:9443", Err: syscall.ECONNREFUSED}, "the agent at https://web-1:9443 does not answer: nothing listens at that address (connection refused): the agent is stopped or listens elsewhere",
			"der Agent unter https://web-1:9443 antwortet nicht: unter dieser Adresse lauscht nichts (Verbindung abgelehnt): der Agent ist angehalten oder lauscht woanders"},
		{&UnreachableError{URL: "https://web-1:9443", Err: context.DeadlineExceeded, Timeout: true}, "the agent at https://web-1:9443 did not answer in time", "der Agent unter https://web-1:9443 hat nicht rechtzeitig geantwortet"},
		{DecodeError(wire.Error{Code: wire.CodeUnknownMethod, Message: "no such call"}), "no such call (is bangui agent on that host older than the panel? update it)",
			"no such call (ist bangui agent auf diesem Host älter als das Panel? Aktualisieren Sie ihn)"},
		{&RestartCommandError{Command: []string{"systemctl", "restart", "fail2ban"}, Output: "no", Err: errors.New("exit status 1")},
			"the restart command systemctl restart fail2ban failed: no: exit status 1", "der Neustartbefehl systemctl restart fail2ban ist fehlgeschlagen: no: exit status 1"},
		{&UnknownHostError{ID: "web-9"}, `unknown fail2ban host "web-9"`, `unbekannter fail2ban-Host "web-9"`},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.en {
			t.Errorf("%T in English: %q, want %q", c.err, got, c.en)
		}
		if got := lang.Of(c.err).In(de); got != c.de {
			t.Errorf("%T in German: %q, want %q", c.err, got, c.de)
		}
	}
	if !errors.Is(overWire, ErrLogNotAllowed) || !strings.Contains(overWire.Error(), logs) {
		t.Errorf("over the wire: %v", overWire)
	}
}
