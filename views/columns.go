package views

import (
	"context"
	"sync"

	"github.com/a-h/templ"

	"bangui/lang"
)

// col is a table cell's column: data-label, its heading in the request's
// language (shown before the value where a table stacks into cards), and
// data-col, the heading in English, which the stylesheet's column rules
// match in every language. A page renders hundreds of cells of a few
// columns: each language's attributes of a column are looked up in the
// catalogues once, then shared by every cell (templ only reads them).
func col(ctx context.Context, key string) templ.OrderedAttributes {
	l := lang.From(ctx)
	k := colKey{lang: l.Code(), key: key}
	if a, ok := colAttrs.Load(k); ok {
		return a.(templ.OrderedAttributes)
	}
	// In the order templ.Attributes wrote them (sorted), without sorting
	// them anew for every cell.
	a, _ := colAttrs.LoadOrStore(k, templ.OrderedAttributes{{Key: "data-col", Value: lang.Get("en").T(key)}, {Key: "data-label", Value: l.T(key)}})
	return a.(templ.OrderedAttributes)
}

// colKey names one column in one language.
type colKey struct{ lang, key string }

// colAttrs holds col's attributes by colKey: the columns of the panel's
// tables (message ids written in the templates) in its languages.
var colAttrs sync.Map
