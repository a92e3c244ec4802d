package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/services"
	"bangui/views"
)

// configRegex is the regex tester.
func (s *Server) configRegex(c echo.Context) error {
	return s.render(c, http.StatusOK, views.ConfigRegexView(views.ConfigRegexPage{LogDirs: s.configuration.LogDirs()}), nil)
}

// configRegexRun runs fail2ban-regex on the form's patterns and lines.
func (s *Server) configRegexRun(c echo.Context) error {
	form := models.RegexForm{
		FailRegex: c.FormValue(services.FieldFailRegex), IgnoreRegex: c.FormValue(services.FieldIgnoreRegex),
		DatePattern: c.FormValue(services.FieldDatePattern), Lines: c.FormValue(services.FieldRegexLines),
		LogFile: c.FormValue(services.FieldRegexLogFile), LogLines: c.FormValue(services.FieldRegexLogN),
	}
	p := views.ConfigRegexPage{Form: form, LogDirs: s.configuration.LogDirs()}
	rep, err := s.configuration.TestRegex(c.Request().Context(), form)
	if fe := configErrors(err); fe != nil {
		p.Errors = fe
		return s.render(c, http.StatusUnprocessableEntity, views.ConfigRegexView(p), nil)
	}
	if err != nil {
		return err
	}
	p.Report = &rep
	return s.render(c, http.StatusOK, views.ConfigRegexView(p), nil)
}
