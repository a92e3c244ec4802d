package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
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
		view = probeView(fail2ban.Probe(c.Request().Context(), path), path)
	} else {
		status = http.StatusForbidden
		view = &views.ProbeView{Title: "Enter the setup code first: the test needs it, like the setup itself.",
			Fix: []string{"BanGUI printed the code in its log when it started, and keeps it in the file " + setup.CodeFile + " in its data directory."}}
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

// probeView turns a probe result into a message and the steps that fix it.
func probeView(r fail2ban.ProbeResult, path string) *views.ProbeView {
	v := &views.ProbeView{Detail: r.Detail}
	switch r.Status {
	case fail2ban.ProbeOK:
		v.OK = true
		v.Title = "Connected: fail2ban " + r.Version + " answers on this socket."
		v.Detail = ""
	case fail2ban.ProbeMissing:
		v.Title = "There is no socket at " + path + "."
		v.Fix = []string{
			"Check that fail2ban is running: systemctl status fail2ban.",
			"Check the socket path: it is the \"socket\" value in fail2ban.conf or fail2ban.local.",
			"In a container, mount the directory /var/run/fail2ban, not the socket file: fail2ban recreates the file on every restart.",
		}
	case fail2ban.ProbePermission:
		v.Title = "Permission denied: BanGUI may not use this socket."
		v.Fix = []string{
			"Run BanGUI as root, like fail2ban-client, or",
			"give BanGUI's user access through a group: an ACL on the socket directory (setfacl -m g:bangui:rx /var/run/fail2ban) and on the socket (setfacl -m g:bangui:rw /var/run/fail2ban/fail2ban.sock), reapplied after each fail2ban restart (for example with ExecStartPost in a systemd drop-in).",
		}
	case fail2ban.ProbeNotSocket:
		v.Title = "This path exists but is not a socket."
		v.Fix = []string{"Enter the path of fail2ban's control socket, usually /var/run/fail2ban/fail2ban.sock."}
	case fail2ban.ProbeRefused:
		v.Title = "The socket exists but nothing answers: fail2ban is probably stopped."
		v.Fix = []string{"Start fail2ban: systemctl start fail2ban, then test again."}
	default:
		v.Title = "Something answered on this socket, but it is not fail2ban."
		v.Fix = []string{"Check that the path belongs to fail2ban and not to another service."}
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
