package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/lang"
	"bangui/models"
	"bangui/services"
	"bangui/services/setup"
	"bangui/views"
)

func (s *Server) setupForm(c echo.Context) error {
	d := s.panelSettings()
	f := views.SetupForm{
		Socket:         d.Socket,
		ConfigDir:      d.ConfigDir,
		Timezone:       localZoneName(),
		SessionMinutes: "60",
	}
	return s.render(c, http.StatusOK, views.SetupPage(f), nil)
}

// setupInput is the setup form, as setup.Input; the names are the
// models.SetupField* constants.
type setupInput struct {
	Username       string `form:"username"`
	Password       string `form:"password"`
	Confirm        string `form:"password_confirm"`
	Socket         string `form:"socket"`
	ConfigDir      string `form:"config_dir"`
	Timezone       string `form:"timezone"`
	SessionMinutes string `form:"session_minutes"`
	Code           string `form:"setup_code"`
}

func (s *Server) setupSubmit(c echo.Context) error {
	var form setupInput
	if err := bindForm(c, &form); err != nil {
		return err
	}
	in := setup.Input(form)
	ps, err := s.setup.Complete(c.Request().Context(), in)
	var verr *services.ValidationError
	switch {
	case errors.As(err, &verr):
		f := views.SetupForm{Username: in.Username, Socket: in.Socket, ConfigDir: in.ConfigDir, Timezone: in.Timezone,
			SessionMinutes: in.SessionMinutes, Errors: verr.In(langOf(c))}
		return s.render(c, http.StatusUnprocessableEntity, views.SetupPage(f), nil)
	case errors.Is(err, setup.ErrDone):
		s.setupDone.Store(true)
		return echo.NewHTTPError(http.StatusConflict, tr(c, "setup.done_already"))
	case err != nil:
		return err
	}
	// Only the setup that took effect is recorded: refused forms change
	// nothing, and anyone may send them.
	s.panel.Store(&ps)
	s.hosts.ConnectLocal(ps.Socket, ps.ConfigDir)
	s.setupDone.Store(true)
	s.audit(c, models.AuditEntry{Action: models.AuditSetup, Actor: strings.TrimSpace(in.Username),
		Detail: "first admin " + strings.TrimSpace(in.Username) + ", socket " + ps.Socket + ", configuration " + ps.ConfigDir})
	s.flash(c, "success", tr(c, "setup.complete", "User", strings.TrimSpace(in.Username)))
	return s.redirect(c, s.url("/login"))
}

// setupProbe checks the socket path from the form and explains what it
// found. Like setup itself it needs the setup code: without it, anyone who
// reaches an unconfigured panel could make it connect to any Unix socket.
func (s *Server) setupProbe(c echo.Context) error {
	var in setupInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	path := in.Socket
	status, view := http.StatusOK, (*views.ProbeView)(nil)
	if s.setup.CodeMatches(in.Code) {
		view = probeView(langOf(c), fail2ban.Probe(c.Request().Context(), path), path)
	} else {
		status = http.StatusForbidden
		view = &views.ProbeView{Title: tr(c, "acct.probe_code_first"),
			Fix: []string{tr(c, "acct.probe_code_where", "File", setup.CodeFile)}}
	}
	if wantsFragment(c.Request()) {
		return s.renderComponent(c, status, views.ProbeResult(view))
	}
	// Without JavaScript the Test button posts the whole form: show it again
	// with the result and the values typed so far (but never the passwords
	// or the code).
	f := views.SetupForm{Username: in.Username, Socket: path, ConfigDir: in.ConfigDir, Timezone: in.Timezone, SessionMinutes: in.SessionMinutes, Probe: view}
	return s.render(c, status, views.SetupPage(f), nil)
}

// probeView turns a probe result into a message and the steps that fix it,
// in language l. The probe's technical detail (an operating system's
// error) stays as it is.
func probeView(l *lang.Lang, r fail2ban.ProbeResult, path string) *views.ProbeView {
	v := &views.ProbeView{Detail: r.Detail}
	switch r.Status {
	case fail2ban.ProbeOK:
		v.OK = true
		v.Title = l.T("acct.probe_ok", "Version", r.Version)
		v.Detail = ""
	case fail2ban.ProbeMissing:
		v.Title = l.T("acct.probe_missing", "Path", path)
		v.Fix = []string{l.T("acct.probe_missing_running"), l.T("acct.probe_missing_path"), l.T("acct.probe_missing_container")}
	case fail2ban.ProbePermission:
		v.Title = l.T("acct.probe_permission")
		v.Fix = []string{l.T("acct.probe_permission_root"), l.T("acct.probe_permission_group")}
	case fail2ban.ProbeNotSocket:
		v.Title = l.T("acct.probe_not_socket")
		v.Fix = []string{l.T("acct.probe_not_socket_fix")}
	case fail2ban.ProbeRefused:
		v.Title = l.T("acct.probe_refused")
		v.Fix = []string{l.T("acct.probe_refused_fix")}
	default:
		v.Title = l.T("acct.probe_other")
		v.Fix = []string{l.T("acct.probe_other_fix")}
	}
	return v
}

// localZoneName is the server's own IANA zone when it has one, else UTC.
func localZoneName() string {
	if name := time.Local.String(); name != "Local" && name != "" {
		return name
	}
	return "UTC"
}
