package handlers

import (
	"github.com/labstack/echo/v4"
)

// hostParam is the query parameter that selects a host; it is kept in the
// URL so that a link or a reload shows the same host.
const hostParam = "host"

// hostScope is the host a page reads: the one selected with ?host=, or ""
// for every host (the combined view). requireKnownHost has checked it.
func (s *Server) hostScope(c echo.Context) string { return c.QueryParam(hostParam) }

// hostID is the one fail2ban host a request acts on: the selected one, or
// the local host when none is selected.
func (s *Server) hostID(c echo.Context) string {
	if id := s.hostScope(c); id != "" {
		return id
	}
	return s.hosts.Local().ID()
}

// requireKnownHost answers 404 "Unknown host" before any handler runs when
// ?host= names a host the registry does not know.
func (s *Server) requireKnownHost(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if id := c.QueryParam(hostParam); id != "" {
			if _, err := s.hosts.Get(id); err != nil {
				return err
			}
		}
		return next(c)
	}
}
