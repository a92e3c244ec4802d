package handlers

import (
	"github.com/labstack/echo/v4"
)

// useMetrics counts every request for the Prometheus metrics and, when
// --metrics-token is set, serves them at <base-path>/metrics on the
// panel's own address: no session, setup guard or CSRF, since the bearer
// token is the credential (a wrong or missing one gets 401). Without a
// token the path is unknown (404); with metrics off it does nothing.
func (s *Server) useMetrics(e *echo.Echo) {
	if s.metrics == nil {
		return
	}
	e.Use(s.metrics.Middleware(s.cfg.BasePath))
	if s.cfg.MetricsToken != "" {
		e.GET(s.url("/metrics"), echo.WrapHandler(s.metrics.Handler()))
	}
}
