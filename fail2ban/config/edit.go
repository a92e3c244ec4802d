package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"bangui/lang"
)

// Change sets or removes one option in one section of a file.
type Change struct {
	Section string
	Option  string   // written as given; matched case-insensitively
	Lines   []string // the value, one element per line; []string{""} for an empty value
	Remove  bool     // delete the option instead (Lines is ignored)
}

// ValueError is a value that cannot be written to an INI file without
// changing its meaning: it would break the line structure or be read back
// differently. Message is meant for the user.
type ValueError struct {
	Line    int // 0-based index of the offending line of the value
	Message lang.Message
}

// Error is the message in English.
func (e *ValueError) Error() string { return e.Message.Error() }

// As lets lang.Of find the error's Message.
func (e *ValueError) As(target any) bool { return lang.As(target, e.Message) }

var (
	optionNameRE  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]*(\?[A-Za-z0-9_.=\-]+)?$`)
	sectionNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.@+\-/? =]*$`)
)

// ValidOptionName reports whether name can be written as an option name.
func ValidOptionName(name string) bool { return len(name) <= 100 && optionNameRE.MatchString(name) }

// ValidSectionName reports whether name can be written as a section
// header.
func ValidSectionName(name string) bool {
	return len(name) <= 100 && sectionNameRE.MatchString(name) && strings.TrimSpace(name) == name
}

// CheckValue reports whether lines can be written as the value of an
// option and read back by fail2ban exactly as given: no control
// characters, no white space around lines, no text that configparser takes
// for a comment (";" at the start or after white space, continuation lines
// starting with "#"), no empty lines inside a list, and "%" only as %% or
// %(name)s. It returns a *ValueError.
func CheckValue(lines []string) error {
	if len(lines) == 0 {
		return &ValueError{Message: lang.M("cfg.value_missing")}
	}
	for i, l := range lines {
		bad := func(msg lang.Message) error {
			if len(lines) > 1 {
				msg = lang.M("cfg.value_line", "Line", i+1, "Problem", msg)
			}
			return &ValueError{Line: i, Message: msg}
		}
		if !utf8.ValidString(l) {
			return bad(lang.M("cfg.value_not_utf8"))
		}
		if strings.ContainsFunc(l, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) {
			return bad(lang.M("cfg.value_control"))
		}
		if strings.TrimFunc(l, isSpace) != l {
			return bad(lang.M("cfg.value_space"))
		}
		if l == "" && len(lines) > 1 {
			return bad(lang.M("cfg.value_empty_line"))
		}
		if i > 0 && (strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";")) {
			return bad(lang.M("cfg.value_comment_line", "Char", strconv.Quote(l[:1])))
		}
		if commentStart(l) >= 0 {
			return bad(lang.M("cfg.value_comment_inline"))
		}
		if err := CheckInterpolation(l); err != nil {
			return bad(lang.Of(err))
		}
	}
	return nil
}

// commentStart returns the index of an inline comment in a value written
// after "name = ", or -1.
func commentStart(v string) int {
	for i := 0; i < len(v); i++ {
		if v[i] != ';' {
			continue
		}
		if i == 0 {
			return 0
		}
		r, _ := utf8.DecodeLastRuneInString(v[:i])
		if isSpace(r) {
			return i
		}
	}
	return -1
}

// Edit applies changes to the text of a configuration file and returns the
// new text. Every byte outside the changed options stays as it was: an
// option that exists is replaced where it is (continuation lines included),
// a new option goes after the last option of its section, and a missing
// section is appended at the end. The file must parse; the result is parsed
// again and checked to hold exactly the requested values.
func Edit(name string, data []byte, changes []Change) ([]byte, error) {
	_, p, err := parse(name, data)
	if err != nil {
		return nil, err
	}
	eol := "\n"
	if i := strings.IndexAny(string(data), "\r\n"); i >= 0 {
		if strings.HasPrefix(string(data[i:]), "\r\n") {
			eol = "\r\n"
		} else if data[i] == '\r' {
			eol = "\r"
		}
	}
	text := string(data)
	n := len(p.lines)
	repl := make([]*string, n)      // replacement of line i (with its break)
	after := make([]string, n+1)    // text inserted after line i (index n: at the end)
	var tail []string               // new sections, appended at the end
	newSections := map[string]int{} // section → index in tail
	for _, ch := range changes {
		if !ValidSectionName(ch.Section) {
			return nil, fmt.Errorf("config: invalid section name %q", ch.Section)
		}
		if !ValidOptionName(ch.Option) {
			return nil, fmt.Errorf("config: invalid option name %q", ch.Option)
		}
		if !ch.Remove {
			if err := CheckValue(ch.Lines); err != nil {
				return nil, err
			}
		}
		key := strings.ToLower(ch.Option)
		var span *optionSpan
		for i := range p.spans {
			if p.spans[i].section == ch.Section && p.spans[i].option.Name == key {
				span = &p.spans[i]
			}
		}
		if span != nil {
			for i := span.first; i <= span.last; i++ {
				empty := ""
				repl[i] = &empty
			}
			if !ch.Remove {
				s := formatOption(ch.Option, ch.Lines, span.indent, eol) + lineBreak(text, p.lines[span.last])
				repl[span.first] = &s
			}
			continue
		}
		if ch.Remove {
			continue
		}
		opt := formatOption(ch.Option, ch.Lines, 0, eol) + eol
		if heads := p.headers[ch.Section]; len(heads) > 0 {
			// After the last option (or the header) of the section's last occurrence.
			at := heads[len(heads)-1]
			for _, sp := range p.spans {
				if sp.section == ch.Section && sp.sectHead == heads[len(heads)-1] && sp.last > at {
					at = sp.last
				}
			}
			if p.lines[at].end == len(text) && !endsWithBreak(text) {
				opt = eol + opt
			}
			after[at] += opt
			continue
		}
		if i, ok := newSections[ch.Section]; ok {
			tail[i] += opt
			continue
		}
		newSections[ch.Section] = len(tail)
		tail = append(tail, "["+ch.Section+"]"+eol+opt)
	}
	var b strings.Builder
	for i, l := range p.lines {
		if repl[i] != nil {
			b.WriteString(*repl[i])
		} else {
			b.WriteString(text[l.start:l.end])
		}
		b.WriteString(after[i])
	}
	if len(tail) > 0 {
		out := b.String()
		if out != "" && !endsWithBreak(out) {
			b.WriteString(eol)
		}
		for _, t := range tail {
			if b.Len() > 0 {
				b.WriteString(eol)
			}
			b.WriteString(t)
		}
	}
	result := []byte(b.String())
	if err := verifyEdit(name, result, changes); err != nil {
		return nil, err
	}
	return result, nil
}

// lineBreak returns the break that ended line l ("" for a last line
// without one).
func lineBreak(text string, l line) string {
	return text[l.start+len(l.text) : l.end]
}

func endsWithBreak(s string) bool {
	return strings.HasSuffix(s, "\n") || strings.HasSuffix(s, "\r")
}

// formatOption writes "name = value" with continuation lines aligned under
// the first line of the value.
func formatOption(name string, lines []string, indent int, eol string) string {
	pad := strings.Repeat(" ", indent)
	first := ""
	if len(lines) > 0 {
		first = lines[0]
	}
	s := pad + name + " ="
	if first != "" {
		s += " " + first
	}
	cont := strings.Repeat(" ", indent+len(name)+3)
	for _, l := range lines[min(1, len(lines)):] {
		s += eol + cont + l
	}
	return s
}

// verifyEdit parses the edited text and checks each change took effect.
func verifyEdit(name string, data []byte, changes []Change) error {
	f, err := Parse(name, data)
	if err != nil {
		return fmt.Errorf("config: the edited file would not parse: %w", err)
	}
	for _, ch := range changes {
		var got *Option
		if sec := f.Section(ch.Section); sec != nil {
			got = sec.Option(ch.Option)
		}
		switch {
		case ch.Remove && got != nil:
			return fmt.Errorf("config: [%s] %s is still set after removing it", ch.Section, ch.Option)
		case !ch.Remove && got == nil:
			return fmt.Errorf("config: [%s] %s is missing after the edit", ch.Section, ch.Option)
		case !ch.Remove && got.Value != strings.Join(ch.Lines, "\n"):
			return fmt.Errorf("config: [%s] %s would be read back as %q", ch.Section, ch.Option, got.Value)
		}
	}
	return nil
}
