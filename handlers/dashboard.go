package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/lang"
	"bangui/models"
	"bangui/services"
	"bangui/views"
)

// dashboardPageSize is the dashboard table's page size.
var dashboardPageSizes = []int{100}

// parseRange reads a time window; unknown values fall back to def.
func parseRange(v string, def models.TimeRange) models.TimeRange {
	switch r := models.TimeRange(v); r {
	case models.Range24h, models.Range7d, models.Range30d, models.Range365d:
		return r
	}
	return def
}

func parseOrigin(v string) models.Origin {
	switch o := models.Origin(v); o {
	case models.OriginBlocklist, models.OriginSelfblock, models.OriginManual:
		return o
	}
	return models.OriginAll
}

func parseSource(v string) services.Source {
	switch s := services.Source(v); s {
	case services.SourceFail2ban, services.SourceArchive:
		return s
	}
	return services.SourceAuto
}

// dashboardQuery is the dashboard table's filter, as the request asks.
func (s *Server) dashboardQuery(c echo.Context) services.DashboardQuery {
	return services.DashboardQuery{
		Host:   s.hostScope(c),
		Range:  parseRange(c.QueryParam("range"), models.Range24h),
		Origin: parseOrigin(c.QueryParam("origin")),
		Source: parseSource(c.QueryParam("source")),
		Page:   parsePage(c, dashboardPageSizes),
	}
}

func (s *Server) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	q := s.dashboardQuery(c)
	// The current filters: links change one of them and start again at page 1.
	filters := views.Filters{Path: "/", Values: url.Values{
		"range": {string(q.Range)}, "origin": {string(q.Origin)}, "source": {string(q.Source)},
	}}
	if wantsFragment(c.Request()) {
		d, err := s.history.BansTable(ctx, q)
		if err != nil {
			return err
		}
		t := s.dashboardTable(ctx, d, q, filters.Values)
		t.Geo = s.geo.ForRecords(ctx, d.Bans)
		t.Bulk = s.bulkSelect(c, bulkScopeDashboard, t.ID, t.Pager, filters.Values, recordRows(d.Bans))
		return s.renderComponent(c, http.StatusOK, views.BanEvents(t))
	}
	d, err := s.history.Dashboard(ctx, q)
	if err != nil {
		return err
	}
	table := s.dashboardTable(ctx, d, q, filters.Values)
	table.Geo = s.geo.ForRecords(ctx, d.Bans)
	table.Bulk = s.bulkSelect(c, bulkScopeDashboard, table.ID, table.Pager, filters.Values, recordRows(d.Bans))
	page := s.dashboardCharts(ctx, d)
	page.Filters, page.SourceNote, page.Table = filters, sourceNote(ctx, d.Chosen), table
	// The hub's "dash" event carries the counters of this window alone.
	page.Live = q.Range == models.Range24h && q.Origin == models.OriginAll && q.Source == services.SourceAuto
	return s.render(c, http.StatusOK, views.DashboardView(page), nil)
}

// dashboardCharts are the dashboard's charts and country summary of d.
func (s *Server) dashboardCharts(ctx context.Context, d services.Dashboard) views.DashboardPage {
	return views.DashboardPage{
		Trend:     trendChart(ctx, d, s.panelSettings().Location),
		PerJail:   perJailChart(ctx, d),
		Countries: topCountries(ctx, d.Countries),
	}
}

func (s *Server) dashboardTable(ctx context.Context, d services.Dashboard, q services.DashboardQuery, values url.Values) views.BanTable {
	return views.BanTable{
		ID: "dash-bans", Bans: d.Bans,
		Pager: views.Pager{Page: q.Page.Number, Size: q.Page.Size, Total: d.Total, Path: "/", Query: values, Target: "#dash-bans"},
		Empty: lang.T(ctx, "chart.no_bans"),
		// New bans slide in at the top of the first page only, so a reader
		// of a later page keeps their place; they are of every origin.
		Live: q.Page.Number == 1 && q.Origin == models.OriginAll,
	}
}

// trendChart labels each bucket by its start in the panel's time zone.
func trendChart(ctx context.Context, d services.Dashboard, loc *time.Location) views.Chart {
	c := views.Chart{ID: "trend", Title: lang.T(ctx, "chart.trend")}
	n := len(d.Trend)
	start := d.TrendEnd.Add(-time.Duration(n) * d.Bucket)
	l := lang.From(ctx)
	label := l.ShortDate
	if d.Bucket < 24*time.Hour {
		label = func(t time.Time) string { return t.Format("15:04") }
		if d.Bucket > time.Hour {
			label = l.ShortDateHour
		}
	}
	var total int64
	for i, v := range d.Trend {
		t := start.Add(time.Duration(i) * d.Bucket).In(loc)
		c.Bars = append(c.Bars, views.Bar{Label: label(t), Value: v})
		total += v
	}
	c.Summary = lang.T(ctx, "chart.trend_summary", "Total", lang.Int(ctx, total), "N", lang.Int(ctx, n), "Bucket", lang.Duration(ctx, d.Bucket))
	return c
}

func perJailChart(ctx context.Context, d services.Dashboard) views.Chart {
	c := views.Chart{ID: "per-jail", Title: lang.T(ctx, "chart.per_jail")}
	for _, j := range d.PerJail {
		c.Bars = append(c.Bars, views.Bar{Label: j.Jail, Value: j.Count})
	}
	c.Summary = lang.T(ctx, "chart.jail_summary", "Total", lang.Int(ctx, d.JailTotal), "N", lang.Int(ctx, len(d.PerJail)))
	return c
}

// unknownIP maps the service's ErrUnknownIP to a 404 page that says so.
func unknownIP(c echo.Context, err error) error {
	if errors.Is(err, services.ErrUnknownIP) {
		return echo.NewHTTPError(http.StatusNotFound, tr(c, "history.no_record"))
	}
	return err
}

// topCountries keeps the first four countries by name, sums the rest, and
// charts the top 20.
func topCountries(ctx context.Context, counts []models.CountryCount) views.TopCountries {
	tc := views.TopCountries{Chart: views.Chart{ID: "countries", Title: lang.T(ctx, "chart.countries")}}
	known := 0
	var total int64
	for _, c := range counts {
		if c.Code == "" {
			tc.Unknown += c.Count
			continue
		}
		total += c.Count
		if known < 4 {
			tc.Top = append(tc.Top, c)
		} else {
			tc.Other += c.Count
		}
		if known < 20 {
			tc.Chart.Bars = append(tc.Chart.Bars, views.Bar{Label: lang.Country(ctx, c.Code, models.CountryName(c.Code)), Value: c.Count})
		}
		known++
	}
	tc.Chart.Summary = lang.T(ctx, "chart.countries_summary", "Total", lang.Int(ctx, total), "N", lang.Int(ctx, known), "Unknown", lang.Int(ctx, tc.Unknown))
	return tc
}
