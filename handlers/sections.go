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

var sections = []sectionInfo{}

func (s *Server) section(info sectionInfo) echo.HandlerFunc {
	return func(c echo.Context) error {
		return s.render(c, http.StatusOK, views.SectionPage(info.title, info.intro, info.upcoming), nil)
	}
}
