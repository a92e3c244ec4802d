package handlers

import (
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
	"bangui/services"
	"bangui/services/allowlist"
	"bangui/services/configuration"
	"bangui/views"
)

// allowRoutes registers the allow-list page and its changes (operators
// and up).
func (s *Server) allowRoutes(t routeTable) {
	t.GET("/allowlist", models.RoleOperator, s.allowListPage)
	t.GET("/allowlist/new", models.RoleOperator, s.allowConfirmPage)
	t.POST("/allowlist", models.RoleOperator, s.allowAdd)
	t.POST("/allowlist/:id/delete", models.RoleOperator, s.allowRemove)
}

// allowResultItems is how many per-address results a message lists.
const allowResultItems = 20

func (s *Server) allowListPage(c echo.Context) error {
	return s.renderAllowList(c, http.StatusOK, views.AllowForm{On: s.hostID(c)})
}

// renderAllowList renders /allowlist with the form as given.
func (s *Server) renderAllowList(c echo.Context, status int, form views.AllowForm) error {
	ctx := c.Request().Context()
	p := views.AllowListPage{Search: queryText(c, "q", maxSearchLen)}
	for _, id := range s.scopeHosts(c) {
		l, err := s.allowList.List(ctx, id)
		items := matchingAllowItems(l.Items, p.Search)
		h := views.AllowHostList{Host: id, Items: items[:min(len(items), views.AllowRowsShown)], Total: len(items), Offline: l.Offline.In(langOf(c)), Problem: l.Problem.In(langOf(c))}
		if err != nil {
			h.Problem = s.classify(err).Message
		}
		if id == form.On {
			form.JailSet = l.Jails
		}
		p.Hosts = append(p.Hosts, h)
	}
	p.Form = s.allowFormChoices(c, form)
	if form.JailSet == nil {
		p.Form.JailSet, _ = s.allowList.JailNames(ctx, form.On)
	}
	return s.render(c, status, views.AllowListView(p), nil)
}

// matchingAllowItems are the items whose address or note contains q,
// ignoring case (every item when q is "").
func matchingAllowItems(items []models.AllowItem, q string) []models.AllowItem {
	if q == "" {
		return items
	}
	q = strings.ToLower(q)
	var out []models.AllowItem
	for _, it := range items {
		if strings.Contains(strings.ToLower(it.Address), q) || strings.Contains(strings.ToLower(it.Note), q) {
			out = append(out, it)
		}
	}
	return out
}

// allowFormChoices fills in what the form offers: hosts and time zone.
func (s *Server) allowFormChoices(_ echo.Context, f views.AllowForm) views.AllowForm {
	if s.manyHosts() {
		for _, h := range s.hostOptions() {
			f.Hosts = append(f.Hosts, views.Option{Value: h.ID, Label: h.Name})
		}
	}
	f.Zone = s.location().String()
	return f
}

// location is the panel's time zone.
func (s *Server) location() *time.Location {
	if loc := s.panelSettings().Location; loc != nil {
		return loc
	}
	return time.UTC
}

// allowConfirmPage is "Never ban this address" from another page: the
// address, the scope (the jail it came from first), a note and an end, to
// confirm. Without an address it is the allow-list page, whose form asks
// for one.
func (s *Server) allowConfirmPage(c echo.Context) error {
	ip := queryText(c, "ip", 300)
	if ip == "" {
		return c.Redirect(http.StatusSeeOther, s.url("/allowlist"))
	}
	addr, err := fail2ban.ParseIgnoreEntry(ip)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, lang.Of(err))
	}
	f := views.AllowForm{On: s.hostID(c), Addresses: addr, Scope: "all", Confirm: true, Back: inAppPath(c.QueryParam("back"))}
	if jail := queryText(c, "jail", 100); jail != "" && fail2ban.ValidJailName(jail) == nil {
		f.Scope, f.Jails = "jails", []string{jail}
	}
	f.JailSet, _ = s.allowList.JailNames(c.Request().Context(), f.On)
	return s.render(c, http.StatusOK, views.AllowConfirmView(s.allowFormChoices(c, f)), nil)
}

// allowAdd adds the form's entries on its host.
func (s *Server) allowAdd(c echo.Context) error {
	var f views.AllowForm
	if err := bindForm(c, &f); err != nil {
		return err
	}
	f.Back = inAppPath(f.Back)
	f.Confirm = f.Back != "" && len(splitTargets(f.Addresses)) == 1
	if f.On == "" {
		f.On = s.hostID(c)
	}
	reqs, errs := s.allowRequests(c, f)
	if len(errs) > 0 {
		f.Errors = errs
		return s.rerenderAllow(c, f)
	}
	ctx := services.WithActor(c.Request().Context(), identityOf(c.Request().Context()).Name)
	results, err := s.allowList.Allow(ctx, f.On, reqs)
	entry := models.AuditEntry{Action: models.AuditAllowAdd, Host: f.On, Jail: strings.Join(reqs[0].Jails, " "), File: allowlist.File,
		Target: auditTargets(splitTargets(f.Addresses)), Detail: allowDetail(reqs[0]), Result: s.auditOutcome(err)}
	if err != nil {
		s.audit(c, entry)
		return s.allowFailed(c, f, err)
	}
	l := langOf(c)
	var ok, refused []string
	var first, firstRefused string
	for _, r := range results {
		if r.OK {
			if first == "" {
				first = r.Message.In(l)
			}
			ok = append(ok, r.Message.In(l))
		} else {
			if firstRefused == "" {
				firstRefused = r.Address + ": " + r.Message.Error()
			}
			refused = append(refused, r.Address+": "+r.Message.In(l))
		}
	}
	if len(refused) > 0 {
		entry.Result = fmt.Sprintf("%d added, %d refused: %s", len(ok), len(refused), firstRefused)
	}
	s.audit(c, entry)
	switch {
	case len(ok) == 1:
		s.flash(c, "success", first)
	case len(ok) > 1:
		s.flashItems(c, "success", tr(c, "allow.added_n", "Count", lang.Int(c.Request().Context(), len(ok))), clipItems(l, ok))
	}
	if len(refused) > 0 {
		var again []string
		for _, r := range results {
			if !r.OK {
				again = append(again, r.Address)
			}
		}
		f.Addresses = strings.Join(again, "\n")
		f.Errors = map[string][]string{views.AllowFieldAddresses: clipItems(l, refused)}
		return s.rerenderAllow(c, f)
	}
	back := f.Back
	if back == "" {
		back = "/allowlist"
	}
	return s.redirect(c, s.hostURL(c, back))
}

// allowFailed re-shows the form with why a whole batch was refused.
func (s *Server) allowFailed(c echo.Context, f views.AllowForm, err error) error {
	var ae *allowlist.ApplyError
	switch {
	case errors.Is(err, allowlist.ErrTooMany), errors.As(err, &ae), errors.Is(err, configuration.ErrOffline):
		f.Errors = map[string][]string{views.AllowFieldAddresses: {trErr(c, err)}}
		return s.rerenderAllow(c, f)
	}
	return err
}

// rerenderAllow shows the form again with its problems (422).
func (s *Server) rerenderAllow(c echo.Context, f views.AllowForm) error {
	if f.Confirm {
		f.JailSet, _ = s.allowList.JailNames(c.Request().Context(), f.On)
		return s.render(c, http.StatusUnprocessableEntity, views.AllowConfirmView(s.allowFormChoices(c, f)), nil)
	}
	return s.renderAllowList(c, http.StatusUnprocessableEntity, f)
}

// allowRequests turns the form into requests, or field problems.
func (s *Server) allowRequests(c echo.Context, f views.AllowForm) ([]models.AllowRequest, map[string][]string) {
	errs := map[string][]string{}
	if _, err := s.hosts.Get(f.On); err != nil {
		errs[views.AllowFieldAddresses] = append(errs[views.AllowFieldAddresses], tr(c, "allow.err_no_host", "Host", strconv.Quote(f.On)))
	}
	addrs := splitTargets(f.Addresses)
	switch {
	case len(addrs) == 0:
		errs[views.AllowFieldAddresses] = append(errs[views.AllowFieldAddresses], tr(c, "allow.err_empty"))
	case len(addrs) > allowlist.MaxEntries:
		errs[views.AllowFieldAddresses] = append(errs[views.AllowFieldAddresses],
			tr(c, "allow.err_too_many", "Sent", strconv.Itoa(len(addrs)), "Max", strconv.Itoa(allowlist.MaxEntries)))
	}
	var jails []string
	if f.Scope == "jails" {
		jails = f.Jails
		if len(jails) == 0 {
			errs[views.AllowFieldJails] = []string{tr(c, "allow.err_no_jail")}
		}
	}
	end, msg := s.allowEnd(c, f)
	if msg != "" {
		errs[views.AllowFieldExpiry] = []string{msg}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	reqs := make([]models.AllowRequest, len(addrs))
	for i, a := range addrs {
		reqs[i] = models.AllowRequest{Address: a, Jails: jails, Note: f.Note, Expires: end}
	}
	return reqs, nil
}

// allowEnd is the end the form chose (zero: never), or why it is refused.
func (s *Server) allowEnd(c echo.Context, f views.AllowForm) (time.Time, string) {
	now := s.now()
	switch f.Expiry {
	case "":
		return time.Time{}, ""
	case "custom":
		if strings.TrimSpace(f.Until) == "" {
			return time.Time{}, tr(c, "allow.err_no_time")
		}
		var t time.Time
		var err error
		for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
			if t, err = time.ParseInLocation(layout, strings.TrimSpace(f.Until), s.location()); err == nil {
				break
			}
		}
		if err != nil {
			return time.Time{}, tr(c, "allow.err_time_format")
		}
		if !t.After(now) {
			return time.Time{}, tr(c, "allow.err_past", "Time", t.Format("2006-01-02 15:04"))
		}
		return t, ""
	}
	for _, p := range views.AllowExpiryPresets {
		if p.Value == f.Expiry {
			d, _ := time.ParseDuration(p.Value) // the presets are durations
			return now.Add(d), ""
		}
	}
	return time.Time{}, tr(c, "allow.err_preset")
}

// allowDetail is an add's audit detail: scope, end and note.
func allowDetail(r models.AllowRequest) string {
	d := "scope " + models.AllowScope(r.Jails)
	if !r.Expires.IsZero() {
		d += "; ends " + r.Expires.UTC().Format(time.RFC3339)
	}
	if r.Note != "" {
		d += "; note: " + r.Note
	}
	return d
}

// clipItems keeps the first allowResultItems messages and says how many
// more there were.
func clipItems(l *lang.Lang, items []string) []string {
	if len(items) <= allowResultItems {
		return items
	}
	return append(items[:allowResultItems:allowResultItems], l.T("bans.and_more", "N", l.Int(int64(len(items)-allowResultItems))))
}

// allowRemove takes one entry BanGUI wrote off its host's allow-list.
func (s *Server) allowRemove(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "allow.err_no_entry"))
	}
	host := s.hostID(c)
	results, err := s.allowList.Remove(c.Request().Context(), host, []int64{id})
	entry := models.AuditEntry{Action: models.AuditAllowRemove, Host: host, File: allowlist.File, Target: "#" + strconv.FormatInt(id, 10), Result: s.auditOutcome(err)}
	if err == nil && !results[0].OK {
		err = echo.NewHTTPError(http.StatusUnprocessableEntity, lang.M("bans.allow_not_removed", "Reason", results[0].Message))
		entry.Result = results[0].Message.Error()
	}
	if err == nil {
		entry.Target = results[0].Address
	}
	s.audit(c, entry)
	if err != nil {
		var ae *allowlist.ApplyError
		if errors.As(err, &ae) || errors.Is(err, configuration.ErrOffline) {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, lang.Of(err))
		}
		return err
	}
	s.flash(c, "success", results[0].Message.In(langOf(c)))
	return s.redirect(c, s.hostURL(c, "/allowlist"))
}
