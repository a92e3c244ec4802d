package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"bangui/assets"
	"bangui/lang"
	"bangui/models"
	"bangui/services"
	"bangui/views"
)

// mapPageSizes are the page sizes of the table under the map.
var mapPageSizes = []int{25, 50, 100}

// mapRoutes registers the world map page and its two forms.
func (s *Server) mapRoutes(t routeTable) {
	t.GET("/map", models.RoleViewer, s.mapPage)
	t.POST("/map/reresolve", models.RoleOperator, s.mapReResolve)
	t.POST("/map/thresholds", models.RoleAdmin, s.mapThresholds)
}

// mapQuery is the map table's filter, as the request asks.
func (s *Server) mapQuery(c echo.Context) services.MapQuery {
	return services.MapQuery{
		Host:    s.hostScope(c),
		Range:   parseRange(c.QueryParam("range"), models.Range24h),
		Origin:  parseOrigin(c.QueryParam("origin")),
		Country: services.ParseCountry(c.QueryParam("country")),
		Page:    parsePage(c, mapPageSizes),
	}
}

func (s *Server) mapPage(c echo.Context) error { return s.renderMap(c, http.StatusOK, nil) }

// renderMap renders /map: the whole page, the map region (#map-view, after a
// country click) or the table alone (#map-bans, its pager).
func (s *Server) renderMap(c echo.Context, status int, form *views.ThresholdsForm) error {
	ctx := c.Request().Context()
	q := s.mapQuery(c)
	values := url.Values{"range": {string(q.Range)}, "origin": {string(q.Origin)}, "country": {q.Country}}
	empty := tr(c, "map.empty")
	switch q.Country {
	case "":
	case services.CountryUnknown:
		empty = tr(c, "map.empty_unknown")
	default:
		empty = tr(c, "map.empty_country", "Country", lang.Country(ctx, q.Country, models.CountryName(q.Country)))
	}
	table := views.MapTable{ID: "map-bans", Empty: empty,
		Pager: views.Pager{Page: q.Page.Number, Size: q.Page.Size, Sizes: mapPageSizes,
			Path: "/map", Query: values, Target: "#map-bans"}}
	if wantsFragment(c.Request()) && c.Request().Header.Get("HX-Target") == table.ID {
		bans, total, err := s.geo.MapTable(ctx, q)
		if err != nil {
			return err
		}
		table.Bans, table.Pager.Total, table.Geo = bans, total, s.geo.ForRecords(ctx, bans)
		table.Bulk = s.bulkSelect(c, bulkScopeMap, table.ID, table.Pager, values, recordRows(bans))
		return s.renderComponent(c, http.StatusOK, views.MapBans(table))
	}
	d, err := s.geo.Map(ctx, q)
	if err != nil {
		return err
	}
	table.Bans, table.Pager.Total, table.Geo = d.Bans, d.BansTotal, d.Geo
	table.Bulk = s.bulkSelect(c, bulkScopeMap, table.ID, table.Pager, values, recordRows(d.Bans))
	shapes, err := assets.WorldMap()
	if err != nil {
		return err
	}
	p := views.MapPage{
		Shapes: shapes, Credit: assets.WorldMapCredit,
		Filters: views.Filters{Path: "/map", Values: url.Values{"range": {string(q.Range)}, "origin": {string(q.Origin)}}},
		Country: q.Country, Counts: make(map[string]int64, len(d.Counts)), Ranked: d.Counts,
		Total: d.Total, Unknown: d.Unknown, Thresholds: d.Thresholds, Table: table, Geo: s.geo.Status(),
	}
	if q.Country != "" {
		p.Filters.Values.Set("country", q.Country)
	}
	for _, cc := range d.Counts {
		p.Counts[cc.Code] = cc.Count
	}
	if form != nil {
		p.Form = *form
	} else {
		t := d.Thresholds
		p.Form = views.ThresholdsForm{Low: strconv.FormatInt(t.Low, 10), Medium: strconv.FormatInt(t.Medium, 10), High: strconv.FormatInt(t.High, 10)}
	}
	if wantsFragment(c.Request()) {
		return s.renderComponent(c, http.StatusOK, views.MapView(p))
	}
	return s.render(c, status, views.MapPageView(p), nil)
}

// liveMap is what the live "map" event of scope shows: the countries of
// the 24 hours of every origin, one query of the archive's counts.
func (s *Server) liveMap(ctx context.Context, scope string) (views.MapPage, error) {
	d, err := s.geo.Map(ctx, services.MapQuery{Host: scope, Range: models.Range24h, Origin: models.OriginAll,
		Country: services.CountryUnknown, Page: models.Page{Number: 1, Size: 1}})
	if err != nil {
		return views.MapPage{}, fmt.Errorf("live map: %w", err)
	}
	shapes, err := assets.WorldMap()
	if err != nil {
		return views.MapPage{}, err
	}
	p := views.MapPage{Shapes: shapes, Filters: views.Filters{Values: url.Values{"range": {string(models.Range24h)}}},
		Counts: make(map[string]int64, len(d.Counts)), Ranked: d.Counts, Total: d.Total, Unknown: d.Unknown, Thresholds: d.Thresholds}
	for _, cc := range d.Counts {
		p.Counts[cc.Code] = cc.Count
	}
	return p, nil
}

// mapReResolve looks up again every address known only as unknown.
func (s *Server) mapReResolve(c echo.Context) error {
	rep, err := s.geo.ReResolveUnknown(c.Request().Context())
	s.audit(c, models.AuditEntry{Action: models.AuditMapChange, Detail: "look up unknown countries again", Result: s.auditOutcome(err)})
	if err != nil {
		return err
	}
	switch {
	case !s.geo.Status().Country.Loaded && !s.geo.Status().Online:
		s.flash(c, "error", tr(c, "bans.map_no_database"))
	case rep.Asked == 0 && rep.Archived == 0:
		s.flash(c, "info", tr(c, "bans.map_nothing_unknown"))
	default:
		s.flash(c, "success", tr(c, "bans.map_looked_up", "Asked", rep.Asked, "Resolved", rep.Resolved, "Archived", rep.Archived))
	}
	return s.redirect(c, s.hostURL(c, "/map"))
}

// mapThresholds saves the map's colour thresholds.
func (s *Server) mapThresholds(c echo.Context) error {
	var form views.ThresholdsForm
	if err := bindForm(c, &form); err != nil {
		return err
	}
	t, err := s.geo.SetThresholds(c.Request().Context(), services.ThresholdsInput{Low: form.Low, Medium: form.Medium, High: form.High})
	s.audit(c, models.AuditEntry{Action: models.AuditMapChange, Detail: "colour thresholds " + clipText(form.Low, 20) + "/" +
		clipText(form.Medium, 20) + "/" + clipText(form.High, 20), Result: s.auditOutcome(err)})
	var verr *services.ValidationError
	if errors.As(err, &verr) {
		form.Errors = verr.In(langOf(c))
		return s.renderMap(c, http.StatusUnprocessableEntity, &form)
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", tr(c, "bans.map_saved", "Low", t.Low, "Medium", t.Medium, "High", t.High))
	return s.redirect(c, s.hostURL(c, "/map"))
}

// activeBanIPs are the addresses of a page of bans, for one geo lookup.
func activeBanIPs(bans []models.ActiveBan) []string {
	ips := make([]string, len(bans))
	for i, b := range bans {
		ips[i] = b.IP
	}
	return ips
}
