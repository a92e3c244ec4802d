package handlers

import (
	"runtime"
	"strings"

	"github.com/labstack/echo/v4"
)

// limitPages bounds how many requests the panel works on at once; the
// others wait their turn, in arrival order as far as Go's channel allows.
// The pages are CPU work (SQLite and rendering), so running more of them
// at once than a few per core finishes none sooner, while each one under
// way holds its rendering buffer and its gzip writer (over a megabyte
// together): under the load script's 50 clients those made most of the
// panel's heap. It sits before the gzip middleware so that a waiting
// request holds no writer. Event streams (long-lived), the CSV export
// (long for a big history), static assets and the health checks do not
// take a turn.
func (s *Server) limitPages() echo.MiddlewareFunc {
	slots := make(chan struct{}, pageSlots())
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			p := r.URL.Path
			if wantsStream(r) || strings.Contains(p, "/assets/") || strings.HasSuffix(p, ".csv") ||
				strings.HasSuffix(p, "/healthz") || strings.HasSuffix(p, "/readyz") {
				return next(c)
			}
			select {
			case slots <- struct{}{}:
			case <-r.Context().Done():
				return r.Context().Err() // the client left while waiting
			}
			defer func() { <-slots }()
			return next(c)
		}
	}
}

// pageSlots is how many requests limitPages lets run at once.
func pageSlots() int { return max(8, 4*runtime.GOMAXPROCS(0)) }
