// Package sqlkit is the small SQL toolkit of BanGUI's storage layer: a
// builder of WHERE clauses whose values only ever travel as parameters,
// prefix ranges, VALUES lists, the unix bounds of time filters and paging.
// Both the reader of fail2ban's database and the archive build their
// statements with it. It writes "?" placeholders and standard SQL.
package sqlkit

import (
	"slices"
	"strings"
	"time"
)

// Where collects SQL conditions and their parameters, joined with AND. User
// input only ever travels as a parameter. The zero value is empty.
type Where struct {
	conds []string
	args  []any
}

// Add adds a condition with the parameters of its placeholders.
func (w *Where) Add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// In adds "col IN (?, ?, …)" with one parameter per value.
func (w *Where) In(col string, values []string) {
	var sb strings.Builder
	sb.WriteString(col)
	sb.WriteString(" IN (")
	for i, v := range values {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('?')
		w.args = append(w.args, v)
	}
	sb.WriteByte(')')
	w.conds = append(w.conds, sb.String())
}

// Prefix adds the conditions that col starts with prefix, as a range (see
// PrefixRange).
func (w *Where) Prefix(col, prefix string) {
	lo, hi := PrefixRange(prefix)
	w.Add(col+" >= ?", lo)
	if hi != "" {
		w.Add(col+" < ?", hi)
	}
}

// Clause is " WHERE c1 AND c2 …", or "" without conditions.
func (w Where) Clause() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// Args returns the parameters in placeholder order. Appending to the
// result never changes w.
func (w Where) Args() []any { return slices.Clip(w.args) }

// Clone returns a copy of w that conditions can be added to without
// changing w.
func (w Where) Clone() Where {
	return Where{conds: slices.Clip(w.conds), args: slices.Clip(w.args)}
}

// PrefixRange turns a prefix into the half-open range [lo, hi) of strings
// that start with it in byte order (SQLite's BINARY collation). hi is ""
// when there is no upper bound (a prefix of 0xff bytes only). Matching a
// range instead of LIKE keeps '%', '_' and quotes literal and lets the
// database use an index on the column.
func PrefixRange(p string) (lo, hi string) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return p, string(b[:i+1])
		}
	}
	return p, ""
}

// Values is a VALUES list of one column, "VALUES (?), (?), …", and its
// parameters, for a common table expression such as j(name).
func Values(items []string) (string, []any) {
	var sb strings.Builder
	args := make([]any, 0, len(items))
	sb.WriteString(`VALUES `)
	for i, v := range items {
		if i > 0 {
			sb.WriteString(`, `)
		}
		sb.WriteString(`(?)`)
		args = append(args, v)
	}
	return sb.String(), args
}

// SinceUnix is a filter's lower time bound in unix seconds, 0 for all time.
func SinceUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(t.Unix(), 1)
}

// AfterUnix is an exclusive lower time bound in unix seconds: far in the
// past for the zero time.
func AfterUnix(t time.Time) int64 {
	if t.IsZero() {
		return -1 << 62
	}
	return t.Unix()
}
