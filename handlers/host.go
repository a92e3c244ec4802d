package handlers

import (
	"github.com/labstack/echo/v4"

	"bangui/models"
)

// hostID is the fail2ban host a request acts on. Every handler asks here;
// today it is always the local host.
func (s *Server) hostID(echo.Context) string { return models.LocalHost }
