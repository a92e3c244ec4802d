package handlers

import (
	"github.com/labstack/echo/v4"

	"bangui/config"
	"bangui/hosts"
	"bangui/models"
)

// hostID is the fail2ban host a request acts on. Every handler asks here;
// today it is always the local host.
func (s *Server) hostID(echo.Context) string { return models.LocalHost }

// LocalHostOptions describe the local fail2ban host from the command-line
// settings, on the socket and configuration directory in use (setup may
// have chosen others than the flags).
func LocalHostOptions(cfg config.Config, socket, configDir string) hosts.LocalOptions {
	return hosts.LocalOptions{Socket: socket, ConfigDir: configDir, ClientPath: cfg.ClientPath,
		RegexPath: cfg.RegexPath, LogDirs: cfg.LogDirs, RestartCommand: cfg.RestartCommand, DBPath: cfg.Fail2banDB}
}
