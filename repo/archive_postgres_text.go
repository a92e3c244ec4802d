package repo

import (
	"strings"
	"unicode/utf8"

	"bangui/repo/sqlkit"
)

// PostgreSQL's text holds valid UTF-8 without NUL bytes only, while a
// hostile or corrupted fail2ban database can hand the archive any bytes
// (SQLite's text takes them). The PostgreSQL archive therefore stores text
// through pgText, an injective escape that leaves valid UTF-8 without NUL
// as it is (every real address, jail and host) and writes each other byte
// b as the private-use code point pgEscBase+b; pgPlain reverses it when
// rows are read. Filters are escaped the same way, so an exact match stays
// exact and a prefix of whole characters still matches by prefix.

// pgEscBase is the first of the 256 code points (plane 16's private use
// area) that stand for a raw byte.
const pgEscBase = 0x10FE00

// pgText returns s as PostgreSQL text can hold it (see above).
func pgText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 && strings.IndexByte(s, 0xF4) < 0 {
		return s // no NUL, no invalid byte, nothing in plane 16
	}
	var sb strings.Builder
	sb.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0 || r == utf8.RuneError && size == 1 || r >= pgEscBase && r <= pgEscBase+0xff {
			for _, b := range []byte(s[i : i+size]) {
				sb.WriteRune(pgEscBase + rune(b))
			}
		} else {
			sb.WriteString(s[i : i+size])
		}
		i += size
	}
	return sb.String()
}

// pgPlain reverses pgText.
func pgPlain(s string) string {
	if strings.IndexByte(s, 0xF4) < 0 {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		if r >= pgEscBase && r <= pgEscBase+0xff {
			sb.WriteByte(byte(r - pgEscBase))
		} else {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// pgPrefix adds the conditions that col (COLLATE "C": byte order, which is
// code point order for UTF-8) starts with prefix: the range from the
// escaped prefix to the first string past every string it begins, whose
// last character is one code point higher (sqlkit.PrefixRange's byte
// increment could end in an invalid byte).
func pgPrefix(w *sqlkit.Where, col, prefix string) {
	lo := pgText(prefix)
	w.Add(col+" >= ?", lo)
	rs := []rune(lo)
	for len(rs) > 0 && rs[len(rs)-1] == utf8.MaxRune {
		rs = rs[:len(rs)-1]
	}
	if len(rs) == 0 {
		return // no upper bound
	}
	next := rs[len(rs)-1] + 1
	if next >= 0xD800 && next <= 0xDFFF {
		next = 0xE000 // surrogates are no characters
	}
	rs[len(rs)-1] = next
	w.Add(col+" < ?", string(rs))
}
