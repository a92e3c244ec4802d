package config

import (
	"encoding/json"
	"errors"
	"fmt"

	"bangui/lang"
)

// A Set travels as JSON between `bangui agent` and the panel: every
// section with its source and options (values, sources and overrides) in
// order, so that the panel's copy answers Sections, Own, Lookup, Get and
// Jails exactly as the agent's. Problems keep their *ParseError type; other
// problems keep their message.

type setJSON struct {
	Dir      string        `json:"dir"`
	Name     string        `json:"name"`
	Files    []string      `json:"files"`
	Problems []problemJSON `json:"problems,omitempty"`
	Defaults []Value       `json:"defaults"`
	Sections []sectionJSON `json:"sections"`
}

type sectionJSON struct {
	Name    string  `json:"name"`
	Source  Source  `json:"source"`
	Options []Value `json:"options"`
}

type problemJSON struct {
	Message string        `json:"message"`         // in English, as agents before the message ids sent it
	Text    *lang.Message `json:"text,omitempty"`  // the message with its id
	Parse   bool          `json:"parse,omitempty"` // a *ParseError of File and Line
	File    string        `json:"file,omitempty"`
	Line    int           `json:"line,omitempty"`
}

// MarshalJSON implements json.Marshaler.
func (s *Set) MarshalJSON() ([]byte, error) {
	out := setJSON{Dir: s.Dir, Name: s.Name, Files: s.Files}
	for _, p := range s.Problems {
		var pe *ParseError
		if errors.As(p, &pe) {
			out.Problems = append(out.Problems, problemJSON{Message: pe.Message.Error(), Text: &pe.Message, Parse: true, File: pe.File, Line: pe.Line})
			continue
		}
		m := lang.Of(p)
		out.Problems = append(out.Problems, problemJSON{Message: p.Error(), Text: &m})
	}
	if s.defaults != nil {
		out.Defaults = s.defaults.values()
	}
	for _, n := range s.order {
		m := s.sections[n]
		out.Sections = append(out.Sections, sectionJSON{Name: n, Source: m.source, Options: m.values()})
	}
	return json.Marshal(out)
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *Set) UnmarshalJSON(b []byte) error {
	var in setJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*s = Set{Dir: in.Dir, Name: in.Name, Files: in.Files, defaults: newSection(DefaultSection, Source{}), sections: map[string]*msection{}}
	for _, p := range in.Problems {
		m := lang.Raw(p.Message)
		if p.Text != nil {
			m = *p.Text
		}
		if p.Parse {
			s.Problems = append(s.Problems, &ParseError{File: p.File, Line: p.Line, Message: m})
		} else {
			s.Problems = append(s.Problems, m)
		}
	}
	s.defaults.load(in.Defaults)
	for _, sec := range in.Sections {
		if _, dup := s.sections[sec.Name]; dup {
			return fmt.Errorf("config: the section %q appears twice", sec.Name)
		}
		m := newSection(sec.Name, sec.Source)
		m.load(sec.Options)
		s.sections[sec.Name] = m
		s.order = append(s.order, sec.Name)
	}
	return nil
}

// values lists a section's options in order.
func (m *msection) values() []Value {
	out := make([]Value, 0, len(m.order))
	for _, n := range m.order {
		out = append(out, *m.opts[n])
	}
	return out
}

// load puts options back in order, as values listed them.
func (m *msection) load(vs []Value) {
	for _, v := range vs {
		if _, dup := m.opts[v.Name]; !dup {
			m.order = append(m.order, v.Name)
		}
		m.opts[v.Name] = &v
	}
}
