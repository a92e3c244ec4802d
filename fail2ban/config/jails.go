package config

import (
	"errors"
	"strings"
)

// Jail is one jail section of the merged jail configuration.
type Jail struct {
	Name    string
	Enabled bool   // "enabled" is true, yes, on or 1 (after interpolation)
	Filter  string // filter name without [options]; "" when none is set
	Source  Source // where the section was first opened
	Err     error  // an interpolation problem with enabled or filter
}

// Jails lists the jails of a merged "jail" stack: every section except
// INCLUDES, in order of first appearance.
func (s *Set) Jails() []Jail {
	var out []Jail
	for _, name := range s.Sections() {
		if name == includesSection {
			continue
		}
		j := Jail{Name: name, Source: s.SectionSource(name)}
		if v, err := s.Get(name, "enabled"); err == nil {
			j.Enabled = AsBool(v)
		} else if !isNoOption(err) {
			j.Err = err
		}
		if v, err := s.Get(name, "filter"); err == nil {
			j.Filter = OptionName(v)
		} else if !isNoOption(err) && j.Err == nil {
			j.Err = err
		}
		out = append(out, j)
	}
	return out
}

func isNoOption(err error) bool { return errors.Is(err, ErrNoOption) }

// AsBool is fail2ban's _as_bool: 1, on, true and yes (any case) are true.
func AsBool(v string) bool {
	switch strings.ToLower(v) {
	case "1", "on", "true", "yes":
		return true
	}
	return false
}

// OptionName returns the name part of "name[opt=value, ...]".
func OptionName(v string) string {
	name, _, _ := strings.Cut(v, "[")
	return strings.TrimSpace(name)
}

// SplitActions splits an action value into its entries as fail2ban does:
// entries are separated by white space or new lines, and an entry's
// [options] may contain spaces, quotes and new lines.
func SplitActions(v string) []string {
	var out []string
	var b strings.Builder
	depth := 0
	var quote byte
	flush := func() {
		if s := strings.TrimSpace(b.String()); s != "" {
			out = append(out, s)
		}
		b.Reset()
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case depth > 0 && (c == '"' || c == '\''):
			quote = c
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			// A space before "[" still belongs to the entry.
			j := i
			for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
				j++
			}
			if j < len(v) && v[j] == '[' && b.Len() > 0 {
				b.WriteString(v[i:j])
				i = j - 1
				continue
			}
			flush()
			continue
		}
		b.WriteByte(c)
	}
	flush()
	return out
}
