package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/repo"
	"bangui/services"
	"bangui/services/fleet"
	"bangui/views"
)

// hostRoutes registers /hosts: the list, the two steps of adding a host
// and each host's actions.
func (s *Server) hostRoutes(t routeTable) {
	t.GET("/hosts", models.RoleAdmin, s.hostsPage)
	t.GET("/hosts/probe", models.RoleAdmin, s.hostsBack)
	t.POST("/hosts/probe", models.RoleAdmin, s.hostProbe)
	t.POST("/hosts", models.RoleAdmin, s.hostEnroll)
	t.POST("/hosts/:id/name", models.RoleAdmin, s.hostRename)
	t.POST("/hosts/:id/enabled", models.RoleAdmin, s.hostEnabled)
	t.POST("/hosts/:id/delete", models.RoleAdmin, s.hostRemove)
	t.POST("/hosts/:id/fingerprint", models.RoleAdmin, s.hostAcceptFingerprint)
}

func (s *Server) hostsPage(c echo.Context) error {
	return s.renderHosts(c, http.StatusOK, views.HostForm{})
}

// hostsBack sends a reloaded or bookmarked step of the add form back to
// the page.
func (s *Server) hostsBack(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, s.url("/hosts"))
}

// renderHosts renders /hosts with the add form as given. It reads the
// hosts table and the status probe's cache: no host is asked.
func (s *Server) renderHosts(c echo.Context, status int, add views.HostForm) error {
	list, err := s.fleet.List(c.Request().Context())
	p := views.HostsPage{Hosts: list, Add: add}
	if err != nil {
		s.log.Error("list hosts", "err", err, "request_id", requestID(c))
		p.Error = tr(c, "hosts.unreadable")
		local := s.hosts.Local().ID()
		p.Hosts = []models.HostInfo{{ID: local, Name: s.hosts.Name(local), Local: true, Enabled: true, Status: s.status.Current(local)}}
		if status == http.StatusOK {
			status = http.StatusServiceUnavailable
		}
	}
	return s.render(c, status, views.HostsPageView(p), nil)
}

// hostInput is the add-host form; Fingerprint comes with the second step.
type hostInput struct {
	Name        string `form:"name"`
	ID          string `form:"id"`
	URL         string `form:"url"`
	Token       string `form:"token"`
	Fingerprint string `form:"fingerprint"`
}

func (in hostInput) enroll() fleet.EnrollInput {
	return fleet.EnrollInput{ID: in.ID, Name: in.Name, URL: in.URL, Token: in.Token, Fingerprint: in.Fingerprint}
}

func hostFormOf(in fleet.EnrollInput, errs map[string][]string) views.HostForm {
	return views.HostForm{Name: in.Name, ID: in.ID, URL: in.URL, Token: in.Token, Errors: errs}
}

// hostProbe is the first step of adding a host: check the form, reach the
// agent and show its certificate's fingerprint to compare.
func (s *Server) hostProbe(c echo.Context) error {
	var in hostInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	in.Fingerprint = ""
	got, err := s.fleet.Probe(c.Request().Context(), in.enroll())
	var verr *services.ValidationError
	if errors.As(err, &verr) {
		return s.renderHosts(c, http.StatusUnprocessableEntity, hostFormOf(got, verr.In(langOf(c))))
	}
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.HostConfirmView(views.HostConfirmPage{Form: hostFormOf(got, nil), Fingerprint: got.Fingerprint}), nil)
}

// hostEnroll is the second step: enrol the agent whose fingerprint the
// admin compared.
func (s *Server) hostEnroll(c echo.Context) error {
	var in hostInput
	if err := bindForm(c, &in); err != nil {
		return err
	}
	h, err := s.fleet.Enroll(c.Request().Context(), in.enroll())
	s.audit(c, models.AuditEntry{Action: models.AuditHostChange, Host: strings.TrimSpace(in.ID), Target: in.Name,
		Detail: "enrol " + in.URL + " (certificate " + in.Fingerprint + ")", Result: s.auditOutcome(hostNotFound(c, err))})
	var verr *services.ValidationError
	if errors.As(err, &verr) {
		// The form shows the token again (it was refused, or not sent):
		// the credential is never in a page. The form has no fingerprint
		// field: its message goes with the address it belongs to.
		if fp := verr.Fields["fingerprint"]; len(fp) > 0 {
			verr.Fields["url"] = append(verr.Fields["url"], fp...)
		}
		return s.renderHosts(c, http.StatusUnprocessableEntity, hostFormOf(in.enroll(), verr.In(langOf(c))))
	}
	if err != nil {
		return err
	}
	msg := tr(c, "hosts.enrolled", "Name", h.Name, "URL", h.URL)
	if st := s.status.Current(h.ID); !st.Online {
		msg += " " + tr(c, "hosts.no_answer_yet", "Error", st.Error.In(langOf(c)))
	}
	s.flash(c, "success", msg)
	return s.redirect(c, s.url("/hosts"))
}

// hostNotFound turns the store's not found into a 404 that says so.
func hostNotFound(c echo.Context, err error) error {
	if errors.Is(err, repo.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "hosts.no_such"))
	}
	return err
}

// flashValidation flashes the first message of a validation error and
// returns nil, or returns any other error.
func (s *Server) flashValidation(c echo.Context, err error) error {
	var verr *services.ValidationError
	if !errors.As(err, &verr) {
		return hostNotFound(c, err)
	}
	s.flash(c, "error", firstMessage(langOf(c), verr.In(langOf(c))))
	return nil
}

func (s *Server) hostRename(c echo.Context) error {
	var in struct {
		Name string `form:"name"`
	}
	if err := bindForm(c, &in); err != nil {
		return err
	}
	h, err := s.fleet.Rename(c.Request().Context(), c.Param("id"), in.Name)
	s.audit(c, models.AuditEntry{Action: models.AuditHostChange, Host: c.Param("id"), Target: in.Name, Detail: "rename",
		Result: s.auditOutcome(hostNotFound(c, err))})
	if err != nil {
		if err := s.flashValidation(c, err); err != nil {
			return err
		}
	} else {
		s.flash(c, "success", tr(c, "hosts.renamed", "ID", h.ID, "Name", h.Name))
	}
	return s.redirect(c, s.url("/hosts"))
}

func (s *Server) hostEnabled(c echo.Context) error {
	var in struct {
		Enabled checkbox `form:"enabled"`
	}
	if err := bindForm(c, &in); err != nil {
		return err
	}
	ctx, id := c.Request().Context(), c.Param("id")
	if in.Enabled {
		h, err := s.fleet.Enable(ctx, id)
		s.audit(c, models.AuditEntry{Action: models.AuditHostChange, Host: id, Detail: "enable", Result: s.auditOutcome(hostNotFound(c, err))})
		if err != nil {
			return hostNotFound(c, err)
		}
		msg := tr(c, "users.enabled_msg", "Name", h.Name)
		if st := s.status.Current(id); st.Online {
			msg += " " + tr(c, "hosts.answers")
		} else if !st.Error.IsZero() {
			msg += " " + tr(c, "hosts.does_not_answer_yet", "Error", st.Error.In(langOf(c)))
		}
		s.flash(c, "success", msg)
	} else {
		h, err := s.fleet.Disable(ctx, id)
		s.audit(c, models.AuditEntry{Action: models.AuditHostChange, Host: id, Detail: "disable", Result: s.auditOutcome(hostNotFound(c, err))})
		if err != nil {
			return hostNotFound(c, err)
		}
		s.flash(c, "success", tr(c, "hosts.disabled_msg", "Name", h.Name))
	}
	return s.redirect(c, s.url("/hosts"))
}

func (s *Server) hostRemove(c echo.Context) error {
	r, err := s.fleet.Remove(c.Request().Context(), c.Param("id"))
	e := models.AuditEntry{Action: models.AuditHostChange, Host: c.Param("id"), Detail: "remove", Result: s.auditOutcome(hostNotFound(c, err))}
	if err == nil && !r.RevokeError.IsZero() {
		e.Detail += "; the agent could not be told to forget the credential: " + r.RevokeError.Error()
	}
	s.audit(c, e)
	if err != nil {
		return hostNotFound(c, err)
	}
	msg := tr(c, "hosts.removed", "Name", r.Host.Name)
	kind := "success"
	if !r.RevokeError.IsZero() {
		kind = "warning"
		msg = tr(c, "hosts.removed_unrevoked", "Name", r.Host.Name, "Error", r.RevokeError.In(langOf(c)))
	}
	s.flash(c, kind, msg+" "+tr(c, "hosts.archive_stays", "ID", r.Host.ID))
	return s.redirect(c, s.url("/hosts"))
}

func (s *Server) hostAcceptFingerprint(c echo.Context) error {
	var in struct {
		Fingerprint string `form:"fingerprint"`
	}
	if err := bindForm(c, &in); err != nil {
		return err
	}
	h, err := s.fleet.AcceptFingerprint(c.Request().Context(), c.Param("id"), in.Fingerprint)
	s.audit(c, models.AuditEntry{Action: models.AuditHostChange, Host: c.Param("id"), Detail: "accept certificate " + in.Fingerprint,
		Result: s.auditOutcome(hostNotFound(c, err))})
	if err != nil {
		if err := s.flashValidation(c, err); err != nil {
			return err
		}
	} else {
		s.flash(c, "success", tr(c, "hosts.cert_accepted", "Name", h.Name))
	}
	return s.redirect(c, s.url("/hosts"))
}
