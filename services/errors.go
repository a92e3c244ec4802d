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
)

// ValidationError maps form field names to the messages that explain what is
// wrong with each. It is returned when user input is refused.
type ValidationError struct {
	Fields map[string][]string
}

// Add records msg as a problem of the form field field.
func (e *ValidationError) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string][]string{}
	}
	e.Fields[field] = append(e.Fields[field], msg)
}

// Empty reports whether no field has a problem.
func (e *ValidationError) Empty() bool { return len(e.Fields) == 0 }

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(e.Fields[k], " "))
	}
	return "invalid input: " + strings.Join(parts, "; ")
}
