package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/blocklists"
	"bangui/views"
)

// logPageSizes are the page sizes of the import log; the first is the default.
var logPageSizes = []int{20, 50, 100}

// previewTimeout bounds the preview download of one request.
const previewTimeout = 30 * time.Second

// blocklistRoutes registers /blocklists and its forms.
func (s *Server) blocklistRoutes(t routeTable) {
	t.GET("/blocklists", models.RoleViewer, s.blocklistsPage)
	t.GET("/blocklists/progress", models.RoleViewer, s.blocklistProgress)
	t.POST("/blocklists/import", models.RoleOperator, s.blocklistImport)
	t.GET("/blocklists/jail", models.RoleViewer, s.blocklistJailCard)
	t.POST("/blocklists/jail", models.RoleAdmin, s.blocklistJail)
	t.POST("/blocklists/schedule", models.RoleAdmin, s.blocklistSchedule)
	t.POST("/blocklists/sources", models.RoleAdmin, s.blocklistCreate)
	t.GET("/blocklists/sources/:id", models.RoleViewer, s.blocklistSourcePage)
	t.POST("/blocklists/sources/:id", models.RoleAdmin, s.blocklistUpdate)
	t.GET("/blocklists/sources/:id/preview", models.RoleViewer, s.blocklistPreview)
	t.POST("/blocklists/sources/:id/enabled", models.RoleAdmin, s.blocklistEnabled)
	t.POST("/blocklists/sources/:id/delete", models.RoleAdmin, s.blocklistDelete)
}

// navAlerts are the warnings shown as badges in the navigation.
func (s *Server) navAlerts(ctx context.Context) map[string]string {
	if s.blocklists == nil || !s.blocklists.LastScheduledFailed(ctx) {
		return nil
	}
	return map[string]string{"/blocklists": lang.T(ctx, "blk.nav_failed")}
}

func (s *Server) blocklistsPage(c echo.Context) error {
	return s.renderBlocklists(c, http.StatusOK, views.SourceForm{Enabled: true}, nil)
}

// renderBlocklists renders /blocklists with the given form states; sched nil
// shows the saved schedule.
func (s *Server) renderBlocklists(c echo.Context, status int, add views.SourceForm, sched *views.ScheduleForm) error {
	ctx := c.Request().Context()
	log, err := s.importLogTable(c, 0, "/blocklists")
	if err != nil {
		return err
	}
	if wantsFragment(c.Request()) {
		return s.renderComponent(c, http.StatusOK, views.ImportLogView(log))
	}
	sources, err := s.blocklists.Sources(ctx)
	if err != nil {
		return err
	}
	info, err := s.blocklists.ScheduleInfo(ctx)
	if err != nil {
		return err
	}
	add.Choices = s.sourceHostChoices()
	if add.Hosts == nil && !add.AllHosts {
		add.Hosts = []string{s.hosts.Local().ID()}
	}
	p := views.BlocklistsPage{Progress: s.blocklists.Progress(), Sources: sources, AddForm: add, Info: info, Log: log}
	p.Jail, p.JailOffline = s.blocklistJailState(ctx, s.hostID(c))
	if sched != nil {
		p.Schedule = *sched
	} else {
		p.Schedule = views.ScheduleFormOf(info.Schedule)
	}
	return s.render(c, status, views.BlocklistsPageView(p), nil)
}

// blocklistJailState asks whether the blocklist jail runs; the string says
// why fail2ban could not tell, in ctx's language.
func (s *Server) blocklistJailState(ctx context.Context, host string) (models.BlocklistJailState, string) {
	st, err := s.blocklists.JailState(ctx, host)
	switch {
	case fail2ban.IsUnreachable(err):
		return st, lang.T(ctx, "blk.jail.unreachable", "Jail", models.BlocklistJail)
	case err != nil:
		return st, lang.T(ctx, "blk.jail.unknown", "Jail", models.BlocklistJail, "Reason", lang.Text(ctx, err))
	}
	return st, ""
}

// blocklistJailCard is the jail card alone, which reloads after imports.
func (s *Server) blocklistJailCard(c echo.Context) error {
	if !isHTMX(c.Request()) {
		return c.Redirect(http.StatusSeeOther, s.url("/blocklists"))
	}
	st, offline := s.blocklistJailState(c.Request().Context(), s.hostID(c))
	return s.renderComponent(c, http.StatusOK, views.BlocklistJailCard(st, offline))
}

// importLogTable reads one page of the import log of a source (0: all).
func (s *Server) importLogTable(c echo.Context, sourceID int64, path string) (views.ImportLogTable, error) {
	page := parsePage(c, logPageSizes)
	rows, total, err := s.blocklists.ImportLog(c.Request().Context(), sourceID, page)
	t := views.ImportLogTable{
		ID: "import-log", Rows: rows, HideSource: sourceID != 0,
		Pager: views.Pager{Page: page.Number, Size: page.Size, Total: total, Sizes: logPageSizes, Path: path, Target: "#import-log"},
	}
	return t, err
}

func (s *Server) blocklistProgress(c echo.Context) error {
	if !isHTMX(c.Request()) {
		return c.Redirect(http.StatusSeeOther, s.url("/blocklists"))
	}
	p := s.blocklists.Progress()
	if c.QueryParam("was") == "running" && !p.Running {
		// The import just finished: the log table reloads itself.
		c.Response().Header().Set("HX-Trigger", "import-finished")
	}
	return s.renderComponent(c, http.StatusOK, views.ImportStatus(views.ImportStatusView{Progress: p}))
}

func (s *Server) blocklistImport(c echo.Context) error {
	var id int64
	what, target := "every enabled list", ""
	if raw := c.FormValue("source"); raw != "" {
		src, err := s.sourceOf(c, raw)
		if err != nil {
			return err
		}
		id, what, target = src.ID, "the list "+src.Name, src.Name
	}
	err := s.blocklists.StartImport(id, models.TriggerManual)
	e := models.AuditEntry{Action: models.AuditImport, Target: target, Detail: "started " + what, Result: s.auditOutcome(err)}
	kind, msg := "success", tr(c, "bl.started_all")
	if target != "" {
		msg = tr(c, "bl.started_one", "Name", target)
	}
	switch {
	case errors.Is(err, blocklists.ErrImportRunningElsewhere):
		kind, msg = "info", tr(c, "bl.other_panel")
		e.Result = msg
	case errors.Is(err, blocklists.ErrImportRunning):
		kind, msg = "info", tr(c, "bl.running_already")
		e.Result = msg
	}
	s.audit(c, e)
	if err != nil && kind == "success" {
		return err
	}
	s.flash(c, kind, msg)
	return s.redirect(c, s.url("/blocklists"))
}

func (s *Server) blocklistJail(c echo.Context) error {
	err := s.blocklists.EnsureJail(c.Request().Context(), s.hostID(c))
	var jp *blocklists.JailProblem
	e := models.AuditEntry{Action: models.AuditBlocklist, Host: s.hostID(c), Jail: models.BlocklistJail, Detail: "ensure jail", Result: s.auditOutcome(err)}
	if errors.As(err, &jp) {
		e.Result = jp.Message.Error()
	}
	s.audit(c, e)
	switch {
	case errors.As(err, &jp):
		s.flash(c, "error", jp.Message.In(langOf(c)))
	case err != nil:
		return err
	default:
		s.flash(c, "success", tr(c, "blk.jail.runs", "Jail", models.BlocklistJail))
	}
	return s.redirect(c, s.url("/blocklists"))
}

func (s *Server) blocklistSchedule(c echo.Context) error {
	var form views.ScheduleForm
	if err := bindForm(c, &form); err != nil {
		return err
	}
	sched, err := s.blocklists.SaveSchedule(c.Request().Context(), blocklists.ScheduleInput{
		Frequency: form.Frequency, Time: form.Time, Weekday: form.Weekday})
	e := models.AuditEntry{Action: models.AuditBlocklist, Detail: "schedule", Result: s.auditOutcome(err)}
	if err == nil {
		e.Detail = "schedule: " + string(sched.Frequency)
		if sched.Frequency != models.ScheduleOff {
			e.Detail = "schedule: " + scheduleWords(lang.With(c.Request().Context(), lang.Get("en")), sched)
		}
	}
	s.audit(c, e)
	var verr *services.ValidationError
	if errors.As(err, &verr) {
		form.Errors = verr.In(langOf(c))
		return s.renderBlocklists(c, http.StatusUnprocessableEntity, views.SourceForm{Enabled: true}, &form)
	}
	if err != nil {
		return err
	}
	msg := tr(c, "bl.auto_off")
	if sched.Frequency != models.ScheduleOff {
		msg = tr(c, "bl.schedule_saved", "Schedule", scheduleWords(c.Request().Context(), sched))
	}
	s.flash(c, "success", msg)
	return s.redirect(c, s.url("/blocklists"))
}

// scheduleWords says a schedule briefly for the flash.
func scheduleWords(ctx context.Context, sc models.BlocklistSchedule) string {
	at := fmt.Sprintf("%02d:%02d", sc.Hour, sc.Minute)
	switch sc.Frequency {
	case models.ScheduleHourly:
		return lang.T(ctx, "bl.words.hourly", "Minute", fmt.Sprintf("%02d", sc.Minute))
	case models.ScheduleWeekly:
		return lang.T(ctx, "bl.words.weekly", "Day", views.WeekdayName(ctx, sc.Weekday), "Time", at)
	}
	return lang.T(ctx, "bl.words.daily", "Time", at)
}

// sourceInput is the add or edit form of a blocklist source.
type sourceInput struct {
	Name     string   `form:"name"`
	URL      string   `form:"url"`
	Enabled  checkbox `form:"enabled"`
	Hosts    []string `form:"hosts"`     // on a panel with several hosts
	AllHosts checkbox `form:"hosts_all"` // every host, also those added later
}

// readSourceForm binds the source form, as the page shows it again and as
// the service takes it. On a panel with several hosts a source must ban
// on at least one; with one host the form has no choice and the source
// bans on the local host.
func (s *Server) readSourceForm(c echo.Context) (views.SourceForm, blocklists.SourceInput, error) {
	var in sourceInput
	if err := bindForm(c, &in); err != nil {
		return views.SourceForm{}, blocklists.SourceInput{}, err
	}
	f := views.SourceForm{Name: in.Name, URL: in.URL, Enabled: bool(in.Enabled), Hosts: in.Hosts, AllHosts: bool(in.AllHosts),
		Choices: s.sourceHostChoices()}
	if len(f.Choices) > 1 && !f.AllHosts && len(f.Hosts) == 0 {
		return f, blocklists.SourceInput{}, services.Invalid(blocklists.FieldHosts, lang.M("bl.pick_host"))
	}
	return f, blocklists.SourceInput{Name: f.Name, URL: f.URL, Enabled: f.Enabled,
		Hosts: models.TargetsOf(f.AllHosts, f.Hosts)}, nil
}

// sourceHostChoices are the hosts a source may ban on: every host, when
// there are several.
func (s *Server) sourceHostChoices() []views.HostOption {
	if !s.manyHosts() {
		return nil
	}
	return s.hostOptions()
}

// sourceForm is the edit form of a stored source.
func (s *Server) sourceForm(src models.BlocklistSource) views.SourceForm {
	f := views.SourceForm{Name: src.Name, URL: src.URL, Enabled: src.Enabled, AllHosts: src.Hosts.Every(), Choices: s.sourceHostChoices()}
	if !f.AllHosts {
		if src.Hosts == "" {
			f.Hosts = []string{models.LocalHost}
		} else {
			f.Hosts = strings.Split(string(src.Hosts), ",")
		}
	}
	return f
}

func (s *Server) blocklistCreate(c echo.Context) error {
	form, in, err := s.readSourceForm(c)
	var src models.BlocklistSource
	if err == nil {
		src, err = s.blocklists.CreateSource(c.Request().Context(), in)
	}
	s.audit(c, models.AuditEntry{Action: models.AuditBlocklist, Target: form.Name, Detail: "add list " + form.URL, Result: s.auditOutcome(err)})
	var verr *services.ValidationError
	if errors.As(err, &verr) {
		form.Errors = verr.In(langOf(c))
		return s.renderBlocklists(c, http.StatusUnprocessableEntity, form, nil)
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", tr(c, "bl.added", "Name", src.Name))
	return s.redirect(c, s.url("/blocklists"))
}

// sourceOf loads the source a path or form names, or answers 404.
func (s *Server) sourceOf(c echo.Context, raw string) (models.BlocklistSource, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return models.BlocklistSource{}, echo.NewHTTPError(http.StatusNotFound)
	}
	src, err := s.blocklists.Source(c.Request().Context(), id)
	if errors.Is(err, repo.ErrNotFound) {
		return src, echo.NewHTTPError(http.StatusNotFound)
	}
	return src, err
}

func (s *Server) blocklistSourcePage(c echo.Context) error {
	src, err := s.sourceOf(c, c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderSource(c, http.StatusOK, src, s.sourceForm(src), nil, "")
}

// renderSource renders a source's page with the given form and preview.
func (s *Server) renderSource(c echo.Context, status int, src models.BlocklistSource, form views.SourceForm, pv *models.BlocklistPreview, pvErr string) error {
	path := "/blocklists/sources/" + strconv.FormatInt(src.ID, 10)
	log, err := s.importLogTable(c, src.ID, path)
	if err != nil {
		return err
	}
	if wantsFragment(c.Request()) {
		return s.renderComponent(c, http.StatusOK, views.ImportLogView(log))
	}
	return s.render(c, status, views.SourcePageView(views.SourcePage{Source: src, Form: form, Preview: pv, PreviewError: pvErr, Log: log}), nil)
}

func (s *Server) blocklistUpdate(c echo.Context) error {
	src, err := s.sourceOf(c, c.Param("id"))
	if err != nil {
		return err
	}
	form, in, err := s.readSourceForm(c)
	var updated models.BlocklistSource
	if err == nil {
		updated, err = s.blocklists.UpdateSource(c.Request().Context(), src.ID, in)
	}
	s.audit(c, models.AuditEntry{Action: models.AuditBlocklist, Target: src.Name, Detail: "edit list " + form.Name + " " + form.URL, Result: s.auditOutcome(err)})
	var verr *services.ValidationError
	if errors.As(err, &verr) {
		form.Errors = verr.In(langOf(c))
		return s.renderSource(c, http.StatusUnprocessableEntity, src, form, nil, "")
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", tr(c, "bl.saved", "Name", updated.Name))
	return s.redirect(c, s.url("/blocklists/sources/"+strconv.FormatInt(src.ID, 10)))
}

func (s *Server) blocklistPreview(c echo.Context) error {
	src, err := s.sourceOf(c, c.Param("id"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), previewTimeout)
	defer cancel()
	pv, err := s.blocklists.Preview(ctx, src.URL)
	var pvErr string
	var de *blocklists.DownloadError
	switch {
	case errors.As(err, &de):
		pvErr = tr(c, "bl.unreadable", "Error", trErr(c, de))
	case errors.Is(err, context.DeadlineExceeded):
		pvErr = tr(c, "bl.timeout", "Seconds", int(previewTimeout/time.Second))
	case err != nil:
		return err
	}
	var pvp *models.BlocklistPreview
	if pvErr == "" {
		pvp = &pv
	}
	if wantsFragment(c.Request()) {
		return s.renderComponent(c, http.StatusOK, views.PreviewView(pvp, pvErr))
	}
	return s.renderSource(c, http.StatusOK, src, s.sourceForm(src), pvp, pvErr)
}

func (s *Server) blocklistEnabled(c echo.Context) error {
	src, err := s.sourceOf(c, c.Param("id"))
	if err != nil {
		return err
	}
	on := ticked(c.FormValue("enabled"))
	_, err = s.blocklists.SetSourceEnabled(c.Request().Context(), src.ID, on)
	detail := "disable list"
	if on {
		detail = "enable list"
	}
	s.audit(c, models.AuditEntry{Action: models.AuditBlocklist, Target: src.Name, Detail: detail, Result: s.auditOutcome(err)})
	if err != nil {
		return err
	}
	if on {
		s.flash(c, "success", tr(c, "bl.enabled_msg", "Name", src.Name))
	} else {
		s.flash(c, "success", tr(c, "bl.disabled_msg", "Name", src.Name))
	}
	back := "/blocklists"
	if c.FormValue("from") == "detail" {
		back = "/blocklists/sources/" + strconv.FormatInt(src.ID, 10)
	}
	return s.redirect(c, s.url(back))
}

func (s *Server) blocklistDelete(c echo.Context) error {
	src, err := s.sourceOf(c, c.Param("id"))
	if err != nil {
		return err
	}
	_, err = s.blocklists.DeleteSource(c.Request().Context(), src.ID)
	e := models.AuditEntry{Action: models.AuditBlocklist, Target: src.Name, Detail: "delete list", Result: s.auditOutcome(err)}
	if errors.Is(err, blocklists.ErrImportRunning) {
		e.Result = "An import is running; delete the list when it is done."
	}
	s.audit(c, e)
	switch {
	case errors.Is(err, blocklists.ErrImportRunning):
		s.flash(c, "error", tr(c, "bl.delete_running"))
	case err != nil:
		return err
	default:
		s.flash(c, "success", tr(c, "bl.deleted_msg", "Name", src.Name))
	}
	return s.redirect(c, s.url("/blocklists"))
}
