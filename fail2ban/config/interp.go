package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"bangui/lang"
)

// Kinds of InterpolationError, named after the Python exceptions fail2ban
// raises for them.
const (
	ErrMissingOption = "InterpolationMissingOptionError" // %(name)s names no option
	ErrSyntax        = "InterpolationSyntaxError"        // a % that is neither %% nor %(name)s
	ErrDepth         = "InterpolationDepthError"         // references nest deeper than 10
	// ErrTooLong is BanGUI's own: the value grows past maxValueLen, as a
	// few options referring to each other several times can make it do
	// (ten levels of ten references are 10^10 bytes).
	ErrTooLong = "InterpolationTooLongError"
)

// ErrNoOption is returned by Get for an option that is not set.
var ErrNoOption = errors.New("config: no such option")

// ErrNoSection is returned by Get for a section that does not exist.
var ErrNoSection = errors.New("config: no such section")

// InterpolationError is a value whose %(name)s references cannot be
// resolved; fail2ban refuses such a configuration.
type InterpolationError struct {
	Kind    string // one of the Err* constants
	Section string
	Option  string
	Detail  string // the missing name or the offending text
}

// Error is the message in English.
func (e *InterpolationError) Error() string { return e.Message().Error() }

// Message is the error for a person, in any language.
func (e *InterpolationError) Message() lang.Message {
	where := "[" + e.Section + "] " + e.Option
	switch e.Kind {
	case ErrMissingOption:
		return lang.M("cfg.interp_missing", "Option", where, "Name", e.Detail)
	case ErrDepth:
		return lang.M("cfg.interp_depth", "Option", where, "Max", maxDepth)
	case ErrTooLong:
		return lang.M("cfg.interp_too_long", "Option", where, "Max", maxValueLen)
	}
	if strings.HasPrefix(e.Detail, "%(") {
		return lang.M("cfg.interp_bad_reference", "Option", where, "Text", strconv.Quote(e.Detail))
	}
	return lang.M("cfg.interp_bad_percent", "Option", where, "Text", strconv.Quote(e.Detail))
}

// As lets lang.Of find the error's Message.
func (e *InterpolationError) As(target any) bool { return lang.As(target, e.Message()) }

// maxDepth is configparser's MAX_INTERPOLATION_DEPTH.
const maxDepth = 10

// maxValueLen bounds an interpolated value; real ones are a few kilobytes.
const maxValueLen = 1 << 20

var (
	keyRE        = regexp.MustCompile(`^%\(([^)]+)\)s`)
	sectionOptRE = regexp.MustCompile(`%\(([\w\-]+/([^)]+))\)s`)
)

// Get returns the interpolated value of an option of a section (or of
// DEFAULT), as fail2ban's configparser computes it: %(name)s is replaced by
// the option name of the same section or of DEFAULT, %(__name__)s by the
// section name, %(section/name)s by an option of another section,
// %(known/name)s by the value a later file replaced, and %% by %.
func (s *Set) Get(section, option string) (string, error) {
	option = strings.ToLower(option)
	if section != DefaultSection && s.sections[section] == nil {
		return "", fmt.Errorf("%w: [%s]", ErrNoSection, section)
	}
	v, _, ok := s.Lookup(section, option)
	if !ok {
		return "", fmt.Errorf("%w: [%s] %s", ErrNoOption, section, option)
	}
	var b strings.Builder
	if err := s.interpolate(section, option, v.Raw, map[string]string{}, 1, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// interpolate is configparser's BasicInterpolation._interpolate_some with
// fail2ban's additions (__name__, section/option and known/option).
func (s *Set) interpolate(section, option, rest string, parent map[string]string, depth int, b *strings.Builder) error {
	if depth > maxDepth {
		return &InterpolationError{Kind: ErrDepth, Section: section, Option: option}
	}
	vars := make(map[string]string, len(parent)+2)
	for k, v := range parent {
		vars[k] = v
	}
	vars["__name__"] = section
	s.mapSectionOptions(section, rest, vars)
	for rest != "" {
		if b.Len() > maxValueLen {
			return &InterpolationError{Kind: ErrTooLong, Section: section, Option: option}
		}
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			b.WriteString(rest)
			return nil
		}
		b.WriteString(rest[:p])
		rest = rest[p:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
			rest = rest[2:]
		case strings.HasPrefix(rest, "%("):
			m := keyRE.FindStringSubmatch(rest)
			if m == nil {
				return &InterpolationError{Kind: ErrSyntax, Section: section, Option: option,
					Detail: clip(rest, 60)}
			}
			name := strings.ToLower(m[1])
			rest = rest[len(m[0]):]
			v, ok := s.resolve(section, name, vars)
			if !ok {
				return &InterpolationError{Kind: ErrMissingOption, Section: section, Option: option, Detail: name}
			}
			if strings.Contains(v, "%") {
				if err := s.interpolate(section, option, v, vars, depth+1, b); err != nil {
					return err
				}
			} else {
				b.WriteString(v)
			}
		default:
			return &InterpolationError{Kind: ErrSyntax, Section: section, Option: option,
				Detail: clip(rest, 60)}
		}
	}
	return nil
}

// resolve looks a name up as configparser's ChainMap does: the extra
// variables, then the section, then DEFAULT.
func (s *Set) resolve(section, name string, vars map[string]string) (string, bool) {
	if v, ok := vars[name]; ok {
		return v, true
	}
	if section != DefaultSection {
		if m := s.sections[section]; m != nil {
			if v, ok := m.opts[name]; ok {
				return v.Raw, true
			}
		}
	}
	if v, ok := s.defaults.opts[name]; ok {
		return v.Raw, true
	}
	return "", false
}

// mapSectionOptions is fail2ban's _map_section_options: it makes
// %(section/option)s, %(default/option)s and %(known/option)s available as
// variables, with the raw value of that option.
func (s *Set) mapSectionOptions(section, rest string, vars map[string]string) {
	if !strings.Contains(rest, "/") || !strings.Contains(rest, "%(") {
		return
	}
	for _, m := range sectionOptRE.FindAllStringSubmatch(rest, -1) {
		sopt, opt := m[1], m[2]
		if _, ok := s.resolve(section, sopt, vars); ok {
			continue
		}
		sec := sopt[:len(sopt)-len(opt)-1]
		useDefault := false
		var v string
		switch lower := strings.ToLower(sec); lower {
		case "default":
			useDefault = true
		case "known":
			if k := s.sections[knownPrefix+section]; k != nil && k.opts[opt] != nil {
				v = k.opts[opt].Raw
			} else {
				useDefault = true
			}
		default:
			other := s.sections[sec]
			if other == nil {
				continue
			}
			if o := other.opts[opt]; o != nil {
				v = o.Raw
			} else {
				useDefault = true
			}
		}
		if useDefault {
			d := s.defaults.opts[opt]
			if d == nil {
				continue
			}
			v = d.Raw
		}
		vars[sopt] = v
	}
}

// CheckInterpolation reports text that fail2ban could not interpolate
// whatever the other options are: a % that is neither %% nor the start of
// %(name)s. It returns nil for text that only refers to options.
func CheckInterpolation(text string) error {
	rest := text
	for {
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			return nil
		}
		rest = rest[p:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			rest = rest[2:]
		case keyRE.MatchString(rest):
			rest = rest[len(keyRE.FindString(rest)):]
		default:
			return lang.M("cfg.value_percent", "Found", strconv.Quote(clip(rest, 20)))
		}
	}
}
