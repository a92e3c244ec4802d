// Package services holds BanGUI's use cases. They combine the repositories,
// the fail2ban hosts (package hosts) and the geo resolver; handlers and jobs
// both call them.
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

func (e *ValidationError) add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string][]string{}
	}
	e.Fields[field] = append(e.Fields[field], msg)
}

func (e *ValidationError) empty() bool { return len(e.Fields) == 0 }

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
