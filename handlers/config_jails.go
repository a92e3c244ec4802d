package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"bangui/lang"
	"bangui/models"
	"bangui/views"
)

// configJails is the Jails tab.
func (s *Server) configJails(c echo.Context) error {
	return s.renderConfigJails(c, http.StatusOK, models.NewJailForm{}, nil)
}

// renderConfigJails renders the Jails tab with the new-jail form as given.
func (s *Server) renderConfigJails(c echo.Context, status int, form models.NewJailForm, errs map[string][]string) error {
	ctx := c.Request().Context()
	jails, err := s.configuration.Jails(ctx, s.hostID(c))
	if err != nil {
		return err
	}
	filters, err := s.configuration.Filters(ctx, s.hostID(c))
	if err != nil {
		jails.Problems = append(jails.Problems, lang.Of(err))
	}
	return s.render(c, status, views.ConfigJailsView(views.ConfigJailsPage{Jails: jails, Filters: filters, New: form, Errors: errs}), nil)
}

// configJailCreate creates a jail from the new-jail form.
func (s *Server) configJailCreate(c echo.Context) error {
	var in newJailInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	form := in.form()
	res, err := s.configuration.CreateJail(c.Request().Context(), s.hostID(c), form)
	s.auditApply(c, models.AuditEntry{Jail: strings.TrimSpace(form.Name), Detail: "create jail"}, res, err)
	if fe := configErrors(langOf(c), err); fe != nil {
		return s.renderConfigJails(c, http.StatusUnprocessableEntity, form, fe)
	}
	if err != nil {
		return s.configFail(c, err, "/config")
	}
	name := strings.TrimSpace(form.Name)
	ok := tr(c, "cfg.jail_created", "Name", name, "File", res.File)
	if len(res.Reloaded) > 0 {
		ok = tr(c, "cfg.jail_created_running", "Name", name, "File", res.File)
	}
	s.flashApply(c, res, ok)
	if res.OK {
		return s.redirect(c, s.hostURL(c, "/config/jails/"+url.PathEscape(name)))
	}
	return s.redirect(c, s.hostURL(c, "/config"))
}

// configJail is one jail's settings page.
func (s *Server) configJail(c echo.Context) error {
	d, err := s.configuration.Jail(c.Request().Context(), s.hostID(c), c.Param("name"))
	if err != nil {
		return s.configFail(c, err, "/config")
	}
	return s.render(c, http.StatusOK, views.ConfigJailView(views.ConfigJailPage{Jail: d, Form: d.Form}), nil)
}

// newJailInput is the form that creates a jail.
type newJailInput struct {
	Name     string   `form:"name"`
	Filter   string   `form:"filter"`
	LogPath  string   `form:"logpath"`
	MaxRetry string   `form:"maxretry"`
	BanTime  string   `form:"bantime"`
	FindTime string   `form:"findtime"`
	Enabled  checkbox `form:"enabled"`
}

func (in newJailInput) form() models.NewJailForm {
	return models.NewJailForm{Name: in.Name, Filter: in.Filter, LogPath: in.LogPath, MaxRetry: in.MaxRetry,
		BanTime: in.BanTime, FindTime: in.FindTime, Enabled: bool(in.Enabled)}
}

// jailInput is a jail's settings form; the names are the configuration.Field*
// option names.
type jailInput struct {
	BanTime        string   `form:"bantime"`
	FindTime       string   `form:"findtime"`
	MaxRetry       string   `form:"maxretry"`
	FailRegex      string   `form:"failregex"`
	IgnoreRegex    string   `form:"ignoreregex"`
	DatePattern    string   `form:"datepattern"`
	LogEncoding    string   `form:"logencoding"`
	LogPath        string   `form:"logpath"`
	Actions        string   `form:"action"`
	IncEnabled     checkbox `form:"bantime.increment"`
	IncFactor      string   `form:"bantime.factor"`
	IncFormula     string   `form:"bantime.formula"`
	IncMultipliers string   `form:"bantime.multipliers"`
	IncMaxTime     string   `form:"bantime.maxtime"`
	IncRndTime     string   `form:"bantime.rndtime"`
	IncOverall     checkbox `form:"bantime.overalljails"`
}

func (in jailInput) form() models.JailForm {
	return models.JailForm{
		BanTime: in.BanTime, FindTime: in.FindTime, MaxRetry: in.MaxRetry, FailRegex: in.FailRegex,
		IgnoreRegex: in.IgnoreRegex, DatePattern: in.DatePattern, LogEncoding: in.LogEncoding, LogPath: in.LogPath,
		Actions: in.Actions, IncEnabled: bool(in.IncEnabled), IncFactor: in.IncFactor, IncFormula: in.IncFormula,
		IncMultipliers: in.IncMultipliers, IncMaxTime: in.IncMaxTime, IncRndTime: in.IncRndTime, IncOverall: bool(in.IncOverall),
	}
}

// configJailSave saves and applies a jail's settings.
func (s *Server) configJailSave(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	var in jailInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	form := in.form()
	res, err := s.configuration.SaveJail(ctx, s.hostID(c), name, form)
	s.auditApply(c, models.AuditEntry{Jail: name, Detail: "edit jail"}, res, err)
	if fe := configErrors(langOf(c), err); fe != nil {
		d, derr := s.configuration.Jail(ctx, s.hostID(c), name)
		if derr != nil {
			return s.configFail(c, derr, "/config")
		}
		return s.render(c, http.StatusUnprocessableEntity, views.ConfigJailView(views.ConfigJailPage{Jail: d, Form: form, Errors: fe}), nil)
	}
	if err != nil {
		return s.configFail(c, err, "/config/jails/"+url.PathEscape(name))
	}
	ok := tr(c, "cfg.jail_saved", "File", res.File, "Name", name)
	if len(res.Reloaded) > 0 && res.Verified {
		ok = tr(c, "cfg.jail_saved_verified", "File", res.File, "Name", name)
	}
	s.flashApply(c, res, ok)
	return s.redirect(c, s.hostURL(c, "/config/jails/"+url.PathEscape(name)))
}

// configJailToggle activates (on) or deactivates a jail.
func (s *Server) configJailToggle(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("name")
		back := "/config"
		if c.FormValue("from") == "detail" {
			back = "/config/jails/" + url.PathEscape(name)
		}
		res, err := s.configuration.SetJailEnabled(c.Request().Context(), s.hostID(c), name, on)
		detail := "deactivate jail"
		if on {
			detail = "activate jail"
		}
		s.auditApply(c, models.AuditEntry{Jail: name, Detail: detail}, res, err)
		if fe := configErrors(langOf(c), err); fe != nil {
			s.flash(c, "error", tr(c, "cfg.not_changed", "Reason", firstMessage(langOf(c), fe)))
			return s.redirect(c, s.hostURL(c, back))
		}
		if err != nil {
			return s.configFail(c, err, back)
		}
		ok := tr(c, "cfg.jail_activated", "Name", name, "File", res.File)
		if !on {
			ok = tr(c, "cfg.jail_deactivated", "Name", name, "File", res.File)
		}
		s.flashApply(c, res, ok)
		return s.redirect(c, s.hostURL(c, back))
	}
}
