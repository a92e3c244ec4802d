package handlers

import (
	"errors"

	"github.com/labstack/echo/v4"

	"bangui/views"
)

// bindForm fills dst, a struct whose fields carry `form:"name"` tags, from
// the request's form with Echo's binder. Every POST form of the panel is
// read this way. The form is the URL query and the body, which readForm
// has parsed within the body limit (a larger body never gets here). A body
// that is not a form holds no fields, as c.FormValue would have it: dst
// keeps its zero values and validation says what is missing.
func bindForm(c echo.Context, dst any) error {
	err := c.Bind(dst)
	if errors.Is(err, echo.ErrUnsupportedMediaType) {
		return nil
	}
	return err
}

// checkbox is a form field that is ticked or not. Bound by bindForm, it is
// ticked when the form sends what ticked means.
type checkbox bool

// UnmarshalParam implements echo.BindUnmarshaler.
func (b *checkbox) UnmarshalParam(v string) error {
	*b = checkbox(ticked(v))
	return nil
}

// ticked is the one reading of a checkbox or an on/off switch: every one of
// the panel's sends views.CheckboxOn ("on", the browser's default) when
// ticked; "true" and "1", which earlier pages and links sent, count too.
// Anything else, "off" and absence included, is not ticked.
func ticked(v string) bool {
	return v == views.CheckboxOn || v == "true" || v == "1"
}
