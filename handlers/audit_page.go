package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/services"
	"bangui/views"
)

var auditPageSizes = []int{50, 100, 200}

// auditRoutes registers the audit log's page, its export and its
// retention form. No route changes or deletes an entry.
func (s *Server) auditRoutes(t routeTable) {
	t.GET("/audit", models.RoleViewer, s.auditPage) // each sees their own entries; admins see all
	t.GET("/audit.csv", models.RoleViewer, s.auditCSV)
	t.POST("/audit/retention", models.RoleAdmin, s.auditRetentionSubmit)
}

// auditDateLayout is the date inputs' format.
const auditDateLayout = "2006-01-02"

// auditQuery reads the audit page's filters from the query: what the
// store selects, what the form shows again, and the query that keeps them
// in links (the host is the host selector's, which links keep anyway). An admin sees everyone's entries; anyone else only their own,
// whatever the query says.
func (s *Server) auditQuery(c echo.Context) (models.AuditFilter, views.AuditFilterForm, url.Values, bool) {
	id := identityOf(c.Request().Context())
	all := id.Role.Allows(models.RoleAdmin)
	form := views.AuditFilterForm{
		Action: queryText(c, "action", 40), Host: s.hostScope(c), Jail: queryText(c, "jail", 100),
		File: queryText(c, "file", 255), Target: queryText(c, "target", maxSearchLen),
		From: queryText(c, "from", 10), To: queryText(c, "to", 10),
	}
	if all {
		form.User = queryText(c, "user", maxSearchLen)
	}
	if !slices.Contains(models.AuditActions, models.AuditAction(form.Action)) {
		form.Action = ""
	}
	f := s.ownAudit(c, models.AuditFilter{Actor: form.User, Action: models.AuditAction(form.Action), Host: form.Host,
		Jail: form.Jail, File: form.File, Target: form.Target})
	loc := s.panelSettings().Location
	if t, err := time.ParseInLocation(auditDateLayout, form.From, loc); err == nil {
		f.From = t.Unix()
	} else {
		form.From = ""
	}
	if t, err := time.ParseInLocation(auditDateLayout, form.To, loc); err == nil {
		f.To = t.AddDate(0, 0, 1).Unix() // the whole day
	} else {
		form.To = ""
	}
	v := url.Values{}
	for k, val := range map[string]string{"user": form.User, "action": form.Action, "jail": form.Jail,
		"file": form.File, "target": form.Target, "from": form.From, "to": form.To} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return f, form, v, all
}

// ownAudit narrows f to the requester's own entries, unless they are an
// admin: by account, or by name for an identity without one.
func (s *Server) ownAudit(c echo.Context, f models.AuditFilter) models.AuditFilter {
	id := identityOf(c.Request().Context())
	switch {
	case id.Role.Allows(models.RoleAdmin):
	case id.UserID != 0:
		f.UserID = id.UserID
	default:
		f.Actor = id.Name
	}
	return f
}

// auditTrail is the latest entries about one thing for its page (those
// the requester may see), nil without an audit log.
func (s *Server) auditTrail(c echo.Context, title string, f models.AuditFilter, more string) *views.AuditTrail {
	if s.audits == nil {
		return nil
	}
	entries, total, err := s.audits.List(c.Request().Context(), s.ownAudit(c, f), models.Page{Number: 1, Size: 5})
	if err != nil {
		s.log.Warn("audit trail", "err", err, "request_id", requestID(c))
		return nil
	}
	return &views.AuditTrail{Title: title, Entries: entries, Total: total, MoreURL: more}
}

func (s *Server) auditPage(c echo.Context) error {
	return s.renderAudit(c, http.StatusOK, nil)
}

// renderAudit renders /audit; retention is the retention form as
// submitted, nil to show the stored value.
func (s *Server) renderAudit(c echo.Context, status int, retention *views.RetentionForm) error {
	if s.audits == nil {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "audit.none"))
	}
	ctx := c.Request().Context()
	f, form, values, all := s.auditQuery(c)
	page := parsePage(c, auditPageSizes)
	entries, total, err := s.audits.List(ctx, f, page)
	if err != nil {
		return err
	}
	empty := tr(c, "audit.no_match")
	if len(values) == 0 {
		empty = tr(c, "audit.nothing_yet")
	}
	table := views.AuditTable{Entries: entries, Empty: empty,
		Pager: views.Pager{Page: page.Number, Size: page.Size, Total: total, Sizes: auditPageSizes,
			Path: "/audit", Query: values, Target: "#audit-entries"}}
	if wantsFragment(c.Request()) {
		return s.renderComponent(c, http.StatusOK, views.AuditEntries(table))
	}
	p := views.AuditPage{Table: table, Filter: form, AllUser: all, CSVURL: "/audit.csv?" + values.Encode()}
	for _, a := range models.AuditActions {
		p.Actions = append(p.Actions, views.Option{Value: string(a), Label: string(a)})
	}
	if all {
		if retention == nil {
			days, err := s.auditRetention().Days(ctx)
			if err != nil {
				return err
			}
			retention = &views.RetentionForm{Days: strconv.Itoa(days)}
		}
		p.Retention = retention
	}
	return s.render(c, status, views.AuditView(p), nil)
}

// auditRetention is the retention setting of the audit log.
func (s *Server) auditRetention() services.AuditRetention {
	return services.AuditRetention{Log: s.audits, Settings: s.settings, Now: s.now}
}

// auditRetentionSubmit changes how long entries are kept (admins only).
func (s *Server) auditRetentionSubmit(c echo.Context) error {
	if s.audits == nil {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "audit.none"))
	}
	if !identityOf(c.Request().Context()).Role.Allows(models.RoleAdmin) {
		return echo.NewHTTPError(http.StatusForbidden, tr(c, "error.not_allowed"))
	}
	raw := c.FormValue(services.AuditRetentionField)
	days, err := s.auditRetention().SetDays(c.Request().Context(), raw)
	s.audit(c, models.AuditEntry{Action: models.AuditRetention, Detail: clipText(raw, 20) + " days", Result: s.auditOutcome(err)})
	var verr *services.ValidationError
	if errors.As(err, &verr) {
		return s.renderAudit(c, http.StatusUnprocessableEntity,
			&views.RetentionForm{Days: clipText(raw, 20), Errors: verr.In(langOf(c))[services.AuditRetentionField]})
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", tr(c, "audit.kept", "Days", days))
	return s.redirect(c, s.url("/audit"))
}

// auditCSV streams the entries the page's filters select as CSV. Every
// text cell is made safe for spreadsheets: names, targets and results may
// come from anyone.
func (s *Server) auditCSV(c echo.Context) error {
	if s.audits == nil {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "audit.none"))
	}
	f, _, _, _ := s.auditQuery(c)
	out := s.newCSVExport(c, "bangui-audit", []string{"time_utc", "actor", "user_id", "token_id", "role", "client", "action",
		"host", "jail", "file", "target", "detail", "result"})
	err := s.audits.Each(c.Request().Context(), f, func(e models.AuditEntry) error {
		return out.Row([]string{time.Unix(e.At, 0).UTC().Format(time.RFC3339), csvSafe(e.Actor),
			strconv.FormatInt(e.UserID, 10), strconv.FormatInt(e.Token, 10), e.Role.String(), csvSafe(e.Client),
			csvSafe(string(e.Action)), csvSafe(e.Host), csvSafe(e.Jail), csvSafe(e.File), csvSafe(e.Target),
			csvSafe(e.Detail), csvSafe(e.Result)})
	})
	return out.Finish(err)
}
