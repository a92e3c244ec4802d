package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"bangui/services/configuration"
	"bangui/views"
)

// logSizes are the line counts offered by the log viewer; the second is the
// default.
var logSizes = []int{100, configuration.DefaultLogLines, 500, 1000}

// logParams reads the log viewer's query: lines, filter and auto refresh.
func logParams(c echo.Context) (int, string, bool) {
	n := configuration.ParseLineCount(c.QueryParam("n"), configuration.DefaultLogLines)
	q := queryText(c, "q", 200)
	auto := ticked(c.QueryParam("auto"))
	return n, q, auto
}

// configLog is the log viewer.
func (s *Server) configLog(c echo.Context) error {
	n, q, auto := logParams(c)
	v, err := s.configuration.Log(c.Request().Context(), s.hostID(c), n, q)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.ConfigLogView(views.ConfigLogPage{View: v, Auto: auto, Sizes: logSizes}), nil)
}

// configLogLines is the log block alone, which polls itself.
func (s *Server) configLogLines(c echo.Context) error {
	n, q, auto := logParams(c)
	v, err := s.configuration.Log(c.Request().Context(), s.hostID(c), n, q)
	if err != nil {
		return err
	}
	return s.renderComponent(c, http.StatusOK, views.LogLines(v, auto))
}
