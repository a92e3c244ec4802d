package handlers

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/lang"
	"bangui/models"
	"bangui/textfmt"
	"bangui/views"
)

// Page sizes offered for ban tables; the first is the default.
var banPageSizes = []int{25, 50, 100}

// parsePage reads page and size from the query. Bad or missing values fall
// back to page 1 and the default size; sizes are limited to the offered ones.
func parsePage(c echo.Context, sizes []int) models.Page {
	p := models.Page{Number: 1, Size: sizes[0]}
	if n, err := strconv.Atoi(c.QueryParam("page")); err == nil && n >= 1 && n <= 1_000_000 {
		p.Number = n
	}
	if s, err := strconv.Atoi(c.QueryParam("size")); err == nil {
		for _, allowed := range sizes {
			if s == allowed {
				p.Size = s
			}
		}
	}
	return p
}

// maxSearchLen bounds the search boxes' text: longer input cannot match an
// address (at most 49 characters with a prefix length) or a file name, and
// would only be echoed back into every pager link.
const maxSearchLen = 100

// queryText is a query parameter without surrounding space, cut to at most
// max bytes on a character boundary and with invalid UTF-8 replaced.
func queryText(c echo.Context, name string, max int) string {
	return clipText(strings.TrimSpace(c.QueryParam(name)), max)
}

// clipText cuts v to at most max bytes without splitting a character and
// replaces bytes that are not UTF-8.
func clipText(v string, max int) string {
	return textfmt.ClipUTF8(strings.ToValidUTF8(v, "\uFFFD"), max)
}

// splitTargets splits a form value of addresses on commas and white space.
func splitTargets(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\t' || r == '\r' })
}

func (s *Server) jailsPage(c echo.Context) error {
	return s.renderJails(c, http.StatusOK, views.TargetForm{}, views.TargetForm{})
}

// renderJails renders /jails with the given form states: one host's page,
// or every host's jails grouped by host when the panel has several and
// none is selected.
func (s *Server) renderJails(c echo.Context, status int, ban, unban views.TargetForm) error {
	if s.everyHost(c) {
		return s.renderJailsOfEveryHost(c, status, ban, unban)
	}
	ctx := c.Request().Context()
	host := s.hostID(c)
	page := parsePage(c, banPageSizes)
	search := queryText(c, "q", maxSearchLen)
	bans, total, err := s.jails.ActiveBans(ctx, host, search, page)
	table := views.ActiveBansTable{
		ID: "active-bans", Bans: bans, Search: search,
		Pager: views.Pager{Page: page.Number, Size: page.Size, Total: total, Sizes: banPageSizes,
			Path: "/jails", Query: url.Values{"q": {search}}, Target: "#active-bans"},
	}
	if err != nil {
		if fail2ban.IsUnreachable(err) {
			return s.render(c, http.StatusOK, views.JailsPageView(views.JailsPage{Offline: tr(c, "bans.jails_offline")}), nil)
		}
		return err
	}
	table.Geo = s.geo.Lookup(ctx, activeBanIPs(bans))
	table.Bulk = s.bulkSelect(c, bulkScopeActive, table.ID, table.Pager, table.Pager.Query, activeRows(host, bans))
	if wantsFragment(c.Request()) {
		return s.renderComponent(c, http.StatusOK, views.ActiveBans(table))
	}
	jails, err := s.jails.List(ctx, host)
	if err != nil {
		return err
	}
	if search != "" {
		_, table.Total, _ = s.jails.ActiveBans(ctx, host, "", models.Page{Number: 1, Size: 1})
	} else {
		table.Total = total
	}
	p := s.jailsPageBase(c, ban, unban)
	p.Jails, p.Active = jails, table
	for _, j := range jails {
		p.JailNames = append(p.JailNames, j.Name)
	}
	if q := queryText(c, "lookup", maxSearchLen); q != "" {
		p.Lookup.Query = q
		res, err := s.jails.Lookup(ctx, host, q)
		var verr *fail2ban.ValidationError
		switch {
		case errors.As(err, &verr):
			p.Lookup.Error = verr.Message.In(langOf(c))
		case err != nil:
			return err
		default:
			p.Lookup.Result = &res
		}
	}
	return s.render(c, status, views.JailsPageView(p), nil)
}

// renderJailsOfEveryHost renders /jails of every host: each host's jails in
// its own group, asked at once; a host that did not answer is named in its
// group and the others render.
func (s *Server) renderJailsOfEveryHost(c echo.Context, status int, ban, unban views.TargetForm) error {
	p := s.jailsPageBase(c, ban, unban)
	p.Groups = []views.JailsGroup{}
	names := map[string]bool{}
	for _, r := range s.jails.ListEveryHost(c.Request().Context()) {
		g := views.JailsGroup{Host: r.Host, Name: s.hosts.Name(r.Host), Jails: r.Value}
		if r.Err != nil {
			g.Error = hostFailure(langOf(c), r.Err)
		}
		for _, j := range r.Value {
			if !names[j.Name] {
				names[j.Name] = true
				p.JailNames = append(p.JailNames, j.Name)
			}
		}
		p.Groups = append(p.Groups, g)
	}
	slices.Sort(p.JailNames)
	return s.render(c, status, views.JailsPageView(p), nil)
}

// jailsPageBase is what every jails page shows about hosts, with the form
// states.
func (s *Server) jailsPageBase(c echo.Context, ban, unban views.TargetForm) views.JailsPage {
	p := views.JailsPage{BanForm: ban, UnbanForm: unban, Host: s.hostScope(c), HostName: s.hosts.Name(s.hostID(c))}
	if s.manyHosts() {
		p.Hosts = s.hostOptions()
	}
	return p
}

// everyHost reports whether a page shows every host: the panel has several
// and none is selected.
func (s *Server) everyHost(c echo.Context) bool {
	return s.hostScope(c) == "" && s.manyHosts()
}

func (s *Server) banSubmit(c echo.Context) error {
	var form views.TargetForm
	if err := bindForm(c, &form); err != nil {
		return err
	}
	if d, chosen, bad := banDuration(form); bad != nil {
		form.Errors = bad.In(langOf(c))
		s.audit(c, models.AuditEntry{Action: models.AuditBan, Host: s.hostID(c), Jail: form.Jail,
			Target: auditTargets(splitTargets(form.Target)), Result: firstMessage(lang.Get("en"), bad.In(lang.Get("en")))})
		return s.renderBanFormError(c, form)
	} else if chosen {
		return s.banForSubmit(c, form, d)
	}
	if form.Where == views.WhereAll {
		res, err := s.jails.BanOnEveryHost(c.Request().Context(), form.Jail, splitTargets(form.Target))
		auditOnEveryHost(s, c, models.AuditEntry{Action: models.AuditBan, Jail: form.Jail, Target: auditTargets(splitTargets(form.Target))}, res, err)
		if fe := formError(langOf(c), err); fe != nil {
			form.Errors = fe
			return s.renderJails(c, http.StatusUnprocessableEntity, form, views.TargetForm{})
		}
		if err != nil {
			return err
		}
		items := make([]string, len(res))
		for i, r := range res {
			items[i] = s.hosts.Name(r.Host) + ": " + banOutcome(langOf(c), r.Value, r.Err)
		}
		failed, total := failures(res)
		s.flashHosts(c, tr(c, "bans.ban_in_every_host", "Targets", strings.Join(splitTargets(form.Target), ", "), "Jail", form.Jail), items, failed, total)
		return s.redirect(c, s.hostURL(c, s.backPath(c, "/jails")))
	}
	res, err := s.jails.Ban(c.Request().Context(), s.hostID(c), form.Jail, splitTargets(form.Target))
	s.audit(c, models.AuditEntry{Action: models.AuditBan, Host: s.hostID(c), Jail: form.Jail,
		Target: auditTargets(splitTargets(form.Target)), Result: s.auditOutcome(err)})
	if fe := formError(langOf(c), err); fe != nil {
		form.Errors = fe
		return s.renderJails(c, http.StatusUnprocessableEntity, form, views.TargetForm{})
	}
	if err != nil {
		return err
	}
	msg := tr(c, "bans.banned", "Targets", strings.Join(res.Targets, ", "), "Jail", res.Jail, "New", res.NewBans)
	if res.NewBans == 0 {
		msg = tr(c, "bans.already_banned", "Targets", strings.Join(res.Targets, ", "), "Jail", res.Jail)
	}
	kind := "success"
	if !res.Recorded {
		kind = "warning"
		msg += " " + tr(c, "bans.ban_not_recorded")
	}
	if s.manyHosts() {
		msg = s.hosts.Name(s.hostID(c)) + ": " + msg
	}
	s.flash(c, kind, msg)
	return s.redirect(c, s.hostURL(c, s.backPath(c, "/jails")))
}

func (s *Server) unbanSubmit(c echo.Context) error {
	var form views.TargetForm
	if err := bindForm(c, &form); err != nil {
		return err
	}
	targets := splitTargets(form.Target)
	where := tr(c, "bans.every_jail")
	if form.Jail != "" {
		where = form.Jail
	}
	if form.Where == views.WhereAll {
		res, err := s.jails.UnbanOnEveryHost(c.Request().Context(), form.Jail, targets)
		auditOnEveryHost(s, c, models.AuditEntry{Action: models.AuditUnban, Jail: form.Jail, Target: auditTargets(targets)}, res, err)
		if fe := formError(langOf(c), err); fe != nil {
			form.Errors = fe
			return s.renderJails(c, http.StatusUnprocessableEntity, views.TargetForm{}, form)
		}
		if err != nil {
			return err
		}
		items := make([]string, len(res))
		for i, r := range res {
			items[i] = s.hosts.Name(r.Host) + ": " + unbanOutcome(langOf(c), r.Value, where, r.Err)
		}
		failed, total := failures(res)
		s.flashHosts(c, tr(c, "bans.unban_every_host", "Targets", strings.Join(targets, ", "), "Where", where), items, failed, total)
		return s.redirect(c, s.hostURL(c, s.backPath(c, "/jails")))
	}
	n, err := s.jails.Unban(c.Request().Context(), s.hostID(c), form.Jail, targets)
	e := models.AuditEntry{Action: models.AuditUnban, Host: s.hostID(c), Jail: form.Jail, Target: auditTargets(targets), Result: s.auditOutcome(err)}
	if err == nil && n == 0 {
		e.Detail = "was not banned; nothing changed"
	}
	s.audit(c, e)
	if fe := formError(langOf(c), err); fe != nil {
		form.Errors = fe
		return s.renderJails(c, http.StatusUnprocessableEntity, views.TargetForm{}, form)
	}
	if err != nil {
		return err
	}
	msg := tr(c, "bans.unbanned", "Targets", strings.Join(targets, ", "), "Where", where)
	if n == 0 {
		msg = tr(c, "bans.was_not_banned", "Targets", strings.Join(targets, ", "), "Where", where)
	}
	if s.manyHosts() {
		msg = s.hosts.Name(s.hostID(c)) + ": " + msg
	}
	kind := "success"
	if n == 0 {
		kind = "info"
	}
	s.flash(c, kind, msg)
	return s.redirect(c, s.hostURL(c, s.backPath(c, "/jails")))
}

func (s *Server) unbanAllSubmit(c echo.Context) error {
	n, err := s.jails.UnbanAll(c.Request().Context(), s.hostID(c))
	e := models.AuditEntry{Action: models.AuditUnbanAll, Host: s.hostID(c), Result: s.auditOutcome(err)}
	if err == nil {
		e.Detail = fmt.Sprintf("%d addresses", n)
	}
	s.audit(c, e)
	if err != nil {
		return err
	}
	s.flash(c, "success", tr(c, "bans.unbanned_all", "N", n))
	return s.redirect(c, s.hostURL(c, "/jails"))
}

func (s *Server) reloadAllSubmit(c echo.Context) error {
	_, err := s.jails.Reload(c.Request().Context(), s.hostID(c), "")
	s.audit(c, models.AuditEntry{Action: models.AuditReload, Host: s.hostID(c), Detail: "every jail", Result: s.auditOutcome(err)})
	if err != nil {
		return err
	}
	s.flash(c, "success", tr(c, "bans.reloaded_all"))
	return s.redirect(c, s.hostURL(c, "/jails"))
}

// jailAction runs a start/stop/idle/reload button of one jail.
func (s *Server) jailAction(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("name")
	var msg string
	var err error
	switch c.Param("action") {
	case "stop":
		err, msg = s.jails.Stop(ctx, s.hostID(c), name), tr(c, "bans.jail_stopped", "Name", name)
	case "start":
		_, err = s.jails.Start(ctx, s.hostID(c), name)
		msg = tr(c, "bans.jail_started", "Name", name)
	case "reload":
		_, err = s.jails.Reload(ctx, s.hostID(c), name)
		msg = tr(c, "bans.jail_reloaded", "Name", name)
	case "idle":
		on := ticked(c.FormValue("idle"))
		err = s.jails.SetIdle(ctx, s.hostID(c), name, on)
		msg = tr(c, "bans.jail_resumed", "Name", name)
		if on {
			msg = tr(c, "bans.jail_idle", "Name", name)
		}
	default:
		return echo.ErrNotFound
	}
	e := models.AuditEntry{Action: models.AuditJailAction, Host: s.hostID(c), Jail: name, Detail: c.Param("action"), Result: s.auditOutcome(err)}
	if c.Param("action") == "reload" {
		e.Action, e.Detail = models.AuditReload, "jail"
	} else if c.Param("action") == "idle" && !ticked(c.FormValue("idle")) {
		e.Detail = "idle off"
	}
	s.audit(c, e)
	if fe := formError(langOf(c), err); fe != nil {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, firstMessage(langOf(c), fe))
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", msg)
	back := "/jails"
	if c.FormValue("from") == "detail" && c.Param("action") != "stop" {
		back = "/jails/" + name
	}
	return s.redirect(c, s.hostURL(c, back))
}

func (s *Server) jailPage(c echo.Context) error {
	return s.renderJailPage(c, http.StatusOK, c.Param("name"), views.TargetForm{})
}

// renderJailPage renders the page of the jail name with its ban form.
func (s *Server) renderJailPage(c echo.Context, status int, name string, ban views.TargetForm) error {
	ctx := c.Request().Context()
	if err := fail2ban.ValidJailName(name); err != nil {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "bans.no_such_jail"))
	}
	page := parsePage(c, banPageSizes)
	search := queryText(c, "q", maxSearchLen)
	bans, total, err := s.jails.Banned(ctx, s.hostID(c), name, search, page)
	if err != nil {
		return err
	}
	path := "/jails/" + name
	table := views.ActiveBansTable{
		ID: "jail-bans", Bans: bans, Search: search, Jail: name, Total: total,
		Pager: views.Pager{Page: page.Number, Size: page.Size, Total: total, Sizes: banPageSizes,
			Path: path, Query: url.Values{"q": {search}}, Target: "#jail-bans"},
	}
	table.Geo = s.geo.Lookup(ctx, activeBanIPs(bans))
	table.Bulk = s.bulkSelect(c, bulkScopeJail, table.ID, table.Pager, url.Values{"q": {search}, "jail": {name}}, activeRows(s.hostID(c), bans))
	if wantsFragment(c.Request()) {
		return s.renderComponent(c, http.StatusOK, views.ActiveBans(table))
	}
	detail, err := s.jails.Detail(ctx, s.hostID(c), name)
	if err != nil {
		return err
	}
	return s.render(c, status, views.JailPageView(views.JailPage{Jail: detail, Bans: table, BanForm: ban}), nil)
}

func (s *Server) ignoreAdd(c echo.Context) error {
	name := c.Param("name")
	targets := splitTargets(c.FormValue("target"))
	_, err := s.jails.AddIgnore(c.Request().Context(), s.hostID(c), name, targets)
	s.audit(c, models.AuditEntry{Action: models.AuditIgnoreAdd, Host: s.hostID(c), Jail: name, Target: auditTargets(targets), Result: s.auditOutcome(err)})
	if fe := formError(langOf(c), err); fe != nil {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, firstMessage(langOf(c), fe))
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", tr(c, "bans.ignore_added", "Name", name))
	return s.redirect(c, s.hostURL(c, "/jails/"+name))
}

func (s *Server) ignoreRemove(c echo.Context) error {
	name := c.Param("name")
	entry := c.FormValue("entry")
	_, err := s.jails.RemoveIgnore(c.Request().Context(), s.hostID(c), name, entry)
	// fail2ban refuses to remove what is not on the list.
	var ce *fail2ban.CommandError
	if errors.As(err, &ce) {
		err = echo.NewHTTPError(http.StatusUnprocessableEntity,
			lang.M("bans.ignore_not_removed", "Entry", clipText(entry, 80), "Name", name, "Reason", clipText(ce.Message, 200)))
	}
	s.audit(c, models.AuditEntry{Action: models.AuditIgnoreRemove, Host: s.hostID(c), Jail: name, Target: clipText(entry, 200), Result: s.auditOutcome(err)})
	if fe := formError(langOf(c), err); fe != nil {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, firstMessage(langOf(c), fe))
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", tr(c, "bans.ignore_removed", "Entry", entry, "Name", name))
	return s.redirect(c, s.hostURL(c, "/jails/"+name))
}

func (s *Server) ignoreSelfSubmit(c echo.Context) error {
	name := c.Param("name")
	on := ticked(c.FormValue("ignoreself"))
	err := s.jails.SetIgnoreSelf(c.Request().Context(), s.hostID(c), name, on)
	detail := "off"
	if on {
		detail = "on"
	}
	s.audit(c, models.AuditEntry{Action: models.AuditIgnoreSelf, Host: s.hostID(c), Jail: name, Detail: detail, Result: s.auditOutcome(err)})
	if fe := formError(langOf(c), err); fe != nil {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, firstMessage(langOf(c), fe))
	}
	if err != nil {
		return err
	}
	msg := tr(c, "bans.ignoreself_off", "Name", name)
	if on {
		msg = tr(c, "bans.ignoreself_on", "Name", name)
	}
	s.flash(c, "success", msg)
	return s.redirect(c, s.hostURL(c, "/jails/"+name))
}

func (s *Server) statusBar(c echo.Context) error {
	// While offline the bar polls more often, and each poll asks fail2ban.
	return s.renderComponent(c, http.StatusOK, views.StatusBar(s.fleetStatus(c, true)))
}

// backPath returns the form's "back" field when it is an in-app path, else def.
func (s *Server) backPath(c echo.Context, def string) string {
	if back := inAppPath(c.FormValue("back")); back != "" {
		return back
	}
	return def
}

// inAppPath is p when it is a path inside the panel to go back to, or "".
func inAppPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return ""
	}
	return p
}

// formError returns field messages for input the panel refused, or nil.
func formError(l *lang.Lang, err error) map[string][]string {
	var verr *fail2ban.ValidationError
	if errors.As(err, &verr) {
		field := "target"
		if verr.Field == "jail" {
			field = "jail"
		}
		return map[string][]string{field: {verr.Message.In(l)}}
	}
	if errors.Is(err, fail2ban.ErrUnknownJail) {
		return map[string][]string{"jail": {l.T("bans.no_running_jail")}}
	}
	return nil
}

// firstMessage is the first message of the refused fields (in the order
// of their names, so that the same input always gets the same answer), or
// a general refusal in language l when none has a message.
func firstMessage(l *lang.Lang, fe map[string][]string) string {
	for _, field := range slices.Sorted(maps.Keys(fe)) {
		if msgs := fe[field]; len(msgs) > 0 {
			return msgs[0]
		}
	}
	return l.T("error.invalid.title")
}
