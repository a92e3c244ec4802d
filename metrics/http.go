package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// unmatchedRoute is the route label of requests no route matched.
const unmatchedRoute = "unmatched"

// Middleware counts each request by method, route pattern and status and
// times it. Register it first (outermost): it hands a handler's error to
// Echo's error handler itself, so that the status it records is the one
// sent, and a panic the recover middleware turned into an error counts as
// the 500 it became. Route patterns are below basePath, so dashboards
// work the same whatever the base path.
func (m *Metrics) Middleware(basePath string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			method, route := methodLabel(c.Request().Method), routeLabel(c.Path(), basePath)
			m.httpRequests.WithLabelValues(method, route, strconv.Itoa(c.Response().Status)).Inc()
			m.httpDuration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// routeLabel is the route pattern p (Echo's c.Path(), such as
// "/bangui/jails/:name") below basePath, or unmatchedRoute when no route
// matched (Echo's not-found route "/*" or none).
func routeLabel(p, basePath string) string {
	switch {
	case p == "" || p == "/*":
		return unmatchedRoute
	case basePath != "" && strings.HasPrefix(p, basePath+"/"):
		return p[len(basePath):]
	}
	return p
}

// methodLabel is the request method when it is a standard one, else
// otherLabel (a client may send any token).
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return otherLabel
}
