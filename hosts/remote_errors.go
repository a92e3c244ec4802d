package hosts

import (
	"errors"
	"io/fs"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/hosts/wire"
	"bangui/lang"
	"bangui/repo"
)

// EncodeError turns an error of a host into its wire form: the agent
// answers with it, and DecodeError gives the panel the same Go error back.
func EncodeError(err error) wire.Error {
	e := wire.Error{Code: wire.CodeError, Message: err.Error()}
	var (
		ve  *fail2ban.ValidationError
		pe  *f2bconf.PathError
		val *f2bconf.ValueError
		lpe *LogPathError
		rx  *fail2ban.RegexError
		rce *RestartCommandError
		run *fail2ban.RunError
		ce  *fail2ban.CommandError
		pr  *fail2ban.ProtocolError
	)
	switch {
	case errors.As(err, &ve):
		e.Code, e.Field, e.Detail, e.Text = wire.CodeValidation, ve.Field, ve.Message.Error(), &ve.Message
	case errors.As(err, &pe):
		e.Code, e.Name, e.Detail, e.Text = wire.CodeConfigPath, pe.Name, pe.Message.Error(), &pe.Message
	case errors.As(err, &val):
		e.Code, e.Line, e.Detail, e.Text = wire.CodeConfigValue, val.Line, val.Message.Error(), &val.Message
	case errors.As(err, &lpe):
		e.Code, e.Name, e.Cause, e.Flag, e.Text = wire.CodeLogPath, lpe.Path, errText(lpe.Err), errors.Is(lpe.Err, ErrLogNotAllowed), wordsOf(lpe.Err)
	case errors.As(err, &rx):
		e.Code, e.Detail, e.Text = wire.CodeRegex, rx.Message.Error(), &rx.Message
	case errors.As(err, &rce):
		e.Code, e.Args, e.Output, e.Cause = wire.CodeRestartCommand, rce.Command, rce.Output, errText(rce.Err)
	case errors.As(err, &run):
		e.Code, e.Args, e.Output, e.Cause, e.Flag = wire.CodeRun, run.Args, run.Output, errText(run.Err), run.TimedOut
	case errors.As(err, &ce):
		e.Code, e.Class, e.Detail = wire.CodeCommand, ce.Class, ce.Message
	case errors.As(err, &pr):
		e.Code, e.Detail = wire.CodeProtocol, pr.Message
		if pr.Err != nil {
			e.Cause = pr.Err.Error()
		}
	default:
		for _, s := range sentinels {
			if errors.Is(err, s.err) {
				e.Code = s.code
				break
			}
		}
		if e.Code == wire.CodeError {
			e.Text = wordsOf(err)
		}
	}
	return e
}

// wordsOf is the message err holds in the panel's words, for the panel to
// show in a person's language; nil when it holds none.
func wordsOf(err error) *lang.Message {
	if m := lang.Of(err); m.ID() != "" {
		return &m
	}
	return nil
}

// sentinels are the sentinel errors that cross the wire, most specific
// first.
var sentinels = []struct {
	code string
	err  error
}{
	{wire.CodeNoDatabase, fail2ban.ErrNoDatabase},
	{wire.CodePermission, fail2ban.ErrPermission},
	{wire.CodeTimeout, fail2ban.ErrTimeout},
	{wire.CodeUnreachable, fail2ban.ErrUnreachable},
	{wire.CodeReplyTooLarge, fail2ban.ErrReplyTooLarge},
	{wire.CodeEditRunning, f2bconf.ErrEditRunning},
	{wire.CodeBusy, repo.ErrBusy},
	{wire.CodeNotExist, fs.ErrNotExist},
}

// wireText is the message of a refusal that came over the wire: its id and
// values, or the English words of an agent older than the message ids.
func wireText(e wire.Error) lang.Message {
	if e.Text != nil {
		return *e.Text
	}
	return lang.Raw(e.Detail)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func errOf(s string) error {
	if s == "" {
		return nil
	}
	return errors.New(s)
}

// remoteError is an error that came over the wire: its message as the
// agent wrote it, and the typed error (or sentinel) it wraps.
type remoteError struct {
	msg string
	err error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.err }

// DecodeError turns the wire form of an error back into the Go error the
// host returned: the same type (or sentinel) and the same message.
func DecodeError(e wire.Error) error {
	var typed error
	switch e.Code {
	case wire.CodeValidation:
		typed = &fail2ban.ValidationError{Field: e.Field, Message: wireText(e)}
	case wire.CodeConfigPath:
		typed = &f2bconf.PathError{Name: e.Name, Message: wireText(e)}
	case wire.CodeConfigValue:
		typed = &f2bconf.ValueError{Line: e.Line, Message: wireText(e)}
	case wire.CodeLogPath:
		cause := errOf(e.Cause)
		var sentinel error
		if e.Flag {
			sentinel = ErrLogNotAllowed
			cause = &remoteError{msg: e.Cause, err: sentinel}
		}
		if e.Text != nil {
			cause = lang.Wrap(*e.Text, sentinel)
		}
		typed = &LogPathError{Path: e.Name, Err: cause}
	case wire.CodeRegex:
		typed = &fail2ban.RegexError{Message: wireText(e)}
	case wire.CodeRestartCommand:
		typed = &RestartCommandError{Command: e.Args, Output: e.Output, Err: errOf(e.Cause)}
	case wire.CodeRun:
		typed = &fail2ban.RunError{Args: e.Args, Output: e.Output, Err: errOf(e.Cause), TimedOut: e.Flag}
	case wire.CodeCommand:
		typed = &fail2ban.CommandError{Class: e.Class, Message: e.Detail}
	case wire.CodeProtocol:
		typed = &fail2ban.ProtocolError{Message: e.Detail, Err: errOf(e.Cause)}
	case wire.CodeUnauthorized, wire.CodeNotEnrolled, wire.CodeBadToken:
		typed = ErrAgentRefused
	case wire.CodeBadRequest, wire.CodeTooLarge:
		return &fail2ban.ValidationError{Field: fail2ban.FieldValue, Message: lang.M("hosts.agent_refused_request", "Reason", e.Message)}
	case wire.CodeRateLimited:
		return &AgentError{Code: e.Code, Message: lang.M("fleet.agent.rate_limited")}
	case wire.CodeUnknownMethod:
		return &AgentError{Code: e.Code, Message: lang.M("fleet.agent.outdated", "Reason", e.Message)}
	default:
		for _, s := range sentinels {
			if s.code == e.Code {
				typed = s.err
			}
		}
	}
	if typed == nil {
		switch {
		case e.Text != nil:
			return &AgentError{Code: e.Code, Message: *e.Text}
		case e.Message == "":
			return &AgentError{Code: e.Code, Message: lang.M("fleet.agent.error_code", "Code", e.Code)}
		}
		return &AgentError{Code: e.Code, Message: lang.Raw(e.Message)}
	}
	if e.Message == "" || e.Message == typed.Error() {
		return typed
	}
	return &remoteError{msg: e.Message, err: typed}
}

// AgentError is an error the agent reported that has no Go type of its
// own on the panel's side: a refused request, or any other failure, with
// the agent's message.
type AgentError struct {
	Code    string       // one of wire's Code* constants
	Message lang.Message // the agent's words (in the panel's, when it sent their id)
}

// Error is the message in English.
func (e *AgentError) Error() string { return e.Message.Error() }

// Unwrap returns the message, for lang.Of.
func (e *AgentError) Unwrap() error { return e.Message }
