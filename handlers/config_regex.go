package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/views"
)

// configRegex is the regex tester.
func (s *Server) configRegex(c echo.Context) error {
	dirs, err := s.configuration.LogDirs(c.Request().Context(), s.hostID(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.ConfigRegexView(views.ConfigRegexPage{LogDirs: dirs}), nil)
}

// regexInput is the regex tester's form, as models.RegexForm.
type regexInput struct {
	FailRegex   string `form:"failregex"`
	IgnoreRegex string `form:"ignoreregex"`
	DatePattern string `form:"datepattern"`
	Lines       string `form:"lines"`
	LogFile     string `form:"logfile"`
	LogLines    string `form:"loglines"`
}

// configRegexRun runs fail2ban-regex on the form's patterns and lines.
func (s *Server) configRegexRun(c echo.Context) error {
	var in regexInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	form := models.RegexForm(in)
	dirs, err := s.configuration.LogDirs(c.Request().Context(), s.hostID(c))
	if err != nil {
		return err
	}
	p := views.ConfigRegexPage{Form: form, LogDirs: dirs}
	rep, err := s.configuration.TestRegex(c.Request().Context(), s.hostID(c), form)
	if fe := configErrors(langOf(c), err); fe != nil {
		p.Errors = fe
		return s.render(c, http.StatusUnprocessableEntity, views.ConfigRegexView(p), nil)
	}
	if err != nil {
		return err
	}
	p.Report = &rep
	return s.render(c, http.StatusOK, views.ConfigRegexView(p), nil)
}
