package fail2ban

import (
	"errors"
	"strings"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrUnreachable means the socket could not be dialed: it is missing,
	// nobody listens on it, or the dial timed out.
	ErrUnreachable = errors.New("fail2ban: socket unreachable")

	// ErrPermission means the socket exists but this process may not
	// connect to it (EACCES/EPERM).
	ErrPermission = errors.New("fail2ban: permission denied on socket")

	// ErrTimeout means the call ran out of time (per-call timeout or
	// context deadline), either while dialing or while waiting for a reply.
	ErrTimeout = errors.New("fail2ban: timed out")

	// ErrReplyTooLarge means the reply exceeded the configured size cap.
	ErrReplyTooLarge = errors.New("fail2ban: reply too large")

	// ErrUnknownJail is matched by a *CommandError whose exception class is
	// fail2ban's UnknownJailException.
	ErrUnknownJail = errors.New("fail2ban: unknown jail")

	// ErrNoDatabase is returned when a database setting is changed on a
	// server that runs without a database.
	ErrNoDatabase = errors.New("fail2ban: the server has no database")
)

// IsUnreachable reports whether err means fail2ban could not be talked to at
// all: socket unreachable, permission denied or timed out.
func IsUnreachable(err error) bool {
	return errors.Is(err, ErrUnreachable) ||
		errors.Is(err, ErrPermission) ||
		errors.Is(err, ErrTimeout)
}

// CommandError is an exception raised by fail2ban while executing a command,
// i.e. a reply of the form (1, exception).
type CommandError struct {
	// Class is the dotted Python class name, for example
	// "fail2ban.exceptions.UnknownJailException" or "builtins.ValueError".
	Class string
	// Message is the exception argument; for UnknownJailException it is
	// the jail name.
	Message string
}

// Error implements error.
func (e *CommandError) Error() string {
	if e.Class == "" {
		return "fail2ban: " + e.Message
	}
	return "fail2ban: " + e.Class + ": " + e.Message
}

// Is makes errors.Is(err, ErrUnknownJail) true for unknown-jail exceptions.
func (e *CommandError) Is(target error) bool {
	return target == ErrUnknownJail && strings.HasSuffix(e.Class, "UnknownJailException")
}

// ProtocolError means the peer answered with something that is not a valid
// fail2ban reply: an undecodable pickle, a reply without the end marker, an
// unexpected reply shape, or fail2ban's bare "ERROR: ..." string (sent when
// it could not process the request itself).
type ProtocolError struct {
	Message string
	Err     error // underlying cause, may be nil
}

// Error implements error.
func (e *ProtocolError) Error() string {
	s := "fail2ban: protocol error: " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *ProtocolError) Unwrap() error { return e.Err }
