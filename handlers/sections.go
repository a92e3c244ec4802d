package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"bangui/views"
)

// sectionInfo describes a section page that is not built yet.
type sectionInfo struct {
	path, title, intro string
	upcoming           []string
}

var dashboardInfo = sectionInfo{"/", "Dashboard", "What fail2ban has been doing on this server.", []string{
	"Server status: online, version, active jails, current bans and failures.",
	"Bans in the last 24 hours, 7, 30 or 365 days, filtered by origin.",
	"Ban trend, top countries and bans per jail.",
}}

var sections = []sectionInfo{
	{"/map", "World map", "Where the banned addresses come from.", []string{
		"A map of bans by country.", "A table of bans that follows the selected country."}},
	{"/history", "History", "Every ban the panel has seen.", []string{
		"fail2ban's records plus BanGUI's own archive, which outlives fail2ban's purge.", "A timeline per IP address."}},
	{"/blocklists", "Blocklists", "Ban addresses from lists published by others.", []string{
		"Sources with preview.", "Import now or on a schedule, with progress and a log."}},
	{"/config", "Configuration", "fail2ban's jails, filters and actions, safely edited.", []string{
		"Structured and raw editing of .local files, with validation and rollback.", "Server settings, a regex tester and the fail2ban log."}},
}

func (s *Server) dashboard(c echo.Context) error { return s.section(dashboardInfo)(c) }

func (s *Server) section(info sectionInfo) echo.HandlerFunc {
	return func(c echo.Context) error {
		return s.render(c, http.StatusOK, views.SectionPage(info.title, info.intro, info.upcoming), nil)
	}
}
