package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	f2bconf "bangui/fail2ban/config"
	"bangui/models"
	"bangui/services"
	"bangui/views"
)

// logSizes are the line counts offered by the log viewer; the second is the
// default.
var logSizes = []int{100, services.DefaultLogLines, 500, 1000}

// configRoutes registers the configuration pages.
func (s *Server) configRoutes(g *echo.Group, mw []echo.MiddlewareFunc) {
	g.GET("/config", s.configJails, mw...)
	g.POST("/config/jails", s.configJailCreate, mw...)
	g.GET("/config/jails/:name", s.configJail, mw...)
	g.POST("/config/jails/:name", s.configJailSave, mw...)
	g.POST("/config/jails/:name/activate", s.configJailToggle(true), mw...)
	g.POST("/config/jails/:name/deactivate", s.configJailToggle(false), mw...)
	for _, kind := range []string{"filter", "action"} {
		base := "/config/" + kind + "s"
		g.GET(base, s.configItems(kind), mw...)
		g.POST(base, s.configItemCreate(kind), mw...)
		g.GET(base+"/:name", s.configItem(kind), mw...)
		g.POST(base+"/:name", s.configItemSave(kind), mw...)
	}
	g.GET("/config/raw", s.configRaw, mw...)
	g.POST("/config/raw", s.configRawSave, mw...)
	g.GET("/config/server", s.configServer, mw...)
	g.POST("/config/server", s.configServerSave, mw...)
	g.POST("/config/server/flush", s.configFlush, mw...)
	g.POST("/config/server/reload", s.configReload, mw...)
	g.POST("/config/server/restart", s.configRestart, mw...)
	g.GET("/config/regex", s.configRegex, mw...)
	g.POST("/config/regex", s.configRegexRun, mw...)
	g.GET("/config/log", s.configLog, mw...)
	g.GET("/config/log/lines", s.configLogLines, mw...)
}

// configErrors returns the field messages of refused input, or nil.
func configErrors(err error) map[string][]string {
	var ve *services.ValidationError
	if errors.As(err, &ve) {
		return ve.Fields
	}
	var pe *f2bconf.PathError
	if errors.As(err, &pe) {
		return map[string][]string{services.FieldRawFile: {pe.Message}}
	}
	var val *f2bconf.ValueError
	if errors.As(err, &val) {
		return map[string][]string{"": {val.Message}}
	}
	var fe *fail2ban.ValidationError
	if errors.As(err, &fe) {
		return map[string][]string{"": {fe.Message}}
	}
	return nil
}

// configFail handles errors that are not form errors: unknown items are
// 404, an offline fail2ban and a busy directory are flashed.
func (s *Server) configFail(c echo.Context, err error, back string) error {
	switch {
	case errors.Is(err, services.ErrConfigNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "The configuration does not define that.")
	case errors.Is(err, services.ErrConfigNameUnsupported):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, services.ErrConfigUnreadable):
		return echo.NewHTTPError(http.StatusServiceUnavailable, err.Error()+". Check the directory chosen at setup.")
	case errors.Is(err, services.ErrConfigOffline):
		s.flash(c, "error", "Not saved: fail2ban is not answering. BanGUI changes the configuration only while it can test and reload it.")
		return s.redirect(c, s.url(back))
	case errors.Is(err, context.DeadlineExceeded) && strings.Contains(err.Error(), "another edit"):
		s.flash(c, "error", "Not saved: another change of fail2ban's configuration is still being applied. Try again in a moment.")
		return s.redirect(c, s.url(back))
	}
	return err
}

// applyFlash says what an apply did, for the flash message.
func applyFlash(res models.ApplyResult, ok string) (string, string) {
	switch {
	case !res.Changed && res.Failure == "":
		return "info", "Nothing changed, so nothing was written."
	case res.OK:
		return "success", ok
	case res.RolledBack:
		msg := "Not applied: " + res.Failure + ". BanGUI rolled back: " + res.File + " is as it was"
		if len(res.Restored) > 0 {
			msg += " and " + strings.Join(res.Restored, ", ") + " runs with the previous settings"
		}
		return "error", msg + "."
	default:
		return "error", "Not applied: " + res.Failure + ". The rollback failed too: " + res.RollbackFailure +
			". Check " + res.File + " and fail2ban now."
	}
}

func (s *Server) configJails(c echo.Context) error {
	return s.renderConfigJails(c, http.StatusOK, models.NewJailForm{}, nil)
}

func (s *Server) renderConfigJails(c echo.Context, status int, form models.NewJailForm, errs map[string][]string) error {
	ctx := c.Request().Context()
	jails, err := s.configuration.Jails(ctx, s.hostID(c))
	if err != nil {
		return err
	}
	filters, err := s.configuration.Filters(ctx, s.hostID(c))
	if err != nil {
		jails.Problems = append(jails.Problems, err.Error())
	}
	return s.render(c, status, views.ConfigJailsView(views.ConfigJailsPage{Jails: jails, Filters: filters, New: form, Errors: errs}), nil)
}

func (s *Server) configJailCreate(c echo.Context) error {
	form := models.NewJailForm{
		Name: c.FormValue("name"), Filter: c.FormValue("filter"), LogPath: c.FormValue("logpath"),
		MaxRetry: c.FormValue("maxretry"), FindTime: c.FormValue("findtime"), BanTime: c.FormValue("bantime"),
		Enabled: c.FormValue("enabled") == "true",
	}
	res, err := s.configuration.CreateJail(c.Request().Context(), s.hostID(c), form)
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

func (s *Server) configJail(c echo.Context) error {
	d, err := s.configuration.Jail(c.Request().Context(), s.hostID(c), c.Param("name"))
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

func (s *Server) configJailSave(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	form := jailFormFrom(c)
	res, err := s.configuration.SaveJail(ctx, s.hostID(c), name, form)
	if fe := configErrors(err); fe != nil {
		d, derr := s.configuration.Jail(ctx, s.hostID(c), name)
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

func (s *Server) configJailToggle(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("name")
		back := "/config"
		if c.FormValue("from") == "detail" {
			back = "/config/jails/" + url.PathEscape(name)
		}
		res, err := s.configuration.SetJailEnabled(c.Request().Context(), s.hostID(c), name, on)
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

func (s *Server) configItems(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		return s.renderConfigItems(c, kind, http.StatusOK, views.ConfigItemsPage{})
	}
}

func (s *Server) renderConfigItems(c echo.Context, kind string, status int, p views.ConfigItemsPage) error {
	items, err := s.configuration.Items(c.Request().Context(), s.hostID(c), kind)
	if err != nil {
		return err
	}
	p.Kind, p.Items, p.Query = kind, items, queryText(c, "q", maxSearchLen)
	return s.render(c, status, views.ConfigItemsView(p), nil)
}

// itemFormsFrom reads the filter or action form.
func itemFormsFrom(c echo.Context, init []models.KeyValue) (models.FilterForm, models.ActionForm) {
	ff := models.FilterForm{
		FailRegex: c.FormValue(services.FieldFailRegex), IgnoreRegex: c.FormValue(services.FieldIgnoreRegex),
		DatePattern: c.FormValue(services.FieldDatePattern), PrefRegex: c.FormValue(services.FieldPrefRegex),
	}
	af := models.ActionForm{
		ActionStart: c.FormValue("actionstart"), ActionStop: c.FormValue("actionstop"),
		ActionCheck: c.FormValue("actioncheck"), ActionBan: c.FormValue("actionban"),
		ActionUnban: c.FormValue("actionunban"),
		NewKey:      c.FormValue(services.FieldNewKey), NewValue: c.FormValue(services.FieldNewValue),
	}
	for _, kv := range init {
		af.Init = append(af.Init, models.KeyValue{Key: kv.Key, Value: c.FormValue("init_" + kv.Key)})
	}
	return ff, af
}

func (s *Server) configItemCreate(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ff, af := itemFormsFrom(c, nil)
		name := c.FormValue("name")
		res, err := s.configuration.CreateItem(c.Request().Context(), s.hostID(c), kind, name, ff, af)
		if fe := configErrors(err); fe != nil {
			return s.renderConfigItems(c, kind, http.StatusUnprocessableEntity,
				views.ConfigItemsPage{NewName: name, NewFilter: ff, NewAction: af, Errors: fe})
		}
		base := "/config/" + kind + "s"
		if err != nil {
			return s.configFail(c, err, base)
		}
		name = strings.TrimSpace(name)
		kindMsg, msg := applyFlash(res, fmt.Sprintf("Created the %s %s in %s; fail2ban's checks passed.", kind, name, res.File))
		s.flash(c, kindMsg, msg)
		if res.OK {
			return s.redirect(c, s.url(base+"/"+url.PathEscape(name)))
		}
		return s.redirect(c, s.url(base))
	}
}

func (s *Server) configItem(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		d, err := s.configuration.Item(c.Request().Context(), s.hostID(c), kind, c.Param("name"))
		if err != nil {
			return s.configFail(c, err, "/config/"+kind+"s")
		}
		return s.render(c, http.StatusOK, views.ConfigItemView(views.ConfigItemPage{Item: d, Filter: d.Filter, Action: d.Action}), nil)
	}
}

func (s *Server) configItemSave(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		name := c.Param("name")
		d, err := s.configuration.Item(ctx, s.hostID(c), kind, name)
		if err != nil {
			return s.configFail(c, err, "/config/"+kind+"s")
		}
		ff, af := itemFormsFrom(c, d.Action.Init)
		res, err := s.configuration.SaveItem(ctx, s.hostID(c), kind, name, ff, af)
		if fe := configErrors(err); fe != nil {
			return s.render(c, http.StatusUnprocessableEntity, views.ConfigItemView(views.ConfigItemPage{Item: d, Filter: ff, Action: af, Errors: fe}), nil)
		}
		back := "/config/" + kind + "s/" + url.PathEscape(name)
		if err != nil {
			return s.configFail(c, err, back)
		}
		ok := "Saved " + res.File + "; fail2ban's checks passed."
		if len(res.Reloaded) > 0 {
			ok += " Reloaded " + strings.Join(res.Reloaded, ", ") + "."
		}
		kindMsg, msg := applyFlash(res, ok)
		s.flash(c, kindMsg, msg)
		return s.redirect(c, s.url(back))
	}
}

func (s *Server) configRaw(c echo.Context) error {
	name := c.QueryParam("file")
	p := views.ConfigRawPage{Name: name, MaxKB: services.MaxRawSize >> 10}
	if name != "" {
		f, err := s.configuration.ReadRaw(c.Request().Context(), s.hostID(c), name)
		if fe := configErrors(err); fe != nil {
			p.Errors = fe
			return s.renderConfigRaw(c, http.StatusBadRequest, p)
		}
		if err != nil {
			return err
		}
		p.Open, p.Content = &f, f.Content
	}
	return s.renderConfigRaw(c, http.StatusOK, p)
}

func (s *Server) renderConfigRaw(c echo.Context, status int, p views.ConfigRawPage) error {
	files, err := s.configuration.RawFiles(c.Request().Context(), s.hostID(c))
	if err != nil {
		s.log.Warn("listing .local files failed", "err", err)
	}
	p.Files, p.MaxKB = files, services.MaxRawSize>>10
	return s.render(c, status, views.ConfigRawView(p), nil)
}

func (s *Server) configRawSave(c echo.Context) error {
	name, content := c.FormValue("file"), c.FormValue("content")
	p := views.ConfigRawPage{Name: name, Content: content}
	res, err := s.configuration.SaveRaw(c.Request().Context(), s.hostID(c), name, content)
	switch fe := configErrors(err); {
	case errors.Is(err, services.ErrRawTooLarge):
		p.Open = &models.RawFile{Name: name}
		p.Errors = map[string][]string{services.FieldRawContent: {
			fmt.Sprintf("Not saved: the text is %s, more than the %d KB the editor accepts. Nothing was written.", fmtKB(len(content)), services.MaxRawSize>>10)}}
		return s.renderConfigRaw(c, http.StatusRequestEntityTooLarge, p)
	case fe != nil:
		status := http.StatusUnprocessableEntity
		if _, bad := fe[services.FieldRawFile]; bad {
			status = http.StatusBadRequest
		} else {
			p.Open = &models.RawFile{Name: name}
		}
		p.Errors = fe
		return s.renderConfigRaw(c, status, p)
	case err != nil:
		return err
	}
	kind, msg := applyFlash(res, "Saved "+res.File+"; fail2ban's configuration test passed. Reload the jail or fail2ban (Server tab) to use it.")
	s.flash(c, kind, msg)
	return s.redirect(c, s.url("/config/raw?file="+url.QueryEscape(name)))
}

func fmtKB(n int) string { return strconv.Itoa((n+1023)>>10) + " KB" }

func (s *Server) configServer(c echo.Context) error {
	return s.renderConfigServer(c, http.StatusOK, nil, nil)
}

func (s *Server) renderConfigServer(c echo.Context, status int, form *models.ServerForm, errs map[string][]string) error {
	set, err := s.configuration.Server(c.Request().Context(), s.hostID(c))
	p := views.ConfigServerPage{Settings: set, Levels: services.LogLevels, Errors: errs}
	if err != nil {
		if !fail2ban.IsUnreachable(err) {
			return err
		}
		p.Offline = "fail2ban is not answering, so its settings cannot be shown or changed. The status bar checks again every few seconds."
	}
	if form != nil {
		p.Form = *form
	} else {
		p.Form = services.ServerFormOf(set)
	}
	if d, err := fail2ban.ParseTimeSpec(p.Form.DBPurgeAge); err == nil && d >= 0 && d < 24*time.Hour && p.Offline == "" {
		p.PurgeShort = true
	}
	return s.render(c, status, views.ConfigServerView(p), nil)
}

func (s *Server) configServerSave(c echo.Context) error {
	form := models.ServerForm{
		LogLevel: c.FormValue(services.FieldLogLevel), LogTarget: c.FormValue(services.FieldLogTarget),
		DBPurgeAge: c.FormValue(services.FieldDBPurgeAge), DBMaxMatches: c.FormValue(services.FieldDBMaxMatches),
	}
	res, err := s.configuration.SaveServer(c.Request().Context(), s.hostID(c), form)
	if fe := configErrors(err); fe != nil {
		return s.renderConfigServer(c, http.StatusUnprocessableEntity, &form, fe)
	}
	if err != nil {
		if fail2ban.IsUnreachable(err) {
			return s.configFail(c, services.ErrConfigOffline, "/config/server")
		}
		return s.configFail(c, err, "/config/server")
	}
	ok := "Saved fail2ban.local; the configuration test passed and fail2ban runs with the new settings."
	if d, err := fail2ban.ParseTimeSpec(form.DBPurgeAge); err == nil && d >= 0 && d < 24*time.Hour {
		ok += " Note: with a purge age below one day fail2ban forgets bans quickly; BanGUI's archive keeps them."
	}
	kind, msg := applyFlash(res, ok)
	s.flash(c, kind, msg)
	return s.redirect(c, s.url("/config/server"))
}

func (s *Server) configFlush(c echo.Context) error {
	out, err := s.configuration.FlushLogs(c.Request().Context(), s.hostID(c))
	if err != nil {
		return err
	}
	s.flash(c, "success", "fail2ban flushed its log ("+out+").")
	return s.redirect(c, s.url("/config/server"))
}

func (s *Server) configReload(c echo.Context) error {
	if err := s.configuration.ReloadAll(c.Request().Context(), s.hostID(c)); err != nil {
		if fail2ban.IsUnreachable(err) {
			return err
		}
		s.flash(c, "error", "Reload failed: "+err.Error())
		return s.redirect(c, s.url("/config/server"))
	}
	s.flash(c, "success", "fail2ban reloaded its whole configuration.")
	return s.redirect(c, s.url("/config/server"))
}

func (s *Server) configRestart(c echo.Context) error {
	took, err := s.configuration.Restart(c.Request().Context(), s.hostID(c))
	if err != nil {
		s.flash(c, "error", "Restart: "+err.Error()+".")
		return s.redirect(c, s.url("/config/server"))
	}
	s.flash(c, "success", fmt.Sprintf("fail2ban restarted and answered after %.1f s.", took.Seconds()))
	return s.redirect(c, s.url("/config/server"))
}

func (s *Server) configRegex(c echo.Context) error {
	dirs, err := s.configuration.LogDirs(c.Request().Context(), s.hostID(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.ConfigRegexView(views.ConfigRegexPage{LogDirs: dirs}), nil)
}

func (s *Server) configRegexRun(c echo.Context) error {
	form := models.RegexForm{
		FailRegex: c.FormValue(services.FieldFailRegex), IgnoreRegex: c.FormValue(services.FieldIgnoreRegex),
		DatePattern: c.FormValue(services.FieldDatePattern), Lines: c.FormValue(services.FieldRegexLines),
		LogFile: c.FormValue(services.FieldRegexLogFile), LogLines: c.FormValue(services.FieldRegexLogN),
	}
	dirs, err := s.configuration.LogDirs(c.Request().Context(), s.hostID(c))
	if err != nil {
		return err
	}
	p := views.ConfigRegexPage{Form: form, LogDirs: dirs}
	rep, err := s.configuration.TestRegex(c.Request().Context(), s.hostID(c), form)
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

// logParams reads the log viewer's query: lines, filter and auto refresh.
func logParams(c echo.Context) (int, string, bool) {
	n := services.ParseLineCount(c.QueryParam("n"), services.DefaultLogLines)
	q := queryText(c, "q", 200)
	auto := c.QueryParam("auto") == "1" || c.QueryParam("auto") == "true"
	return n, q, auto
}

func (s *Server) configLog(c echo.Context) error {
	n, q, auto := logParams(c)
	v, err := s.configuration.Log(c.Request().Context(), s.hostID(c), n, q)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.ConfigLogView(views.ConfigLogPage{View: v, Auto: auto, Sizes: logSizes}), nil)
}

func (s *Server) configLogLines(c echo.Context) error {
	n, q, auto := logParams(c)
	v, err := s.configuration.Log(c.Request().Context(), s.hostID(c), n, q)
	if err != nil {
		return err
	}
	return s.renderComponent(c, http.StatusOK, views.LogLines(v, auto))
}
