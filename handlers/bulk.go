package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/repo/sqlkit"
	"bangui/services/bulk"
	"bangui/textfmt"
	"bangui/views"
)

// bulkMaxRows is the most rows a form may tick by hand; more go through
// "all matching the filter", which the server resolves itself.
const bulkMaxRows = 1000

// bulkSample is how many addresses the confirmation names.
const bulkSample = 5

// bulkMaxNote bounds a bulk action's note, in bytes.
const bulkMaxNote = 500

// Bulk scopes: the tables whose filter "all matching" can resolve.
const (
	bulkScopeDashboard = "dashboard" // the dashboard's ban events
	bulkScopeHistory   = "history"   // the history's events
	bulkScopeActive    = "active"    // the jails page's current bans
	bulkScopeJail      = "jail"      // one jail's current bans (filter: jail=)
	bulkScopeMap       = "map"       // the map's table
)

func (s *Server) bulkRoutes(t routeTable) {
	t.POST("/bulk/confirm", models.RoleOperator, s.bulkConfirm)
	t.POST("/bulk/run", models.RoleOperator, s.bulkRun)
	t.POST("/bulk/export", models.RoleViewer, s.bulkExport)
	t.GET("/bulk/jobs/:id", models.RoleOperator, s.bulkJob)
	t.GET("/bulk/jobs/:id/results.csv", models.RoleOperator, s.bulkJobCSV)
}

// bulkSelect makes a table's rows selectable: its bulk form, the filter
// it shows (filter, as the table's page parsed it; never the raw query),
// the rows matching it (the pager's total) and this page's rows.
func (s *Server) bulkSelect(c echo.Context, scope, tableID string, p views.Pager, filter url.Values, rows []string) *views.BulkSelect {
	if s.bulk == nil {
		return nil
	}
	q, back := s.scopedQuery(c, filter), s.scopedQuery(c, p.Query) // back: the page as the pager links it
	if p.Page > 1 {
		back.Set("page", strconv.Itoa(p.Page))
	}
	return &views.BulkSelect{Form: "bulk-" + tableID, Scope: scope, Filter: q.Encode(), Matching: p.Total,
		Back: p.Path + "?" + back.Encode(), Host: s.hostID(c), Rows: rows,
		CanAllow: s.bulk.Supports(models.BulkAllow), CanBan: s.bulk.Supports(models.BulkBan)}
}

// scopedQuery is v without its empty values, with the request's host.
func (s *Server) scopedQuery(c echo.Context, v url.Values) url.Values {
	q := url.Values{}
	for k, vs := range v {
		if len(vs) > 0 && vs[0] != "" {
			q[k] = vs
		}
	}
	if h := s.hostScope(c); h != "" {
		q.Set(hostParam, h)
	}
	return q
}

// recordRows are the bulk rows of ban events.
func recordRows(bans []models.BanRecord) []string {
	out := make([]string, len(bans))
	for i, b := range bans {
		out[i] = views.BulkRow(b.Host, b.Jail, b.IP)
	}
	return out
}

// activeRows are the bulk rows of a host's current bans.
func activeRows(host string, bans []models.ActiveBan) []string {
	out := make([]string, len(bans))
	for i, b := range bans {
		out[i] = views.BulkRow(host, b.Jail, b.IP)
	}
	return out
}

// bulkRead reads a bulk form's selection and resolves it to its targets,
// each checked: a row that names no known host, no valid jail name or no
// address refuses the whole request, with a message that says which.
func (s *Server) bulkRead(c echo.Context) (views.BulkSelection, []bulk.Target, error) {
	form, _ := c.FormParams()
	sel := views.BulkSelection{Scope: form.Get("scope"), Filter: form.Get("filter"), Matching: form.Get("matching") == "1",
		Rows: form["row"], Back: s.backPath(c, "/")}
	if !sel.Matching && form.Get("onpage") == "1" {
		sel.Rows = append(sel.Rows, form["pagerow"]...)
	}
	if sel.Matching {
		sel.Rows = nil
		targets, err := s.bulkMatching(c, sel)
		return sel, targets, err
	}
	if len(sel.Rows) > bulkMaxRows {
		return sel, nil, echo.NewHTTPError(http.StatusUnprocessableEntity, tr(c, "bulk.err_too_many_rows", "Rows", strconv.Itoa(len(sel.Rows)), "Max", strconv.Itoa(bulkMaxRows)))
	}
	targets := make([]bulk.Target, 0, len(sel.Rows))
	var bad []string
	for _, v := range sel.Rows {
		t, why := s.bulkTarget(c, v)
		if why != "" {
			bad = append(bad, why)
			continue
		}
		targets = append(targets, t)
	}
	if len(bad) > 0 {
		return sel, nil, echo.NewHTTPError(http.StatusUnprocessableEntity, tr(c, "bulk.err_bad_rows", "Bad", strconv.Itoa(len(bad)), "First", bad[0]))
	}
	targets = bulk.Dedupe(targets, false)
	if len(targets) == 0 {
		return sel, nil, echo.NewHTTPError(http.StatusUnprocessableEntity, lang.Of(bulk.ErrEmpty))
	}
	return sel, targets, nil
}

// bulkTarget checks one row's value; why says what is wrong with it.
func (s *Server) bulkTarget(c echo.Context, v string) (bulk.Target, string) {
	host, jail, ip, ok := views.ParseBulkRow(v)
	if !ok {
		return bulk.Target{}, tr(c, "bans.bulk_not_row", "Row", strconv.Quote(textfmt.Shorten(v, 60)))
	}
	if host == "" {
		host = s.hostID(c)
	}
	if _, err := s.hosts.Get(host); err != nil {
		return bulk.Target{}, tr(c, "bans.bulk_no_host", "Host", strconv.Quote(textfmt.Shorten(host, 60)))
	}
	if fail2ban.ValidJailName(jail) != nil {
		return bulk.Target{}, tr(c, "bans.bulk_not_jail", "Jail", strconv.Quote(textfmt.Shorten(jail, 60)))
	}
	norm, err := fail2ban.NormalizeTargets([]string{ip})
	if err != nil {
		return bulk.Target{}, tr(c, "bans.bulk_not_ip", "IP", strconv.Quote(textfmt.Shorten(ip, 60)))
	}
	return bulk.Target{Host: host, Jail: jail, IP: norm[0]}, ""
}

// errBulkFull stops a resolution that passed bulk.MaxTargets.
var errBulkFull = errors.New("bulk: selection full")

// bulkMatching resolves "all rows matching the filter" on the server,
// with the very parser of the table's own page, so it selects what the
// table shows across all its pages.
func (s *Server) bulkMatching(c echo.Context, sel views.BulkSelection) ([]bulk.Target, error) {
	fc := filterContext(c, sel.Filter)
	seen := map[bulk.Target]bool{}
	var targets []bulk.Target
	add := func(b models.BanRecord) error {
		t := bulk.Target{Host: b.Host, Jail: b.Jail, IP: b.IP}
		if t.Host == "" {
			t.Host = s.hostID(fc)
		}
		if seen[t] || b.Action == repo.ActionUnban { // an unban event is no ban to act on
			return nil
		}
		if len(targets) == bulk.MaxTargets {
			return errBulkFull
		}
		seen[t] = true
		targets = append(targets, t)
		return nil
	}
	ctx := c.Request().Context()
	var err error
	switch sel.Scope {
	case bulkScopeDashboard:
		_, err = s.history.EachDashboardBan(ctx, s.dashboardQuery(fc), add)
	case bulkScopeHistory:
		q, _ := s.historyQuery(fc)
		_, err = s.history.EachHistory(ctx, q, add)
	case bulkScopeActive, bulkScopeJail:
		err = s.eachActiveBan(fc, sel.Scope == bulkScopeJail, add)
	case bulkScopeMap:
		err = s.eachMapBan(fc, add)
	default:
		return nil, echo.NewHTTPError(http.StatusUnprocessableEntity, tr(c, "bulk.err_no_matching"))
	}
	if errors.Is(err, errBulkFull) {
		return nil, echo.NewHTTPError(http.StatusUnprocessableEntity, tr(c, "bulk.err_full", "Max", strconv.Itoa(bulk.MaxTargets)))
	}
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, echo.NewHTTPError(http.StatusUnprocessableEntity, tr(c, "bulk.err_none_match"))
	}
	return targets, nil
}

// eachActiveBan calls fn for every current ban of the jails page's table,
// or of one jail's (the filter's jail=), matching its search.
func (s *Server) eachActiveBan(fc echo.Context, oneJail bool, fn func(models.BanRecord) error) error {
	ctx, host, search := fc.Request().Context(), s.hostID(fc), queryText(fc, "q", maxSearchLen)
	all := models.Page{Number: 1, Size: bulk.MaxTargets + 1}
	var bans []models.ActiveBan
	var err error
	if oneJail {
		jail := fc.QueryParam("jail")
		if fail2ban.ValidJailName(jail) != nil {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, tr(fc, "bulk.err_no_jail"))
		}
		bans, _, err = s.jails.Banned(ctx, host, jail, search, all)
	} else {
		bans, _, err = s.jails.ActiveBans(ctx, host, search, all)
	}
	for _, b := range bans {
		if err == nil {
			err = fn(models.BanRecord{Host: host, Jail: b.Jail, IP: b.IP})
		}
	}
	return err
}

// eachMapBan calls fn for every row of the map's table, page by page.
func (s *Server) eachMapBan(fc echo.Context, fn func(models.BanRecord) error) error {
	q := s.mapQuery(fc)
	q.Page = models.Page{Number: 1, Size: sqlkit.MaxPageSize}
	for ; ; q.Page.Number++ {
		bans, _, err := s.geo.MapTable(fc.Request().Context(), q)
		if err != nil {
			return err
		}
		for _, b := range bans {
			if err := fn(b); err != nil {
				return err
			}
		}
		if len(bans) < q.Page.Size {
			return nil
		}
	}
}

// filterContext is c with the query of a table's filter, for the table's
// own query parser.
func filterContext(c echo.Context, filter string) echo.Context {
	r := c.Request().Clone(c.Request().Context())
	u := *r.URL
	u.RawQuery = filter
	r.URL = &u
	return c.Echo().NewContext(r, c.Response())
}

// bulkAction reads and checks the form's action.
func (s *Server) bulkAction(c echo.Context) (models.BulkAction, error) {
	a := models.BulkAction(c.FormValue("action"))
	if s.bulk == nil || !s.bulk.Supports(a) {
		return a, echo.NewHTTPError(http.StatusUnprocessableEntity, tr(c, "bulk.err_action", "Others", s.bulkOthers(c)))
	}
	return a, nil
}

func (s *Server) bulkOthers(c echo.Context) string {
	var out string
	if s.bulk != nil && s.bulk.Supports(models.BulkAllow) {
		out += tr(c, "bulk.other_allow")
	}
	if s.bulk != nil && s.bulk.Supports(models.BulkBan) {
		out += tr(c, "bulk.other_ban")
	}
	return out
}

// bulkConfirm asks before a bulk action: how many addresses, which hosts.
func (s *Server) bulkConfirm(c echo.Context) error {
	p, _, err := s.bulkAsked(c)
	if err != nil {
		return err
	}
	p.EveryJail, p.Duration = true, "24h"
	return s.render(c, http.StatusOK, views.BulkConfirmView(p), nil)
}

// bulkAsked reads a bulk form's action and selection: the confirmation
// page of what it asks, and its targets.
func (s *Server) bulkAsked(c echo.Context) (views.BulkConfirmPage, []bulk.Target, error) {
	action, err := s.bulkAction(c)
	if err != nil {
		return views.BulkConfirmPage{}, nil, err
	}
	sel, targets, err := s.bulkRead(c)
	if err != nil {
		return views.BulkConfirmPage{}, nil, err
	}
	p := views.BulkConfirmPage{Action: action, Selection: sel, Count: len(targets), Hosts: bulk.HostsOf(targets)}
	jails := map[string]bool{}
	for i, t := range targets {
		if !jails[t.Jail] {
			jails[t.Jail] = true
			p.Jails = append(p.Jails, t.Jail)
		}
		if i < bulkSample {
			p.Sample = append(p.Sample, t.IP)
		}
	}
	return p, targets, nil
}

// bulkRun starts a confirmed bulk action in the background and shows its
// progress. It writes one audit entry, with the count.
func (s *Server) bulkRun(c echo.Context) error {
	p, targets, err := s.bulkAsked(c)
	if err != nil {
		return err
	}
	req := bulk.Request{Action: p.Action, Targets: targets, By: identityOf(c.Request().Context()).Name}
	p.Note, p.Expires, p.Duration, p.Custom = c.FormValue("note"), c.FormValue("expires"), c.FormValue("duration"), c.FormValue("custom")
	p.EveryJail = c.FormValue("everyjail") == "1"
	if p.Errors = s.bulkFields(c, &req, p); len(p.Errors) > 0 {
		return s.render(c, http.StatusUnprocessableEntity, views.BulkConfirmView(p), nil)
	}
	job, err := s.bulk.Start(req)
	s.audit(c, bulkAuditEntry(req, p, job, err))
	if err != nil {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, lang.Of(err))
	}
	return s.redirect(c, s.url("/bulk/jobs/"+job.ID+"?"+url.Values{"back": {p.Selection.Back}}.Encode()))
}

// bulkFields checks the action's own fields into req.
func (s *Server) bulkFields(c echo.Context, req *bulk.Request, p views.BulkConfirmPage) map[string][]string {
	errs := map[string][]string{}
	if len(p.Note) > bulkMaxNote {
		errs["note"] = append(errs["note"], tr(c, "bulk.err_note", "Max", strconv.Itoa(bulkMaxNote)))
	}
	req.Note = strings.ToValidUTF8(strings.TrimSpace(p.Note), "\uFFFD")
	switch req.Action {
	case models.BulkAllow:
		req.EveryJail = p.EveryJail
		if v := strings.TrimSpace(p.Expires); v != "" {
			t, err := time.ParseInLocation("2006-01-02T15:04", v, s.panelSettings().Location)
			switch {
			case err != nil:
				errs["expires"] = append(errs["expires"], tr(c, "bulk.err_end_format"))
			case !t.After(s.now()):
				errs["expires"] = append(errs["expires"], tr(c, "bulk.err_end_past"))
			default:
				req.Expires = t
			}
		}
	case models.BulkBan:
		d, chosen, derrs := banDuration(views.TargetForm{Duration: p.Duration, Custom: p.Custom})
		if derrs != nil {
			for k, v := range derrs.In(langOf(c)) {
				errs[k] = append(errs[k], v...)
			}
		}
		if derrs == nil && !chosen {
			errs["duration"] = append(errs["duration"], tr(c, "bulk.err_no_duration"))
		}
		req.Duration = d
	}
	return errs
}

// bulkAuditActions are the audit actions of the bulk actions.
var bulkAuditActions = map[models.BulkAction]models.AuditAction{
	models.BulkUnban: models.AuditUnban, models.BulkAllow: models.AuditAllowAdd, models.BulkBan: models.AuditBan,
}

// bulkAuditEntry is the one entry of a bulk action: its hosts and jails,
// the count, and the addresses (as many as the entry holds).
func bulkAuditEntry(req bulk.Request, p views.BulkConfirmPage, job models.BulkJob, err error) models.AuditEntry {
	ips := make([]string, len(req.Targets))
	for i, t := range req.Targets {
		ips[i] = t.IP
	}
	e := models.AuditEntry{Action: bulkAuditActions[req.Action], Host: strings.Join(p.Hosts, ","), Jail: strings.Join(p.Jails, ","),
		Target: auditTargets(ips), Detail: fmt.Sprintf("bulk %s of %d addresses", req.Action, len(req.Targets))}
	if job.ID != "" {
		e.Detail += " (job " + job.ID + ")"
	}
	if req.Note != "" {
		e.Detail += "; note: " + req.Note
	}
	if err != nil {
		e.Result = err.Error()
	}
	return e
}

// bulkJobOf is the job the request names.
func (s *Server) bulkJobOf(c echo.Context) (models.BulkJob, error) {
	if s.bulk != nil {
		if job, ok := s.bulk.Job(c.Param("id")); ok {
			return job, nil
		}
	}
	return models.BulkJob{}, echo.NewHTTPError(http.StatusNotFound, tr(c, "bulk.err_no_job"))
}

// bulkJob follows a bulk job; its htmx polls get the status alone.
func (s *Server) bulkJob(c echo.Context) error {
	job, err := s.bulkJobOf(c)
	if err != nil {
		return err
	}
	p := views.BulkJobPage{Job: job, Back: s.backPath(c, "/")}
	for _, r := range job.Results {
		if !r.OK && len(p.Failed) < views.BulkShownFailures {
			p.Failed = append(p.Failed, r)
		}
	}
	return s.render(c, http.StatusOK, views.BulkJobView(p), views.BulkJobStatus(p))
}

// bulkJobCSV is every address's result of a job.
func (s *Server) bulkJobCSV(c echo.Context) error {
	job, err := s.bulkJobOf(c)
	if err != nil {
		return err
	}
	out := s.newCSVExport(c, "bangui-bulk-"+string(job.Action), []string{"host", "jail", "address", "done", "message"})
	for _, r := range job.Results {
		if err := out.Row([]string{csvSafe(r.Host), csvSafe(r.Jail), csvSafe(r.Address), strconv.FormatBool(r.OK), csvSafe(r.Message.In(langOf(c)))}); err != nil {
			return out.Finish(err)
		}
	}
	return out.Finish(nil)
}

// bulkExport downloads the selected rows as CSV.
func (s *Server) bulkExport(c echo.Context) error {
	_, targets, err := s.bulkRead(c)
	if err != nil {
		return err
	}
	header := []string{"ip", "jail"}
	fleet := s.manyHosts()
	if fleet {
		header = append(header, "host")
	}
	out := s.newCSVExport(c, "bangui-selection", header)
	for _, t := range targets {
		row := []string{csvSafe(t.IP), csvSafe(t.Jail)}
		if fleet {
			row = append(row, csvSafe(t.Host))
		}
		if err := out.Row(row); err != nil {
			return out.Finish(err)
		}
	}
	return out.Finish(nil)
}
