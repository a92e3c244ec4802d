package fail2ban

import (
	"errors"
	"strings"
	"sync/atomic"
)

// feature remembers whether the server understands an optional command, so
// that a server lacking it is asked only once (each failed command also
// costs a line in fail2ban's log).
type feature struct{ state atomic.Int32 }

const (
	featureUnknown int32 = iota
	featureYes
	featureNo
)

func (f *feature) unsupported() bool { return f.state.Load() == featureNo }
func (f *feature) supported() bool   { return f.state.Load() == featureYes }
func (f *feature) set(ok bool) {
	if ok {
		f.state.Store(featureYes)
	} else {
		f.state.Store(featureNo)
	}
}

// isInvalidCommand reports fail2ban's answer to a command it does not know:
// a plain Exception("Invalid command ...").
func isInvalidCommand(err error) bool {
	var ce *CommandError
	if !errors.As(err, &ce) {
		return false
	}
	plain := ce.Class == "builtins.Exception" || ce.Class == "exceptions.Exception" || ce.Class == "Exception"
	return plain && strings.HasPrefix(ce.Message, "Invalid command")
}

// isAllUnsupported reports how fail2ban before 1.1 answers "status --all":
// it takes "--all" for a jail name, or does not know the command at all.
func isAllUnsupported(err error) bool {
	var ce *CommandError
	if errors.As(err, &ce) && errors.Is(err, ErrUnknownJail) && ce.Message == "--all" {
		return true
	}
	return isInvalidCommand(err)
}
