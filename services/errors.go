// Package services holds BanGUI's use cases: they combine the repositories,
// the fail2ban hosts (package hosts) and the geo resolver; handlers and jobs
// both call them. This package has what every use case shares — the
// ValidationError of refused input and the StatusProbe of every host — and
// the use cases on bans: jails, history and the archive sync, countries
// (Geo) and the login check. The larger capabilities have their own
// packages below it: configuration, blocklists and setup.
package services

import (
	"sort"
	"strings"

	"bangui/lang"
)

// ValidationError maps form field names to the messages that explain what is
// wrong with each. It is returned when user input is refused; the handler
// that shows it puts the messages in the request's language (In).
type ValidationError struct {
	Fields map[string][]lang.Message
}

// Invalid is a ValidationError with one message for one field.
func Invalid(field string, msg lang.Message) *ValidationError {
	e := &ValidationError{}
	e.Add(field, msg)
	return e
}

// Add records msg as a problem of the form field field.
func (e *ValidationError) Add(field string, msg lang.Message) {
	if e.Fields == nil {
		e.Fields = map[string][]lang.Message{}
	}
	e.Fields[field] = append(e.Fields[field], msg)
}

// Empty reports whether no field has a problem.
func (e *ValidationError) Empty() bool { return len(e.Fields) == 0 }

// In is each field's messages in language l, for a form to show.
func (e *ValidationError) In(l *lang.Lang) map[string][]string {
	out := make(map[string][]string, len(e.Fields))
	for k, msgs := range e.Fields {
		for _, m := range msgs {
			out[k] = append(out[k], m.In(l))
		}
	}
	return out
}

// Error is the messages in English, field by field.
func (e *ValidationError) Error() string {
	en := e.In(lang.Get("en"))
	keys := make([]string, 0, len(en))
	for k := range en {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(en[k], " "))
	}
	return "invalid input: " + strings.Join(parts, "; ")
}
