package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/services"
	"bangui/views"
)

// configJails is the Jails tab.
func (s *Server) configJails(c echo.Context) error {
	return s.renderConfigJails(c, http.StatusOK, models.NewJailForm{}, nil)
}

// renderConfigJails renders the Jails tab with the new-jail form as given.
func (s *Server) renderConfigJails(c echo.Context, status int, form models.NewJailForm, errs map[string][]string) error {
	ctx := c.Request().Context()
	jails, err := s.configuration.Jails(ctx)
	if err != nil {
		return err
	}
	filters, err := s.configuration.Filters()
	if err != nil {
		jails.Problems = append(jails.Problems, err.Error())
	}
	return s.render(c, status, views.ConfigJailsView(views.ConfigJailsPage{Jails: jails, Filters: filters, New: form, Errors: errs}), nil)
}

// configJailCreate creates a jail from the new-jail form.
func (s *Server) configJailCreate(c echo.Context) error {
	form := models.NewJailForm{
		Name: c.FormValue("name"), Filter: c.FormValue("filter"), LogPath: c.FormValue("logpath"),
		MaxRetry: c.FormValue("maxretry"), FindTime: c.FormValue("findtime"), BanTime: c.FormValue("bantime"),
		Enabled: c.FormValue("enabled") == "true",
	}
	res, err := s.configuration.CreateJail(c.Request().Context(), form)
	if fe := configErrors(err); fe != nil {
		return s.renderConfigJails(c, http.StatusUnprocessableEntity, form, fe)
	}
	if err != nil {
		return s.configFail(c, err, "/config")
	}
	name := strings.TrimSpace(form.Name)
	ok := "Created the jail " + name + " in " + res.File + "; the configuration test passed."
	if len(res.Reloaded) > 0 {
		ok += " It runs now."
	}
	kind, msg := applyFlash(res, ok)
	s.flash(c, kind, msg)
	if res.OK {
		return s.redirect(c, s.url("/config/jails/"+url.PathEscape(name)))
	}
	return s.redirect(c, s.url("/config"))
}

// configJail is one jail's settings page.
func (s *Server) configJail(c echo.Context) error {
	d, err := s.configuration.Jail(c.Request().Context(), c.Param("name"))
	if err != nil {
		return s.configFail(c, err, "/config")
	}
	return s.render(c, http.StatusOK, views.ConfigJailView(views.ConfigJailPage{Jail: d, Form: d.Form}), nil)
}

// jailFormFrom reads the jail settings form.
func jailFormFrom(c echo.Context) models.JailForm {
	return models.JailForm{
		BanTime: c.FormValue(services.FieldBanTime), FindTime: c.FormValue(services.FieldFindTime),
		MaxRetry: c.FormValue(services.FieldMaxRetry), FailRegex: c.FormValue(services.FieldFailRegex),
		IgnoreRegex: c.FormValue(services.FieldIgnoreRegex), DatePattern: c.FormValue(services.FieldDatePattern),
		LogEncoding: c.FormValue(services.FieldLogEncoding), LogPath: c.FormValue(services.FieldLogPath),
		Actions:        c.FormValue(services.FieldAction),
		IncEnabled:     c.FormValue(services.FieldIncEnabled) == "true",
		IncFactor:      c.FormValue(services.FieldIncFactor),
		IncFormula:     c.FormValue(services.FieldIncFormula),
		IncMultipliers: c.FormValue(services.FieldIncMultipliers),
		IncMaxTime:     c.FormValue(services.FieldIncMaxTime),
		IncRndTime:     c.FormValue(services.FieldIncRndTime),
		IncOverall:     c.FormValue(services.FieldIncOverall) == "true",
	}
}

// configJailSave saves and applies a jail's settings.
func (s *Server) configJailSave(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	form := jailFormFrom(c)
	res, err := s.configuration.SaveJail(ctx, name, form)
	if fe := configErrors(err); fe != nil {
		d, derr := s.configuration.Jail(ctx, name)
		if derr != nil {
			return s.configFail(c, derr, "/config")
		}
		return s.render(c, http.StatusUnprocessableEntity, views.ConfigJailView(views.ConfigJailPage{Jail: d, Form: form, Errors: fe}), nil)
	}
	if err != nil {
		return s.configFail(c, err, "/config/jails/"+url.PathEscape(name))
	}
	ok := "Saved " + res.File + ": the configuration test passed and fail2ban reloaded " + name + "."
	if len(res.Reloaded) > 0 && strings.Contains(strings.Join(res.Steps, " "), "runs with the new values") {
		ok = "Saved " + res.File + ": the configuration test passed, fail2ban reloaded " + name + " and runs it with the new values."
	}
	kind, msg := applyFlash(res, ok)
	s.flash(c, kind, msg)
	return s.redirect(c, s.url("/config/jails/"+url.PathEscape(name)))
}

// configJailToggle activates (on) or deactivates a jail.
func (s *Server) configJailToggle(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("name")
		back := "/config"
		if c.FormValue("from") == "detail" {
			back = "/config/jails/" + url.PathEscape(name)
		}
		res, err := s.configuration.SetJailEnabled(c.Request().Context(), name, on)
		if fe := configErrors(err); fe != nil {
			s.flash(c, "error", "Not changed: "+firstMessage(fe))
			return s.redirect(c, s.url(back))
		}
		if err != nil {
			return s.configFail(c, err, back)
		}
		ok := "Activated " + name + ": " + res.File + " says enabled = true, the configuration test passed and the jail runs."
		if !on {
			ok = "Deactivated " + name + ": " + res.File + " says enabled = false and the jail no longer runs."
		}
		kind, msg := applyFlash(res, ok)
		s.flash(c, kind, msg)
		return s.redirect(c, s.url(back))
	}
}
