package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/lang"
	"bangui/models"
	"bangui/services/configuration"
	"bangui/views"
)

// configServer is the Server tab.
func (s *Server) configServer(c echo.Context) error {
	return s.renderConfigServer(c, http.StatusOK, nil, nil)
}

// renderConfigServer renders the Server tab; form nil shows the saved settings.
func (s *Server) renderConfigServer(c echo.Context, status int, form *models.ServerForm, errs map[string][]string) error {
	set, err := s.configuration.Server(c.Request().Context(), s.hostID(c))
	p := views.ConfigServerPage{Settings: set, Levels: configuration.LogLevels, Errors: errs}
	if err != nil {
		if !fail2ban.IsUnreachable(err) {
			return err
		}
		p.Offline = tr(c, "cfg.server_offline")
	}
	if form != nil {
		p.Form = *form
	} else {
		p.Form = configuration.ServerFormOf(set)
	}
	if d, err := fail2ban.ParseTimeSpec(p.Form.DBPurgeAge); err == nil && d >= 0 && d < 24*time.Hour && p.Offline == "" {
		p.PurgeShort = true
	}
	return s.render(c, status, views.ConfigServerView(p), nil)
}

// serverInput is the form of fail2ban's own settings, as models.ServerForm.
type serverInput struct {
	LogLevel     string `form:"loglevel"`
	LogTarget    string `form:"logtarget"`
	DBPurgeAge   string `form:"dbpurgeage"`
	DBMaxMatches string `form:"dbmaxmatches"`
}

// configServerSave saves and applies fail2ban's own settings.
func (s *Server) configServerSave(c echo.Context) error {
	var in serverInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	form := models.ServerForm(in)
	res, err := s.configuration.SaveServer(c.Request().Context(), s.hostID(c), form)
	if fail2ban.IsUnreachable(err) {
		err = configuration.ErrOffline
	}
	s.auditApply(c, models.AuditEntry{File: "fail2ban.local", Detail: "server settings"}, res, err)
	if fe := configErrors(langOf(c), err); fe != nil {
		return s.renderConfigServer(c, http.StatusUnprocessableEntity, &form, fe)
	}
	if err != nil {
		return s.configFail(c, err, "/config/server")
	}
	ok := tr(c, "cfg.server_saved")
	if d, err := fail2ban.ParseTimeSpec(form.DBPurgeAge); err == nil && d >= 0 && d < 24*time.Hour {
		ok += " " + tr(c, "cfg.server_purge_note")
	}
	s.flashApply(c, res, ok)
	return s.redirect(c, s.hostURL(c, "/config/server"))
}

// configFlush makes fail2ban reopen its log.
func (s *Server) configFlush(c echo.Context) error {
	out, err := s.configuration.FlushLogs(c.Request().Context(), s.hostID(c))
	s.audit(c, models.AuditEntry{Action: models.AuditFlushLogs, Host: s.hostID(c), Result: s.auditOutcome(err)})
	if err != nil {
		return err
	}
	s.flash(c, "success", tr(c, "config.flushed", "Out", out))
	return s.redirect(c, s.hostURL(c, "/config/server"))
}

// configReload reloads fail2ban's whole configuration.
func (s *Server) configReload(c echo.Context) error {
	err := s.configuration.ReloadAll(c.Request().Context(), s.hostID(c))
	e := models.AuditEntry{Action: models.AuditReload, Host: s.hostID(c), Detail: "fail2ban", Result: s.auditOutcome(err)}
	failed := lang.M("cfg.reload_failed", "Error", err)
	if err != nil && !fail2ban.IsUnreachable(err) {
		e.Result = failed.Error()
	}
	s.audit(c, e)
	if err != nil {
		if fail2ban.IsUnreachable(err) {
			return err
		}
		s.queueFlash(c, views.Flash{Kind: "error", Message: failed.In(langOf(c)), Quote: configuration.Fail2banWords(err)})
		return s.redirect(c, s.hostURL(c, "/config/server"))
	}
	s.flash(c, "success", tr(c, "config.reloaded"))
	return s.redirect(c, s.hostURL(c, "/config/server"))
}

// configRestart restarts fail2ban and waits for it.
func (s *Server) configRestart(c echo.Context) error {
	took, err := s.configuration.Restart(c.Request().Context(), s.hostID(c))
	e := models.AuditEntry{Action: models.AuditReload, Host: s.hostID(c), Detail: "restart fail2ban"}
	failed := lang.M("cfg.restart_error", "Error", err)
	if err != nil {
		e.Result = failed.Error()
	}
	s.audit(c, e)
	if err != nil {
		s.queueFlash(c, views.Flash{Kind: "error", Message: failed.In(langOf(c)), Quote: configuration.Fail2banWords(err)})
		return s.redirect(c, s.hostURL(c, "/config/server"))
	}
	s.flash(c, "success", tr(c, "config.restarted", "Took", seconds(c, took)))
	return s.redirect(c, s.hostURL(c, "/config/server"))
}
