package views

import (
	"context"

	"github.com/a-h/templ"

	"bangui/lang"
)

// col is a table cell's column: data-label, its heading in the request's
// language (shown before the value where a table stacks into cards), and
// data-col, the heading in English, which the stylesheet's column rules
// match in every language.
func col(ctx context.Context, key string) templ.Attributes {
	return templ.Attributes{"data-label": lang.T(ctx, key), "data-col": lang.Get("en").T(key)}
}
