package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/fail2ban"
	"bangui/lang"
	"bangui/models"
	"bangui/services"
	"bangui/views"
)

var historyPageSizes = []int{50, 100, 200}

// repeatOffenderMin is the ban count from which history highlights a row.
const repeatOffenderMin = 3

func (s *Server) historyQuery(c echo.Context) (services.HistoryQuery, url.Values) {
	q := services.HistoryQuery{
		Host:     s.hostScope(c),
		Origin:   parseOrigin(c.QueryParam("origin")),
		Source:   parseSource(c.QueryParam("source")),
		Jail:     strings.TrimSpace(c.QueryParam("jail")),
		IPPrefix: queryText(c, "ip", 45), // the longest IPv6 text
		Page:     parsePage(c, historyPageSizes),
	}
	rng := c.QueryParam("range")
	if rng != "all" {
		q.Range = parseRange(rng, models.Range30d)
		rng = string(q.Range)
	}
	if fail2ban.ValidJailName(q.Jail) != nil {
		q.Jail = ""
	}
	v := url.Values{"range": {rng}, "origin": {string(q.Origin)}, "source": {string(q.Source)}, "jail": {q.Jail}, "ip": {q.IPPrefix}}
	return q, v
}

func (s *Server) historyPage(c echo.Context) error {
	ctx := c.Request().Context()
	q, values := s.historyQuery(c)
	p, err := s.history.History(ctx, q)
	if err != nil {
		return err
	}
	table := views.BanTable{
		ID: "history-bans", Bans: p.Bans, RepeatMin: repeatOffenderMin,
		Pager: views.Pager{Page: q.Page.Number, Size: q.Page.Size, Total: p.Total, Sizes: historyPageSizes,
			Path: "/history", Query: values, Target: "#history-bans"},
		Empty: tr(c, "history.no_match"),
	}
	table.Geo = s.geo.ForRecords(ctx, p.Bans)
	table.Bulk = s.bulkSelect(c, bulkScopeHistory, table.ID, table.Pager, values, recordRows(p.Bans))
	if wantsFragment(c.Request()) {
		return s.renderComponent(c, http.StatusOK, views.BanEvents(table))
	}
	var jails []string
	if s.manyHosts() {
		// The archive names the jails: a page of every host asks none.
		if jails, err = s.history.ArchivedJails(ctx, q); err != nil {
			return err
		}
		if q.Jail != "" && !slices.Contains(jails, q.Jail) {
			jails = append(jails, q.Jail)
		}
	} else if names, err := s.jails.Names(ctx, s.hostID(c)); err == nil {
		jails = names // the names alone: no status or settings of each jail
	}
	csvQuery := url.Values{}
	for k, v := range values {
		csvQuery[k] = v
	}
	page := views.HistoryPage{
		Filters: views.Filters{Path: "/history", Values: values}, SourceNote: sourceNote(c.Request().Context(), p.Chosen), Table: table,
		Jails: jails, IPPrefix: q.IPPrefix, CSVURL: "/history.csv?" + csvQuery.Encode(),
	}
	return s.render(c, http.StatusOK, views.HistoryView(page), nil)
}

// historyCSV streams the current filter's events as CSV, row by row.
func (s *Server) historyCSV(c echo.Context) error {
	q, _ := s.historyQuery(c)
	header := []string{"time_utc", "ip", "jail", "action", "origin", "ban_seconds", "ban_count", "failures", "country", "first_log_line"}
	// With several hosts each row names its host, in a last column so that
	// the others keep their places.
	fleet := s.manyHosts()
	if fleet {
		header = append(header, "host")
	}
	out := s.newCSVExport(c, "bangui-history", header)
	_, err := s.history.EachHistory(c.Request().Context(), q, func(b models.BanRecord) error {
		action := b.Action
		if action == "" {
			action = "ban"
		}
		line := ""
		if len(b.Matches) > 0 {
			line = b.Matches[0]
		}
		// The address and the jail come from fail2ban's database and may be
		// anything, like the log line.
		row := []string{b.TimeOfBan.UTC().Format(time.RFC3339), csvSafe(b.IP), csvSafe(b.Jail), action, string(b.Origin),
			strconv.FormatInt(b.BanTime, 10), strconv.FormatInt(b.BanCount, 10), strconv.FormatInt(b.Failures, 10),
			b.Country, csvSafe(line)}
		if fleet {
			row = append(row, csvSafe(b.Host))
		}
		return out.Row(row)
	})
	return out.Finish(err)
}

// csvSafe keeps spreadsheet programs from running a text cell (a log line,
// a jail name) as a formula: a cell that starts with = + - @ tab or CR gets
// a leading apostrophe. Bytes that are not UTF-8 become U+FFFD, as the file
// says it is UTF-8.
func csvSafe(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func (s *Server) ipPage(c echo.Context) error {
	raw, err := url.PathUnescape(c.Param("ip"))
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "bans.not_an_ip"))
	}
	rep, err := s.history.IP(c.Request().Context(), s.hostScope(c), raw)
	var verr *fail2ban.ValidationError
	if errors.As(err, &verr) {
		return echo.NewHTTPError(http.StatusNotFound, verr.Message)
	}
	if err != nil {
		return unknownIP(c, err)
	}
	page := views.IPPage{
		IP: rep.IP, Events: rep.Events, Bans: rep.Bans, Failures: rep.Failures, First: rep.First, Last: rep.Last,
		Geo: models.GeoInfo{IP: rep.IP},
	}
	for _, h := range rep.Hosts {
		page.Hosts = append(page.Hosts, views.IPHost{Host: h.Host, Current: h.Current, Jails: h.Jails, Offline: h.Offline.In(langOf(c))})
	}
	if g, ok := s.geo.Lookup(c.Request().Context(), []string{rep.IP})[rep.IP]; ok {
		page.Geo = g
	}
	if !wantsFragment(c.Request()) {
		page.Audit = s.auditTrail(c, tr(c, "history.audit_trail"), models.AuditFilter{Target: rep.IP}, views.AuditURL("target", rep.IP))
	}
	return s.render(c, http.StatusOK, views.IPView(page), views.IPLive(page))
}

// ignoreFromIPPage adds an address to a jail's ignore list and goes back.
func (s *Server) ignoreFromIPPage(c echo.Context) error {
	var form views.TargetForm
	if err := bindForm(c, &form); err != nil {
		return err
	}
	jail, target := form.Jail, form.Target
	_, err := s.jails.AddIgnore(c.Request().Context(), s.hostID(c), jail, []string{target})
	s.audit(c, models.AuditEntry{Action: models.AuditIgnoreAdd, Host: s.hostID(c), Jail: jail, Target: target, Result: s.auditOutcome(err)})
	if fe := formError(langOf(c), err); fe != nil {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, firstMessage(langOf(c), fe))
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", tr(c, "bans.ignore_added_ip", "IP", target, "Name", jail))
	return s.redirect(c, s.hostURL(c, s.backPath(c, "/jails/"+jail)))
}

// sourceNote says in the request's language which source a page reads and
// why (services.Chosen.Note in English).
func sourceNote(ctx context.Context, ch services.Chosen) string {
	age := func() string {
		if ch.Age >= 24*time.Hour {
			return lang.N(ctx, "source.days", int(ch.Age.Hours()/24))
		}
		return lang.N(ctx, "source.hours", max(1, int(ch.Age.Hours())))
	}
	switch ch.Reason {
	case services.NoteArchiveChosen:
		return lang.T(ctx, "source.archive_chosen")
	case services.NoteArchiveEveryHost:
		return lang.T(ctx, "source.archive_every_host")
	case services.NoteArchiveManual:
		return lang.T(ctx, "source.archive_manual")
	case services.NoteArchiveShortDB:
		return lang.T(ctx, "source.archive_short_db", "Age", age())
	case services.NoteArchiveNoDB:
		return lang.T(ctx, "source.archive_no_db", "Problem", ch.Problem.In(lang.From(ctx)))
	case services.NoteFail2ban:
		return lang.T(ctx, "source.fail2ban", "Age", age())
	case services.NoteFail2banChosen:
		return lang.T(ctx, "source.fail2ban_chosen", "Age", age())
	}
	return ch.Note
}
