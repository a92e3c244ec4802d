package hosts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"testing"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts/wire"
	"bangui/lang"
	"bangui/repo"
)

// TestErrorsCrossTheWire: every error type the panel tells apart comes back
// from DecodeError(EncodeError(err)) with its type, its fields, its
// sentinels and the same message, wrapped or not.
func TestErrorsCrossTheWire(t *testing.T) {
	cases := []struct {
		err   error
		check func(error) bool
	}{
		{&fail2ban.ValidationError{Field: fail2ban.FieldIP, Message: lang.Raw("bad address")}, func(e error) bool {
			var ve *fail2ban.ValidationError
			return errors.As(e, &ve) && ve.Field == fail2ban.FieldIP && ve.Message.Error() == "bad address"
		}},
		{fmt.Errorf("read x: %w", &f2bconf.PathError{Name: "../x", Message: lang.M("cfg.path_dotdot")}), func(e error) bool {
			var pe *f2bconf.PathError
			return errors.As(e, &pe) && pe.Name == "../x" && pe.Message.ID() == "cfg.path_dotdot"
		}},
		{&f2bconf.ValueError{Line: 2, Message: lang.Raw("breaks the line")}, func(e error) bool {
			var ve *f2bconf.ValueError
			return errors.As(e, &ve) && ve.Line == 2
		}},
		{&LogPathError{Path: "/etc/passwd", Err: fmt.Errorf("%w (/var/log)", ErrLogNotAllowed)}, func(e error) bool {
			var lpe *LogPathError
			return errors.As(e, &lpe) && lpe.Path == "/etc/passwd" && errors.Is(e, ErrLogNotAllowed)
		}},
		{&LogPathError{Path: "/var/log/x", Err: errors.New("missing")}, func(e error) bool {
			var lpe *LogPathError
			return errors.As(e, &lpe) && !errors.Is(e, ErrLogNotAllowed)
		}},
		{&fail2ban.RegexError{Message: lang.Raw("unbalanced")}, func(e error) bool {
			var rx *fail2ban.RegexError
			return errors.As(e, &rx) && rx.Message.Error() == "unbalanced"
		}},
		{&RestartCommandError{Command: []string{"systemctl", "restart", "fail2ban"}, Output: "no", Err: errors.New("exit status 1")}, func(e error) bool {
			var rce *RestartCommandError
			return errors.As(e, &rce) && reflect.DeepEqual(rce.Command, []string{"systemctl", "restart", "fail2ban"}) && rce.Output == "no"
		}},
		{&fail2ban.RunError{Args: []string{"fail2ban-client", "-t"}, Output: "ERROR x", Err: context.DeadlineExceeded, TimedOut: true}, func(e error) bool {
			var re *fail2ban.RunError
			return errors.As(e, &re) && re.TimedOut && re.Output == "ERROR x" && errors.Is(e, fail2ban.ErrTimeout)
		}},
		{fmt.Errorf("status: %w", &fail2ban.CommandError{Class: "fail2ban.exceptions.UnknownJailException", Message: "nope"}), func(e error) bool {
			return errors.Is(e, fail2ban.ErrUnknownJail)
		}},
		{&fail2ban.ProtocolError{Message: "bad reply"}, func(e error) bool {
			var pe *fail2ban.ProtocolError
			return errors.As(e, &pe)
		}},
		{fmt.Errorf("dial: %w", fail2ban.ErrUnreachable), func(e error) bool { return fail2ban.IsUnreachable(e) }},
		{fmt.Errorf("x: %w", fail2ban.ErrPermission), func(e error) bool { return errors.Is(e, fail2ban.ErrPermission) }},
		{fail2ban.ErrNoDatabase, func(e error) bool { return errors.Is(e, fail2ban.ErrNoDatabase) }},
		{fmt.Errorf("%w: %w", f2bconf.ErrEditRunning, context.DeadlineExceeded), func(e error) bool { return errors.Is(e, f2bconf.ErrEditRunning) }},
		{fmt.Errorf("rows: %w", repo.ErrBusy), func(e error) bool { return errors.Is(e, repo.ErrBusy) }},
		{fmt.Errorf("open: %w", fs.ErrNotExist), func(e error) bool { return errors.Is(e, fs.ErrNotExist) }},
		{errors.New("something else"), func(e error) bool {
			var ae *AgentError
			return errors.As(e, &ae) && ae.Code == wire.CodeError
		}},
	}
	for _, c := range cases {
		got := DecodeError(EncodeError(c.err))
		if got.Error() != c.err.Error() || !c.check(got) {
			t.Errorf("%T %q came back as %T %q", c.err, c.err, got, got)
		}
	}
	refused := DecodeError(wire.Error{Code: wire.CodeUnauthorized, Message: "the credential is wrong"})
	if !errors.Is(refused, ErrAgentRefused) || refused.Error() != "the credential is wrong" {
		t.Errorf("refused: %v", refused)
	}
	var ve *fail2ban.ValidationError
	if bad := DecodeError(wire.Error{Code: wire.CodeBadRequest, Message: "at most 10000 addresses per call"}); !errors.As(bad, &ve) {
		t.Errorf("bad request: %T %v", bad, bad)
	}
}
