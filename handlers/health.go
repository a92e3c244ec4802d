package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz says the process is alive. It touches nothing.
func (s *Server) healthz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.String(http.StatusOK, "ok\n")
}

// readiness is the JSON body of /readyz.
type readiness struct {
	Status   string `json:"status"`
	Database string `json:"database"`
	Fail2ban string `json:"fail2ban"`
	Reason   string `json:"reason,omitempty"`
}

// readyz says whether the panel can do its work: its own database answers
// and fail2ban answers ping.
func (s *Server) readyz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	r := readiness{Status: "ready", Database: "ok", Fail2ban: "ok"}
	// The reasons are fixed words: the endpoint is public, and the errors
	// may name the database's user, host or the socket's path (logged).
	if err := s.pingDB(ctx); err != nil {
		s.log.Warn("readyz: own database", "err", err)
		r.Status, r.Database, r.Reason = "unavailable", "error", "own database not answering"
	}
	if err := s.hosts.Local().Ping(ctx); err != nil {
		s.log.Warn("readyz: fail2ban", "err", err)
		r.Fail2ban = "error"
		if r.Reason == "" {
			r.Status, r.Reason = "unavailable", "fail2ban not answering"
		}
	}
	if r.Status != "ready" {
		return c.JSON(http.StatusServiceUnavailable, r)
	}
	return c.JSON(http.StatusOK, r)
}
