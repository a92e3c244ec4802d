package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
	"bangui/services"
	"bangui/textfmt"
	"bangui/views"
)

// banDuration reads a ban form's choice of time (views.TargetForm
// Duration and Custom): chosen is false for the jail's own ban time, d is 0
// for permanent. A custom time typed without choosing "custom" (a form
// without JavaScript) counts as chosen. bad holds the messages of a bad
// choice, by field (nil when the choice is good).
func banDuration(f views.TargetForm) (d time.Duration, chosen bool, bad *services.ValidationError) {
	choice, custom := strings.TrimSpace(f.Duration), strings.TrimSpace(f.Custom)
	if choice == "" && custom != "" {
		choice = views.BanForCustom
	}
	refuse := func(field string, msg lang.Message) (time.Duration, bool, *services.ValidationError) {
		return 0, false, services.Invalid(field, msg)
	}
	switch choice {
	case "":
		return 0, false, nil
	case views.BanForCustom:
		if custom == "" {
			return refuse("custom", lang.M("bans.enter_ban_time"))
		}
		d, err := fail2ban.ParseTimeSpec(custom)
		if err != nil {
			return refuse("custom", lang.Of(err))
		}
		if d < 0 {
			return 0, true, nil // -1, fail2ban's permanent
		}
		if d == 0 {
			return refuse("custom", lang.M("bans.ban_time_zero"))
		}
		if err := services.CheckBanDuration(d); err != nil {
			return refuse("custom", lang.Of(err))
		}
		return d, true, nil
	}
	d, ok := views.BanDurationOf(choice)
	if !ok {
		return refuse("duration", lang.M("bans.choose_ban_time"))
	}
	return d, true, nil
}

// banLength is how a chosen ban time reads in the audit log.
func banLength(d time.Duration) string {
	if d == 0 {
		return "permanently"
	}
	return "for " + textfmt.Duration(d)
}

// banWhat names a ban of a chosen time in l: "192.0.2.7 in sshd for 1 h".
func banWhat(l *lang.Lang, targets []string, jail string, d time.Duration) string {
	if d == 0 {
		return l.T("bans.what_permanent", "Targets", strings.Join(targets, ", "), "Jail", jail)
	}
	return l.T("bans.what_for", "Targets", strings.Join(targets, ", "), "Jail", jail, "Duration", l.Duration(d))
}

// refusedBans are the results of a ban of a chosen time that some
// addresses did not get; its Error is in English (the audit log).
type refusedBans []models.AddressResult

func (e refusedBans) Error() string { return e.In(lang.Get("en")) }

// In is each refused address with why, in l.
func (e refusedBans) In(l *lang.Lang) string {
	parts := make([]string, len(e))
	for i, r := range e {
		parts[i] = r.Address + ": " + r.Message.In(l)
	}
	return strings.Join(parts, "; ")
}

// banFailureText is why a ban of a chosen time failed on a host, in l.
func banFailureText(l *lang.Lang, err error) string {
	var refused refusedBans
	if errors.As(err, &refused) {
		return refused.In(l)
	}
	return lang.Of(err).In(l)
}

// banForSubmit is banSubmit for a ban of a chosen time (see
// services.TimedBans), on the page's host or on every host.
func (s *Server) banForSubmit(c echo.Context, form views.TargetForm, d time.Duration) error {
	ctx := services.WithActor(c.Request().Context(), identityOf(c.Request().Context()).Name)
	targets, err := fail2ban.NormalizeTargets(splitTargets(form.Target))
	if err == nil && len(targets) == 0 {
		err = &fail2ban.ValidationError{Field: fail2ban.FieldIP, Message: lang.M("f2b.enter_target")}
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
		var refused refusedBans
		for _, r := range res {
			if !r.OK {
				refused = append(refused, r)
			}
		}
		if len(refused) > 0 {
			return res, refused
		}
		return res, nil
	}
	l := langOf(c)
	what := banWhat(l, targets, form.Jail, d)
	if form.Where == views.WhereAll {
		res := services.EachHostWithin(ctx, s.hosts.All(), services.HostWriteDeadline, banOn)
		auditOnEveryHost(s, c, entry, res, nil)
		items := make([]string, len(res))
		for i, r := range res {
			done := l.T("bans.host_banned")
			if r.Err != nil {
				done = banFailureText(l, r.Err)
			}
			items[i] = s.hosts.Name(r.Host) + ": " + done
		}
		failed, total := failures(res)
		s.flashHosts(c, l.T("bans.ban_every_host", "What", what), items, failed, total)
		return s.redirect(c, s.hostURL(c, s.backPath(c, "/jails")))
	}
	h, err := s.hosts.Get(s.hostID(c))
	if err != nil {
		return err
	}
	_, err = banOn(ctx, h)
	entry.Host, entry.Result = s.hostID(c), s.auditOutcome(err)
	s.audit(c, entry)
	msg, kind := l.T("bans.banned_for", "What", what), "success"
	if err != nil {
		msg, kind = l.T("bans.not_every_ban", "Reason", banFailureText(l, err)), "error"
	}
	if s.manyHosts() {
		msg = s.hosts.Name(s.hostID(c)) + ": " + msg
	}
	s.flash(c, kind, msg)
	return s.redirect(c, s.hostURL(c, s.backPath(c, "/jails")))
}

// renderBanFormError shows a ban form again with its messages: on the
// jail's page when it came from there, else on the jails page.
func (s *Server) renderBanFormError(c echo.Context, form views.TargetForm) error {
	if form.Jail != "" && s.backPath(c, "") == "/jails/"+form.Jail {
		return s.renderJailPage(c, http.StatusUnprocessableEntity, form.Jail, form)
	}
	return s.renderJails(c, http.StatusUnprocessableEntity, form, views.TargetForm{})
}
