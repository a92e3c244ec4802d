// Package config reads and writes fail2ban's configuration directory the way
// fail2ban itself reads it: Python configparser syntax (sections, "=" or ":"
// delimiters, indented continuation lines, "#" and ";" comments, inline ";"
// comments after white space, lower-cased option names, strict duplicate
// checks), fail2ban's file stacking (NAME.conf, NAME.d/*.conf, NAME.local,
// NAME.d/*.local, each with its [INCLUDES] before/after files and their
// .local counterparts), [DEFAULT] values, conditional sections, KNOWN/
// values and %(name)s interpolation. Every merged value remembers the file
// and line that set it.
//
// Writes go to .local files only: Edit changes single options in place and
// leaves every other byte of a file as it was, and WriteAtomic replaces a file
// through a temporary file and a rename, keeping the previous version as a
// backup. Editable paths are confined to the configuration directory by
// ResolveEditable.
package config

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"bangui/lang"
)

// DefaultSection is the name of the section whose values every other
// section inherits.
const DefaultSection = "DEFAULT"

// ParseError is a file fail2ban could not read: a line that is neither a
// section, an option nor a continuation, a missing section header, a
// duplicate section or option, or text that is not UTF-8. fail2ban refuses
// the whole configuration when one file has such an error.
type ParseError struct {
	File    string // as given to Parse
	Line    int    // 1-based; 0 when the error is about the whole file
	Message lang.Message
}

// Error is the message in English.
func (e *ParseError) Error() string { return e.Text().Error() }

// Text is the error with its file and line, for a person in any language.
func (e *ParseError) Text() lang.Message {
	if e.Line > 0 {
		return lang.M("cfg.parse_error_line", "File", e.File, "Line", e.Line, "Problem", e.Message)
	}
	return lang.M("cfg.file_problem", "File", e.File, "Problem", e.Message)
}

// As lets lang.Of find the error's Message.
func (e *ParseError) As(target any) bool { return lang.As(target, e.Text()) }

// File is one parsed configuration file.
type File struct {
	Name     string     // as given to Parse
	Sections []*Section // in the order of their first header; DEFAULT included
}

// Section is one section of a file. A file may open DEFAULT more than once;
// its options are then collected in one Section.
type Section struct {
	Name    string
	Line    int // line of the first header
	Options []*Option
}

// Option is one option with its raw value: continuation lines joined with
// "\n", comments removed, not interpolated.
type Option struct {
	Name    string // lower-cased, as fail2ban looks it up
	Value   string
	Line    int // line of the option name
	EndLine int // last line that belongs to the value
}

// Section returns the named section of the file, or nil.
func (f *File) Section(name string) *Section {
	for _, s := range f.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Option returns the named option (lower-cased lookup), or nil.
func (s *Section) Option(name string) *Option {
	name = strings.ToLower(name)
	for _, o := range s.Options {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// line is one physical line of a file as the parser sees it.
type line struct {
	text    string // without the line break
	start   int    // byte offset of the line in the file
	end     int    // byte offset just after the line break
	value   string // text without comments, trimmed
	comment bool   // the line had a comment (full or inline)
	indent  int    // index of the first non-space rune in text
}

// splitLines cuts data into lines on \n, \r\n and \r, as Python's text mode
// does, and strips comments the way configparser does with fail2ban's
// settings (full-line "#" and ";", inline ";" after white space).
func splitLines(data string) []line {
	var out []line
	for i := 0; i < len(data); {
		j := i
		for j < len(data) && data[j] != '\n' && data[j] != '\r' {
			j++
		}
		end := j
		if end < len(data) {
			if data[end] == '\r' && end+1 < len(data) && data[end+1] == '\n' {
				end += 2
			} else {
				end++
			}
		}
		out = append(out, analyse(data[i:j], i, end))
		i = end
	}
	return out
}

func analyse(text string, start, end int) line {
	l := line{text: text, start: start, end: end}
	cut := -1
	for i := 0; i < len(text); i++ {
		if text[i] != ';' {
			continue
		}
		if i == 0 {
			cut = 0
			break
		}
		r, _ := utf8.DecodeLastRuneInString(text[:i])
		if isSpace(r) {
			cut = i
			break
		}
	}
	trimmed := strings.TrimFunc(text, isSpace)
	if strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";") {
		cut = 0
	}
	if cut >= 0 {
		l.comment = true
		l.value = strings.TrimFunc(text[:cut], isSpace)
	} else {
		l.value = trimmed
	}
	l.indent = strings.IndexFunc(text, func(r rune) bool { return !isSpace(r) })
	if l.indent < 0 {
		l.indent = 0
	}
	return l
}

// isSpace is Python's str.isspace for one rune.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// Parse reads one file's text. name is used in error messages only.
func Parse(name string, data []byte) (*File, error) {
	f, _, err := parse(name, data)
	return f, err
}

// optionSpan records where an option's lines are, for Edit.
type optionSpan struct {
	section  string
	option   *Option
	first    int // index of the option's first line
	last     int // index of the last line holding a value
	indent   int
	occur    int // which occurrence of the section header (0-based)
	sectHead int // index of the header line of that occurrence
}

// parsed keeps what Edit needs to change a file in place.
type parsed struct {
	lines   []line
	spans   []optionSpan
	headers map[string][]int // section name → indexes of its header lines
}

func parse(name string, data []byte) (*File, *parsed, error) {
	if !utf8.Valid(data) {
		return nil, nil, &ParseError{File: name, Message: lang.M("cfg.parse_not_utf8")}
	}
	lines := splitLines(string(data))
	f := &File{Name: name}
	p := &parsed{lines: lines, headers: map[string][]int{}}
	var (
		cur      *Section
		opt      *Option
		optLines []string
		indent   = 0
		seenSect = map[string]bool{}
		seenOpt  = map[[2]string]bool{}
		occur    = map[string]int{}
		sectHead = -1
		firstErr error
	)
	flush := func() {
		if opt != nil {
			opt.Value = strings.TrimRightFunc(strings.Join(optLines, "\n"), isSpace)
		}
		opt, optLines = nil, nil
	}
	for i, l := range lines {
		n := i + 1
		if l.value == "" {
			// configparser keeps blank lines (not comment lines) inside a
			// value; trailing ones are trimmed when the value ends.
			if !l.comment && opt != nil {
				optLines = append(optLines, "")
			}
			continue
		}
		if cur != nil && opt != nil && l.indent > indent {
			optLines = append(optLines, l.value)
			opt.EndLine = n
			p.spans[len(p.spans)-1].last = i
			continue
		}
		flush()
		indent = l.indent
		if hdr, ok := sectionHeader(l.value); ok {
			if seenSect[hdr] {
				return nil, nil, &ParseError{File: name, Line: n, Message: lang.M("cfg.parse_section_twice", "Section", hdr)}
			}
			if hdr != DefaultSection {
				seenSect[hdr] = true
			}
			cur = f.Section(hdr)
			if cur == nil {
				cur = &Section{Name: hdr, Line: n}
				f.Sections = append(f.Sections, cur)
			}
			sectHead = i
			p.headers[hdr] = append(p.headers[hdr], i)
			occur[hdr]++
			continue
		}
		if cur == nil {
			return nil, nil, &ParseError{File: name, Line: n, Message: lang.M("cfg.parse_no_header")}
		}
		key, val, ok := optionLine(l.value)
		if !ok || key == "" {
			if firstErr == nil {
				firstErr = &ParseError{File: name, Line: n, Message: lang.M("cfg.parse_bad_line", "Text", strconv.Quote(clip(l.text, 60)))}
			}
			continue
		}
		key = strings.ToLower(key)
		k := [2]string{cur.Name, key}
		if seenOpt[k] {
			return nil, nil, &ParseError{File: name, Line: n, Message: lang.M("cfg.parse_option_twice", "Option", strconv.Quote(key), "Section", cur.Name)}
		}
		seenOpt[k] = true
		opt = &Option{Name: key, Line: n, EndLine: n}
		optLines = []string{val}
		cur.Options = append(cur.Options, opt)
		p.spans = append(p.spans, optionSpan{section: cur.Name, option: opt, first: i, last: i, indent: l.indent,
			occur: occur[cur.Name] - 1, sectHead: sectHead})
	}
	flush()
	if firstErr != nil {
		return nil, nil, firstErr
	}
	return f, p, nil
}

// sectionHeader matches configparser's "\[(?P<header>.+)\]" at the start of
// a line: the name runs to the last "]".
func sectionHeader(v string) (string, bool) {
	if !strings.HasPrefix(v, "[") {
		return "", false
	}
	end := strings.LastIndexByte(v, ']')
	if end < 2 {
		return "", false
	}
	return v[1:end], true
}

// optionLine matches configparser's option pattern: the name is everything
// before the first "=" or ":", both trimmed.
func optionLine(v string) (key, val string, ok bool) {
	i := strings.IndexAny(v, "=:")
	if i < 0 {
		return "", "", false
	}
	return strings.TrimRightFunc(v[:i], isSpace), strings.TrimFunc(v[i+1:], isSpace), true
}

// clip shortens s for messages.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
