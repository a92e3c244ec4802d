package textfmt

import (
	"strings"
	"unicode/utf8"
)

// ClipUTF8 cuts s to at most max bytes without splitting a character, so
// that valid UTF-8 stays valid.
func ClipUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}

// Shorten cuts s to at most n characters, the last of them an ellipsis
// when anything was cut.
func Shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	return string(r[:n-1]) + "…"
}

// SplitLines turns a textarea into its non-empty, trimmed lines.
func SplitLines(v string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
