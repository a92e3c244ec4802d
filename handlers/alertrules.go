package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/services/alerts/rules"
	"bangui/views"
)

// alertRuleRoutes registers the alert rules' page and its changes (admins
// only; /alerts and its delivery log are the channels' part).
func (s *Server) alertRuleRoutes(t routeTable) {
	t.GET("/alerts/rules", models.RoleAdmin, s.alertRulesPage)
	t.POST("/alerts/rules", models.RoleAdmin, s.alertRuleSave)
	t.POST("/alerts/rules/:id/enable", models.RoleAdmin, s.alertRuleEnable)
	t.POST("/alerts/rules/:id/delete", models.RoleAdmin, s.alertRuleDelete)
}

// alertRuleKinds are the kinds the form offers, in words.
func alertRuleKinds(c echo.Context) []views.Option {
	return []views.Option{
		{Value: string(rules.KindSpike), Label: tr(c, "rules.kind.spike")},
		{Value: string(rules.KindCountry), Label: tr(c, "rules.kind.country")},
		{Value: string(rules.KindWatch), Label: tr(c, "rules.kind.watch")},
		{Value: string(rules.KindDown), Label: tr(c, "rules.kind.down")},
		{Value: string(rules.KindImport), Label: tr(c, "rules.kind.import")},
		{Value: string(rules.KindConfig), Label: tr(c, "rules.kind.config")},
		{Value: string(rules.KindDigest), Label: tr(c, "rules.kind.digest")},
	}
}

func (s *Server) alertRulesPage(c echo.Context) error {
	form := views.AlertRuleForm{Kind: string(rules.KindSpike), Per: "jail", Wait: "60", Enabled: true, Every: "daily", At: "08:00"}
	if v := c.QueryParam("edit"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, tr(c, "rules.edit_nan"))
		}
		r, err := s.alertRules.Get(c.Request().Context(), id)
		if err != nil {
			return err
		}
		form = formOfRule(r)
	}
	return s.renderAlertRules(c, http.StatusOK, form, alertRuleDone(c, c.QueryParam("done")))
}

// alertRuleDone says what the change a page follows did, by its ?done=.
func alertRuleDone(c echo.Context, done string) string {
	switch done {
	case "add":
		return tr(c, "rules.done.add")
	case "edit":
		return tr(c, "rules.done.edit")
	case "on":
		return tr(c, "rules.done.on")
	case "off":
		return tr(c, "rules.done.off")
	case "delete":
		return tr(c, "rules.done.delete")
	}
	return ""
}

func (s *Server) renderAlertRules(c echo.Context, status int, form views.AlertRuleForm, flash string) error {
	list, err := s.alertRules.List(c.Request().Context())
	if err != nil {
		return err
	}
	chs, err := s.alerts.Store().Channels(c.Request().Context())
	if err != nil {
		return err
	}
	p := views.AlertRulesPage{Form: form, Kinds: alertRuleKinds(c), Flash: flash}
	names := map[int64]string{}
	for _, ch := range chs {
		names[ch.ID] = ch.Name
		p.Channels = append(p.Channels, views.Option{Value: strconv.FormatInt(ch.ID, 10), Label: ch.Name + " (" + ch.Kind + ")"})
	}
	for _, r := range list {
		p.Rules = append(p.Rules, views.AlertRuleRow{ID: r.ID, Name: r.Name, Kind: string(r.Kind), Summary: ruleSummary(r).In(langOf(c)),
			Channels: channelNames(c, r.Channels, names), Wait: lang.Duration(c.Request().Context(), r.Wait), Enabled: r.Enabled})
	}
	return s.render(c, status, views.AlertRulesView(p), nil)
}

// alertRuleForm is the form as bound (checkboxes read as ticked or not).
type alertRuleForm struct {
	views.AlertRuleForm
	Zero    checkbox `form:"zero"`
	Enabled checkbox `form:"enabled"`
}

// alertRuleSave adds a rule (id 0) or changes one.
func (s *Server) alertRuleSave(c echo.Context) error {
	var in alertRuleForm
	if err := bindForm(c, &in); err != nil {
		return err
	}
	form := in.AlertRuleForm
	form.Zero, form.Enabled = bool(in.Zero), bool(in.Enabled)
	r, err := ruleOfForm(form)
	if err == nil {
		r.ID, err = s.alertRules.Save(c.Request().Context(), r)
	}
	if v, ok := rules.IsValidation(err); ok {
		form.Error = v.Msg.In(langOf(c))
		return s.renderAlertRules(c, http.StatusUnprocessableEntity, form, "")
	}
	if errors.Is(err, repo.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "rules.no_such"))
	}
	what := "add"
	if form.ID != 0 {
		what = "edit"
	}
	entry := models.AuditEntry{Action: models.AuditAlertRuleChange, Target: r.Name, Detail: what + ": " + ruleSummary(r).Error(), Result: "ok"}
	if err != nil {
		entry.Result = s.classify(err).Message
		s.audit(c, entry)
		return err
	}
	entry.Target += " (#" + strconv.FormatInt(r.ID, 10) + ")"
	s.audit(c, entry)
	return c.Redirect(http.StatusSeeOther, s.url("/alerts/rules?done="+what))
}

// alertRuleChange runs change on the rule of the path's id and audits it.
func (s *Server) alertRuleChange(c echo.Context, what string, change func(id int64) error) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, tr(c, "rules.nan"))
	}
	r, err := s.alertRules.Get(c.Request().Context(), id)
	if errors.Is(err, repo.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "rules.no_such"))
	}
	if err != nil {
		return err
	}
	entry := models.AuditEntry{Action: models.AuditAlertRuleChange, Target: fmt.Sprintf("%s (#%d)", r.Name, id), Detail: what, Result: "ok"}
	if err := change(id); err != nil {
		entry.Result = s.classify(err).Message
		s.audit(c, entry)
		return err
	}
	s.audit(c, entry)
	return c.Redirect(http.StatusSeeOther, s.url("/alerts/rules?done="+what))
}

func (s *Server) alertRuleEnable(c echo.Context) error {
	on := ticked(c.FormValue("enabled"))
	what := "off"
	if on {
		what = "on"
	}
	return s.alertRuleChange(c, what, func(id int64) error { return s.alertRules.SetEnabled(c.Request().Context(), id, on) })
}

func (s *Server) alertRuleDelete(c echo.Context) error {
	return s.alertRuleChange(c, "delete", func(id int64) error { return s.alertRules.Delete(c.Request().Context(), id) })
}

// ruleOfForm reads the form's numbers and lists; the rule's own checks
// come after (rules.Rule.Validate).
func ruleOfForm(f views.AlertRuleForm) (rules.Rule, error) {
	r := rules.Rule{ID: f.ID, Name: strings.TrimSpace(f.Name), Kind: rules.Kind(f.Kind), Enabled: f.Enabled}
	p := &r.Params
	num := func(v string, nan lang.Message) (int64, error) {
		v = strings.TrimSpace(v)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, &rules.ValidationError{Msg: nan}
		}
		return n, nil
	}
	var err error
	var wait, weekday int64
	for _, x := range []struct {
		v   string
		nan lang.Message
		dst *int64
	}{{f.Bans, lang.M("alerts.rule.bans_nan"), &p.Bans}, {f.Minutes, lang.M("alerts.rule.minutes_nan"), &p.Minutes},
		{f.Days, lang.M("alerts.rule.days_nan"), &p.Days}, {f.Wait, lang.M("alerts.rule.wait_nan"), &wait},
		{f.Weekday, lang.M("alerts.rule.weekday_nan"), &weekday}} {
		if *x.dst, err = num(x.v, x.nan); err != nil {
			return r, err
		}
	}
	if wait > int64(rules.MaxWait/time.Second) {
		return r, rules.WaitRefused()
	}
	r.Wait, p.Weekday = time.Duration(wait)*time.Second, int(weekday)
	if r.Kind == rules.KindSpike {
		p.Per = f.Per
	}
	if r.Kind == rules.KindWatch {
		for _, a := range strings.FieldsFunc(f.Addresses, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' }) {
			p.Addresses = append(p.Addresses, a)
		}
	}
	if r.Kind == rules.KindDigest {
		p.Every, p.At = f.Every, f.At
	}
	p.Host, p.Zero = strings.TrimSpace(f.Host), f.Zero
	for _, v := range strings.FieldsFunc(strings.Join(f.Channels, ","), func(r rune) bool { return r == ',' || r == ' ' }) {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return r, &rules.ValidationError{Msg: lang.M("alerts.rule.channel_nan", "Value", v)}
		}
		r.Channels = append(r.Channels, id)
	}
	return r, nil
}

// formOfRule is a stored rule in the edit form.
func formOfRule(r rules.Rule) views.AlertRuleForm {
	p := r.Params
	itoa := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	return views.AlertRuleForm{ID: r.ID, Name: r.Name, Kind: string(r.Kind), Bans: itoa(p.Bans), Minutes: itoa(p.Minutes), Per: p.Per,
		Days: itoa(p.Days), Addresses: strings.Join(p.Addresses, "\n"), Host: p.Host, Zero: p.Zero, Every: p.Every, At: p.At,
		Weekday: strconv.Itoa(p.Weekday), Channels: idTexts(r.Channels), Wait: strconv.FormatInt(int64(r.Wait/time.Second), 10), Enabled: r.Enabled}
}

// ruleSummary says what a rule watches for.
func ruleSummary(r rules.Rule) lang.Message {
	p := r.Params
	switch r.Kind {
	case rules.KindSpike:
		switch p.Per {
		case "jail":
			return lang.M("alerts.rule.sum_spike_jail", "Bans", p.Bans, "Minutes", p.Minutes)
		case "host":
			return lang.M("alerts.rule.sum_spike_host", "Bans", p.Bans, "Minutes", p.Minutes)
		}
		return lang.M("alerts.rule.sum_spike_all", "Bans", p.Bans, "Minutes", p.Minutes)
	case rules.KindCountry:
		return lang.M("alerts.rule.sum_country", "Days", p.Days)
	case rules.KindWatch:
		return lang.M("alerts.rule.sum_watch", "Addresses", strings.Join(p.Addresses, ", "))
	case rules.KindDown:
		if p.Host != "" {
			return lang.M("alerts.rule.sum_down_host", "Host", p.Host)
		}
		return lang.M("alerts.rule.sum_down")
	case rules.KindImport:
		if p.Zero {
			return lang.M("alerts.rule.sum_import_zero")
		}
		return lang.M("alerts.rule.sum_import")
	case rules.KindConfig:
		return lang.M("alerts.rule.sum_config")
	case rules.KindDigest:
		if p.Every == "weekly" {
			return lang.M("alerts.rule.sum_digest_weekly", "At", p.At)
		}
		return lang.M("alerts.rule.sum_digest_daily", "At", p.At)
	}
	return lang.M("alerts.rule.sum_other", "Kind", string(r.Kind))
}

// idTexts are ids as form values.
func idTexts(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatInt(id, 10)
	}
	return out
}

// channelNames are a rule's channels by name ("#id (deleted)" for one
// that is gone), or "none", in the request's language.
func channelNames(c echo.Context, ids []int64, names map[int64]string) string {
	if len(ids) == 0 {
		return tr(c, "alerts.rule.no_channel")
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = names[id]
		if out[i] == "" {
			out[i] = tr(c, "alerts.rule.channel_gone", "ID", id)
		}
	}
	return strings.Join(out, ", ")
}
