//go:build e2etest

package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"bangui/views"
)

// The e2etest build adds pages that exist only for the browser tests in e2e/.
// They sit under the base path, need no session and answer GET only.
func init() {
	buildTestRoutes = func(t routeTable) {
		t.public(http.MethodGet, "/__e2e/inline-script", t.s.e2eInlineScript)
		t.public(http.MethodGet, "/__e2e/swap", t.s.e2eSwap)
		t.public(http.MethodGet, "/__e2e/xss", t.s.e2eXSS)
	}
}

// e2eInlineScript is a real layout page with an inline script, which the
// global Content-Security-Policy must block. The e2e suite uses it to prove
// that its CSP check can fail.
func (s *Server) e2eInlineScript(c echo.Context) error {
	body := templ.Raw(`<section class="page" aria-labelledby="page-title">` +
		`<h1 id="page-title">Inline script</h1>` +
		`<script>document.body.setAttribute("data-inline-ran", "yes");</script>` +
		`</section>`)
	return s.render(c, http.StatusOK, inLayout("Inline script", body), nil)
}

// e2eXSS renders the query parameter html UNESCAPED inside a real layout
// page, the mistake the e2e suite's XSS checks look for: the suite uses it
// to prove that those checks catch an injected element and a payload that
// is missing as text. With csp=off the page is sent with inline scripts
// allowed, so that a payload's script runs and the check that no injected
// script ran can be seen failing too.
func (s *Server) e2eXSS(c echo.Context) error {
	if c.QueryParam("csp") == "off" {
		c.Response().Header().Set("Content-Security-Policy",
			strings.Replace(ContentSecurityPolicy, "script-src 'self'", "script-src 'self' 'unsafe-inline'", 1))
	}
	body := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, `<section class="page" aria-labelledby="page-title"><h1 id="page-title">XSS</h1><p id="xss-unescaped">`); err != nil {
			return err
		}
		if err := templ.Raw(c.QueryParam("html")).Render(ctx, w); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</p></section>`)
		return err
	})
	return s.render(c, http.StatusOK, inLayout("XSS", body), nil)
}

// e2eSwap is a paged list for the htmx helper of the e2e suite: the full
// page on normal loads and history restores, the #list fragment for htmx
// swaps.
func (s *Server) e2eSwap(c echo.Context) error {
	n, err := strconv.Atoi(c.QueryParam("page"))
	if err != nil || n < 1 || n > 1000 {
		n = 1
	}
	list := templ.Raw(fmt.Sprintf(`<div id="list" data-page="%d">`+
		`<p>Page %d</p>`+
		`<a href="?page=%d" hx-get="?page=%d" hx-target="#list" hx-swap="outerHTML" hx-push-url="true">Next</a>`+
		`</div>`, n, n, n+1, n+1))
	page := inLayout("Swap", templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, `<section class="page" aria-labelledby="page-title"><h1 id="page-title">Swap</h1>`); err != nil {
			return err
		}
		if err := list.Render(ctx, w); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</section>`)
		return err
	}))
	return s.render(c, http.StatusOK, page, list)
}

// inLayout renders child inside the real page layout.
func inLayout(title string, child templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return views.Layout(title).Render(templ.WithChildren(ctx, child), w)
	})
}
