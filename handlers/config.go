package handlers

import (
	"errors"
	"strings"

	"bangui/lang"
	"bangui/views"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/models"
	"bangui/services"
	"bangui/services/configuration"
)

// configRoutes registers the configuration pages.
func (s *Server) configRoutes(t routeTable) {
	t.GET("/config", models.RoleAdmin, s.configJails)
	t.POST("/config/jails", models.RoleAdmin, s.configJailCreate)
	t.GET("/config/jails/:name", models.RoleAdmin, s.configJail)
	t.POST("/config/jails/:name", models.RoleAdmin, s.configJailSave)
	t.POST("/config/jails/:name/activate", models.RoleAdmin, s.configJailToggle(true))
	t.POST("/config/jails/:name/deactivate", models.RoleAdmin, s.configJailToggle(false))
	for _, kind := range []string{"filter", "action"} {
		base := "/config/" + kind + "s"
		t.GET(base, models.RoleAdmin, s.configItems(kind))
		t.POST(base, models.RoleAdmin, s.configItemCreate(kind))
		t.GET(base+"/:name", models.RoleAdmin, s.configItem(kind))
		t.POST(base+"/:name", models.RoleAdmin, s.configItemSave(kind))
	}
	t.GET("/config/raw", models.RoleAdmin, s.configRaw)
	t.POST("/config/raw", models.RoleAdmin, s.configRawSave)
	t.GET("/config/server", models.RoleAdmin, s.configServer)
	t.POST("/config/server", models.RoleAdmin, s.configServerSave)
	t.POST("/config/server/flush", models.RoleAdmin, s.configFlush)
	t.POST("/config/server/reload", models.RoleAdmin, s.configReload)
	t.POST("/config/server/restart", models.RoleAdmin, s.configRestart)
	t.GET("/config/regex", models.RoleAdmin, s.configRegex)
	t.POST("/config/regex", models.RoleAdmin, s.configRegexRun)
	t.GET("/config/log", models.RoleAdmin, s.configLog)
	t.GET("/config/log/lines", models.RoleAdmin, s.configLogLines)
}

// configErrors returns the field messages of refused input, or nil.
func configErrors(l *lang.Lang, err error) map[string][]string {
	var ve *services.ValidationError
	if errors.As(err, &ve) {
		return ve.In(l)
	}
	var pe *f2bconf.PathError
	if errors.As(err, &pe) {
		return map[string][]string{configuration.FieldRawFile: {pe.Message.In(l)}}
	}
	var val *f2bconf.ValueError
	if errors.As(err, &val) {
		return map[string][]string{"": {val.Message.In(l)}}
	}
	var fe *fail2ban.ValidationError
	if errors.As(err, &fe) {
		return map[string][]string{"": {fe.Message.In(l)}}
	}
	return nil
}

// configFail handles errors that are not form errors. A change refused
// because fail2ban is offline or another edit holds the configuration is
// flashed on the page at back, so the user can try again; every other
// error (an unknown item, an unreadable directory) goes to handleError.
func (s *Server) configFail(c echo.Context, err error, back string) error {
	if msg, ok := configFailMessage(langOf(c), err); ok {
		s.flash(c, "error", msg)
		return s.redirect(c, s.hostURL(c, back))
	}
	return err
}

// configFailMessage is what configFail flashes for err in language l, if
// it flashes it.
func configFailMessage(l *lang.Lang, err error) (string, bool) {
	switch {
	case errors.Is(err, configuration.ErrOffline):
		return l.T("cfg.not_saved_offline"), true
	case errors.Is(err, f2bconf.ErrEditRunning):
		return l.T("cfg.not_saved_edit_running"), true
	}
	return "", false
}

// auditApply records a configuration change (e names what and where, and
// may word its failure) with what its apply did: saved, refused, failed, or failed and rolled back
// (a config.rollback entry).
func (s *Server) auditApply(c echo.Context, e models.AuditEntry, res models.ApplyResult, err error) {
	e.Action, e.Host = models.AuditConfigSave, s.hostID(c)
	if res.File != "" {
		e.File = res.File
	}
	switch {
	case e.Result != "": // the caller words the failure
	case err != nil:
		e.Result = s.auditOutcome(err)
	case res.RolledBack || !res.RollbackFailure.IsZero():
		e.Action = models.AuditConfigUndo
		_, e.Result = applyFlash(lang.Get("en"), res, "")
	case !res.OK && !res.Failure.IsZero():
		_, e.Result = applyFlash(lang.Get("en"), res, "")
	case !res.Changed:
		e.Detail = strings.TrimSpace(e.Detail + " (nothing changed)")
	}
	s.audit(c, e)
}

// flashApply queues what an apply did (ok, in the request's language,
// when it worked) for the next page, fail2ban's own words in it marked as
// its output.
func (s *Server) flashApply(c echo.Context, res models.ApplyResult, ok string) {
	kind, msg := applyFlash(langOf(c), res, ok)
	s.queueFlash(c, views.Flash{Kind: kind, Message: msg, Quote: res.Output})
}

// applyFlash says what an apply did in language l, for the flash message
// (ok, already in l, when it worked).
func applyFlash(l *lang.Lang, res models.ApplyResult, ok string) (string, string) {
	switch {
	case !res.Changed && res.Failure.IsZero():
		return "info", l.T("cfg.nothing_changed")
	case res.OK:
		return "success", ok
	case res.RolledBack && len(res.Restored) > 0:
		return "error", lang.M("cfg.not_applied_restored", "Failure", res.Failure, "File", res.File,
			"Jails", strings.Join(res.Restored, ", ")).In(l)
	case res.RolledBack:
		return "error", lang.M("cfg.not_applied", "Failure", res.Failure, "File", res.File).In(l)
	default:
		return "error", lang.M("cfg.not_applied_rollback_failed", "Failure", res.Failure,
			"RollbackFailure", res.RollbackFailure, "File", res.File).In(l)
	}
}
