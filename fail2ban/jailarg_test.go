package fail2ban

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckJailArg: names fail2ban can run from its configuration pass,
// even when BanGUI would not create them; what would change a command's
// meaning does not.
func TestCheckJailArg(t *testing.T) {
	for _, name := range []string{"sshd", "my jail", `x"><img src=x>`, "jäil", strings.Repeat("a", 200)} {
		if err := checkJailArg(name); err != nil {
			t.Errorf("checkJailArg(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "-all", "--all", "a\nb", "a\x00b", "dbfile", "LogLevel", "\xff", strings.Repeat("a", maxJailArgLen+1)} {
		var ve *ValidationError
		if err := checkJailArg(name); !errors.As(err, &ve) || ve.Field != FieldJail {
			t.Errorf("checkJailArg(%q) = %v, want a jail ValidationError", name, err)
		}
	}
}
