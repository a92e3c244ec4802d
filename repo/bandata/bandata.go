// Package bandata decodes the data column of fail2ban's bans table: the
// JSON object fail2ban stores with each ban ({"matches": […], "failures":
// N, …}), which BanGUI's archive copies as it is.
package bandata

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Decode extracts failures and matches from fail2ban's data JSON
// ({"matches": […], "failures": N, …}). It tolerates the literal null,
// missing keys and values of the wrong type (giving zero and no matches),
// and text that is not valid JSON (giving nothing at all). A match is a
// plain string, or a list such as [prefix, date, rest] whose parts are
// joined without separator as fail2ban does; other values appear as their
// JSON text and null matches are left out. failures may be a number or a
// numeric string.
//
// It is a small single-pass scanner instead of encoding/json: the history
// of a busy IP decodes thousands of rows, and encoding/json's validate,
// decode and re-decode passes made that several times slower than SQLite
// reading the rows.
func Decode(s string) (failures int64, matches []string) {
	return scanBanData(s, true)
}

// Failures is Decode's failures alone, without building the lines.
func Failures(s string) int64 {
	n, _ := scanBanData(s, false)
	return n
}

func scanBanData(s string, wantMatches bool) (failures int64, matches []string) {
	p := jsonScanner{s: s}
	p.ws()
	if !p.peek('{') {
		return 0, nil // null, a list, a string, or not JSON
	}
	p.i++
	p.ws()
	if p.peek('}') {
		p.i++
	} else {
		for !p.bad {
			key := p.str()
			p.ws()
			p.expect(':')
			p.ws()
			switch {
			case p.bad:
			case key == "matches" && p.peek('['):
				matches = p.matches(wantMatches)
			case key == "matches":
				matches = nil
				p.skip(0)
			case key == "failures":
				failures = p.failures()
			default:
				p.skip(0)
			}
			p.ws()
			if p.peek(',') {
				p.i++
				p.ws()
				continue
			}
			p.expect('}')
			break
		}
	}
	p.ws()
	if p.bad || p.i != len(p.s) {
		return 0, nil
	}
	return failures, matches
}

// jsonScanner reads JSON text strictly (RFC 8259); any error sets bad.
type jsonScanner struct {
	s   string
	i   int
	bad bool
	buf []byte
}

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

func (p *jsonScanner) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScanner) peek(c byte) bool { return !p.bad && p.i < len(p.s) && p.s[p.i] == c }

func (p *jsonScanner) expect(c byte) {
	if p.peek(c) {
		p.i++
		return
	}
	p.bad = true
}

func (p *jsonScanner) literal(word string) {
	if strings.HasPrefix(p.s[p.i:], word) {
		p.i += len(word)
		return
	}
	p.bad = true
}

// skip steps over one value.
func (p *jsonScanner) skip(depth int) {
	if p.bad || p.i >= len(p.s) || depth > maxJSONDepth {
		p.bad = true
		return
	}
	switch c := p.s[p.i]; {
	case c == '"':
		p.skipStr()
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.i++
		p.ws()
		if p.peek(end) {
			p.i++
			return
		}
		for !p.bad {
			if c == '{' {
				p.skipStr()
				p.ws()
				p.expect(':')
				p.ws()
			}
			p.skip(depth + 1)
			p.ws()
			if p.peek(',') {
				p.i++
				p.ws()
				continue
			}
			p.expect(end)
			return
		}
	case c == 't':
		p.literal("true")
	case c == 'f':
		p.literal("false")
	case c == 'n':
		p.literal("null")
	default:
		p.number()
	}
}

// number steps over a number and returns its text.
func (p *jsonScanner) number() string {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.peek('-') {
		p.i++
	}
	switch {
	case p.peek('0'):
		p.i++
	case digits() == 0:
		p.bad = true
		return ""
	}
	if p.peek('.') {
		p.i++
		if digits() == 0 {
			p.bad = true
		}
	}
	if p.peek('e') || p.peek('E') {
		p.i++
		if p.peek('+') || p.peek('-') {
			p.i++
		}
		if digits() == 0 {
			p.bad = true
		}
	}
	return p.s[start:p.i]
}

func (p *jsonScanner) skipStr() {
	if !p.peek('"') {
		p.bad = true
		return
	}
	for i := p.i + 1; i < len(p.s); i++ {
		switch c := p.s[i]; {
		case c == '"':
			p.i = i + 1
			return
		case c == '\\' || c < 0x20:
			p.str() // rare: validate the escapes properly
			return
		}
	}
	p.bad = true
}

// str reads a string and returns it unescaped. Invalid UTF-8 and lone
// surrogates become U+FFFD, as with encoding/json.
func (p *jsonScanner) str() string {
	if !p.peek('"') {
		p.bad = true
		return ""
	}
	i := p.i + 1
	// Fast path: no escapes, valid UTF-8.
	for j := i; j < len(p.s); j++ {
		c := p.s[j]
		if c == '"' {
			if utf8.ValidString(p.s[i:j]) {
				p.i = j + 1
				return p.s[i:j]
			}
			break
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	b := p.buf[:0]
	for i < len(p.s) {
		c := p.s[i]
		switch {
		case c == '"':
			p.i = i + 1
			p.buf = b
			return string(b)
		case c < 0x20:
			p.bad = true
			return ""
		case c == '\\':
			if i+1 >= len(p.s) {
				p.bad = true
				return ""
			}
			i++
			switch e := p.s[i]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(p.s, i+1)
				if !ok {
					p.bad = true
					return ""
				}
				i += 4
				if utf16.IsSurrogate(r) {
					r2, ok := rune(-1), false
					if i+6 < len(p.s) && p.s[i+1] == '\\' && p.s[i+2] == 'u' {
						r2, ok = hex4(p.s, i+3)
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				p.bad = true
				return ""
			}
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(p.s[i:])
			b = utf8.AppendRune(b, r) // RuneError for invalid bytes
			i += size
		}
	}
	p.bad = true
	return ""
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// matches reads the matches list; with build false it only steps over it.
func (p *jsonScanner) matches(build bool) []string {
	p.i++ // [
	p.ws()
	var out []string
	if p.peek(']') {
		p.i++
		return nil
	}
	for !p.bad {
		switch {
		case p.peek('"'):
			if build {
				out = append(out, p.str())
			} else {
				p.skipStr()
			}
		case p.peek('['):
			line := p.joined(build)
			if build {
				out = append(out, line)
			}
		case p.peek('n'):
			p.literal("null")
		default:
			start := p.i
			p.skip(1)
			if build && !p.bad {
				out = append(out, p.s[start:p.i])
			}
		}
		p.ws()
		if p.peek(',') {
			p.i++
			p.ws()
			continue
		}
		p.expect(']')
		break
	}
	return out
}

// joined reads a list of line parts and joins them: strings as they are,
// null as nothing, anything else as its JSON text.
func (p *jsonScanner) joined(build bool) string {
	p.i++ // [
	p.ws()
	if p.peek(']') {
		p.i++
		return ""
	}
	var sb strings.Builder
	for !p.bad {
		switch {
		case p.peek('"'):
			s := p.str()
			if build {
				sb.WriteString(s)
			}
		case p.peek('n'):
			p.literal("null")
		default:
			start := p.i
			p.skip(2)
			if build && !p.bad {
				sb.WriteString(p.s[start:p.i])
			}
		}
		p.ws()
		if p.peek(',') {
			p.i++
			p.ws()
			continue
		}
		p.expect(']')
		break
	}
	return sb.String()
}

// failures reads the failures value: a number (truncated to an integer) or
// a string holding an integer; anything else counts zero.
func (p *jsonScanner) failures() int64 {
	switch {
	case p.peek('"'):
		s := p.str()
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return n
		}
		return 0
	case p.peek('-') || (p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9'):
		num := p.number()
		if p.bad {
			return 0
		}
		if n, err := strconv.ParseInt(num, 10, 64); err == nil {
			return n
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f < math.MinInt64 || f >= math.MaxInt64 || f != f {
			return 0
		}
		return int64(f)
	default:
		p.skip(0)
		return 0
	}
}
