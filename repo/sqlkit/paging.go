package sqlkit

import "bangui/models"

// Page sizes used when a models.Page asks for none or too many rows.
const (
	DefaultPageSize = 100
	MaxPageSize     = 500
)

// NormPage returns the LIMIT and OFFSET of a page: DefaultPageSize rows
// when it asks for none, at most MaxPageSize, page numbers from 1.
func NormPage(p models.Page) (limit, offset int64) {
	size := p.Size
	if size < 1 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	n := min(max(p.Number, 1), 1<<40) // far past any table, and no overflow
	return int64(size), int64(n-1) * int64(size)
}

// PageSpan is where one page lies in a list of total rows ordered newest
// first. Pages in the older half are read from the oldest end (Reverse),
// so the last page costs what the first does.
type PageSpan struct {
	Limit, Offset int64
	Reverse       bool
}

// SpanOf returns the span of the page at offset with limit rows in a list
// of total rows.
func SpanOf(total, limit, offset int64) PageSpan {
	if offset+limit <= total-offset {
		return PageSpan{Limit: limit, Offset: offset}
	}
	end := total - offset // rows from the oldest end up to the page's newest row
	return PageSpan{Limit: min(limit, end), Offset: max(end-limit, 0), Reverse: true}
}

// Depth is how many rows an ordered walk passes to reach the page's end.
func (s PageSpan) Depth() int64 { return s.Offset + s.Limit }

// Order is the ORDER BY that walks from the span's end: newest first by
// timeCol then idCol, or oldest first when Reverse.
func (s PageSpan) Order(timeCol, idCol string) string {
	if s.Reverse {
		return timeCol + ", " + idCol
	}
	return timeCol + " DESC, " + idCol + " DESC"
}
