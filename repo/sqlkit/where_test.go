package sqlkit

import (
	"slices"
	"testing"
)

func TestPrefixRange(t *testing.T) {
	for _, tc := range []struct{ in, lo, hi string }{
		{"1.2", "1.2", "1.3"},
		{"10.0.0.%", "10.0.0.%", "10.0.0.&"},
		{"a\xff", "a\xff", "b"},
		{"\xff\xff", "\xff\xff", ""},
		{"9", "9", ":"},
	} {
		lo, hi := PrefixRange(tc.in)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("PrefixRange(%q) = %q, %q; want %q, %q", tc.in, lo, hi, tc.lo, tc.hi)
		}
	}
}

// TestWhereCopies checks that a Where handed on is not changed by what its
// receiver appends.
func TestWhereCopies(t *testing.T) {
	var w Where
	w.Add("a = ?", 1)
	w.In("b", []string{"x", "y"})
	w.Prefix("c", "1.2")
	if got := w.Clause(); got != " WHERE a = ? AND b IN (?, ?) AND c >= ? AND c < ?" {
		t.Fatalf("Clause = %q", got)
	}
	args := w.Args()
	_ = append(args, "extra")
	c := w.Clone()
	c.Add("d = ?", 2)
	if !slices.Equal(w.Args(), []any{1, "x", "y", "1.2", "1.3"}) || len(c.Args()) != 6 || w.Clause() == c.Clause() {
		t.Fatalf("w changed: %v %q / %v %q", w.Args(), w.Clause(), c.Args(), c.Clause())
	}
	if (Where{}).Clause() != "" {
		t.Fatal("empty Where has a clause")
	}
}

func TestSpanOf(t *testing.T) {
	for _, tc := range []struct {
		total, limit, offset int64
		want                 PageSpan
	}{
		{100, 10, 0, PageSpan{Limit: 10, Offset: 0}},
		{100, 10, 40, PageSpan{Limit: 10, Offset: 40}},
		{100, 10, 90, PageSpan{Limit: 10, Offset: 0, Reverse: true}},
		{95, 10, 90, PageSpan{Limit: 5, Offset: 0, Reverse: true}},
		{100, 10, 60, PageSpan{Limit: 10, Offset: 30, Reverse: true}},
	} {
		if got := SpanOf(tc.total, tc.limit, tc.offset); got != tc.want {
			t.Errorf("SpanOf(%d, %d, %d) = %+v, want %+v", tc.total, tc.limit, tc.offset, got, tc.want)
		}
	}
}
