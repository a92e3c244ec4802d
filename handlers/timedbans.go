package handlers

import (
	"bangui/lang"
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/models"
	"bangui/services"
	"bangui/textfmt"
	"bangui/views"
)

// banDuration reads a ban form's choice of time (views.TargetForm
// Duration and Custom): chosen is false for the jail's own ban time, d is 0
// for permanent. A custom time typed without choosing "custom" (a form
// without JavaScript) counts as chosen. errs holds the messages of a bad
// choice, by field.
func banDuration(f views.TargetForm) (d time.Duration, chosen bool, errs map[string][]string) {
	choice, custom := strings.TrimSpace(f.Duration), strings.TrimSpace(f.Custom)
	if choice == "" && custom != "" {
		choice = views.BanForCustom
	}
	bad := func(field, msg string) (time.Duration, bool, map[string][]string) {
		return 0, false, map[string][]string{field: {msg}}
	}
	switch choice {
	case "":
		return 0, false, nil
	case views.BanForCustom:
		if custom == "" {
			return bad("custom", "Enter a ban time, such as 90m, 12h or 2d.")
		}
		d, err := fail2ban.ParseTimeSpec(custom)
		if err != nil {
			return bad("custom", err.Error())
		}
		if d < 0 {
			return 0, true, nil // -1, fail2ban's permanent
		}
		if d == 0 {
			return bad("custom", "A ban time of 0 bans nothing; choose permanent or a time such as 1h.")
		}
		if err := services.CheckBanDuration(d); err != nil {
			return bad("custom", err.Error())
		}
		return d, true, nil
	}
	d, ok := views.BanDurationOf(choice)
	if !ok {
		return bad("duration", "Choose a ban time from the list.")
	}
	return d, true, nil
}

// banLength is how a chosen ban time reads in messages and the audit log.
func banLength(d time.Duration) string {
	if d == 0 {
		return "permanently"
	}
	return "for " + textfmt.Duration(d)
}

// banForSubmit is banSubmit for a ban of a chosen time (see
// services.TimedBans), on the page's host or on every host.
func (s *Server) banForSubmit(c echo.Context, form views.TargetForm, d time.Duration) error {
	ctx := services.WithActor(c.Request().Context(), identityOf(c.Request().Context()).Name)
	targets, err := fail2ban.NormalizeTargets(splitTargets(form.Target))
	if err == nil && len(targets) == 0 {
		err = &fail2ban.ValidationError{Field: fail2ban.FieldIP, Message: lang.Raw("Enter an IP address or CIDR range.")}
	}
	if err == nil {
		err = fail2ban.ValidJailName(form.Jail)
	}
	entry := models.AuditEntry{Action: models.AuditBan, Jail: form.Jail, Target: auditTargets(splitTargets(form.Target)), Detail: banLength(d)}
	if fe := formError(langOf(c), err); fe != nil {
		entry.Host, entry.Result = s.hostID(c), s.auditOutcome(err)
		s.audit(c, entry)
		form.Errors = fe
		return s.renderBanFormError(c, form)
	}
	reqs := make([]models.TimedBanRequest, len(targets))
	for i, t := range targets {
		reqs[i] = models.TimedBanRequest{Address: t, Jail: form.Jail, Duration: d}
	}
	banOn := func(ctx context.Context, h hosts.Host) ([]models.AddressResult, error) {
		res, err := s.timedBans.BanFor(ctx, h.ID(), reqs)
		if err != nil {
			return nil, err
		}
		var failed []string
		for _, r := range res {
			if !r.OK {
				failed = append(failed, r.Address+": "+r.Message)
			}
		}
		if len(failed) > 0 {
			return res, errors.New(strings.Join(failed, "; "))
		}
		return res, nil
	}
	what := strings.Join(targets, ", ") + " in " + form.Jail + " " + banLength(d)
	if form.Where == views.WhereAll {
		res := services.EachHostWithin(ctx, s.hosts.All(), services.HostWriteDeadline, banOn)
		auditOnEveryHost(s, c, entry, res, nil)
		items := make([]string, len(res))
		for i, r := range res {
			items[i] = s.hosts.Name(r.Host) + ": " + outcomeText(r.Err, "banned")
		}
		failed, total := failures(res)
		s.flashHosts(c, "Ban of "+what+" on every host:", items, failed, total)
		return s.redirect(c, s.hostURL(c, s.backPath(c, "/jails")))
	}
	h, err := s.hosts.Get(s.hostID(c))
	if err != nil {
		return err
	}
	_, err = banOn(ctx, h)
	entry.Host, entry.Result = s.hostID(c), s.auditOutcome(err)
	s.audit(c, entry)
	msg, kind := "Banned "+what+".", "success"
	if err != nil {
		msg, kind = "Not every ban was made: "+err.Error(), "error"
	}
	if s.manyHosts() {
		msg = s.hosts.Name(s.hostID(c)) + ": " + msg
	}
	s.flash(c, kind, msg)
	return s.redirect(c, s.hostURL(c, s.backPath(c, "/jails")))
}

// outcomeText is what one host did: done, or why not.
func outcomeText(err error, done string) string {
	if err != nil {
		return err.Error()
	}
	return done
}

// renderBanFormError shows a ban form again with its messages: on the
// jail's page when it came from there, else on the jails page.
func (s *Server) renderBanFormError(c echo.Context, form views.TargetForm) error {
	if form.Jail != "" && s.backPath(c, "") == "/jails/"+form.Jail {
		return s.renderJailPage(c, http.StatusUnprocessableEntity, form.Jail, form)
	}
	return s.renderJails(c, http.StatusUnprocessableEntity, form, views.TargetForm{})
}
