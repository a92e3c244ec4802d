package handlers

import (
	"context"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"bangui/hosts"
	"bangui/models"
	"bangui/services"
	"bangui/views"
)

// hostParam is the query parameter that selects a host; it is kept in the
// URL so that a link or a reload shows the same host.
const hostParam = views.HostParam

// hostScope is the host a page reads: the one selected with ?host=, or ""
// for every host (the combined view). requireKnownHost has checked it.
func (s *Server) hostScope(c echo.Context) string { return c.QueryParam(hostParam) }

// hostID is the one fail2ban host a request acts on: the selected one, or
// the local host when none is selected.
func (s *Server) hostID(c echo.Context) string {
	if id := s.hostScope(c); id != "" {
		return id
	}
	return s.hosts.Local().ID()
}

// requireKnownHost answers 404 "Unknown host" before any handler runs when
// ?host= names a host the registry does not know.
func (s *Server) requireKnownHost(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if id := c.QueryParam(hostParam); id != "" {
			if _, err := s.hosts.Get(id); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// hostURL is the absolute path of an in-app path that keeps the selected
// host, for redirects (views.URL does the same for links in pages).
func (s *Server) hostURL(c echo.Context, p string) string {
	return s.url(views.KeepHost(p, s.hostScope(c)))
}

// manyHosts reports whether more than one host is registered: only then do
// pages offer the host selector and show a host column.
func (s *Server) manyHosts() bool { return len(s.hosts.All()) > 1 }

// scopeHosts are the ids of the hosts a page shows: the selected one, or
// every host.
func (s *Server) scopeHosts(c echo.Context) []string { return s.scopeHostsOf(s.hostScope(c)) }

// scopeHostsOf is scopeHosts for a ?host= value.
func (s *Server) scopeHostsOf(id string) []string {
	if id != "" {
		if _, err := s.hosts.Get(id); err == nil {
			return []string{id}
		}
	}
	all := s.hosts.All()
	ids := make([]string, len(all))
	for i, h := range all {
		ids[i] = h.ID()
	}
	return ids
}

// hostOptions lists every host for the host selector.
func (s *Server) hostOptions() []views.HostOption {
	all := s.hosts.All()
	out := make([]views.HostOption, len(all))
	for i, h := range all {
		out[i] = views.HostOption{ID: h.ID(), Name: s.hosts.Name(h.ID())}
	}
	return out
}

// fleetStatus is the status bar of the hosts a page shows: the last known
// status of each (StatusProbe.Current), summed when there are several.
// With recheck, the hosts that are offline are asked again, in parallel
// and each within services.HostDeadline (the bar's poll).
func (s *Server) fleetStatus(c echo.Context, recheck bool) views.FleetStatus {
	return s.fleetStatusOf(c.Request().Context(), s.scopeHosts(c), recheck)
}

// fleetStatusOf is fleetStatus for the hosts ids.
func (s *Server) fleetStatusOf(ctx context.Context, ids []string, recheck bool) views.FleetStatus {
	statuses := s.hostStatuses(ctx, ids, recheck)
	if len(ids) == 1 {
		return views.FleetStatus{ServerStatus: statuses[0], Hosts: 1, OnlineHosts: btoi(statuses[0].Online)}
	}
	fs := views.FleetStatus{Hosts: len(ids)}
	for i, st := range statuses {
		if !st.Online {
			fs.Offline = append(fs.Offline, views.HostErr{Name: s.hosts.Name(ids[i]), Error: st.Error})
			continue
		}
		fs.OnlineHosts++
		fs.Online = true
		fs.ActiveJails += st.ActiveJails
		fs.Banned += st.Banned
		fs.Failed += st.Failed
		if st.CheckedAt.After(fs.CheckedAt) {
			fs.CheckedAt = st.CheckedAt
		}
	}
	return fs
}

// hostStatuses is the last known status of each host of ids (in their
// order); with recheck, the offline ones are asked again first (see
// fleetStatus).
func (s *Server) hostStatuses(ctx context.Context, ids []string, recheck bool) []models.ServerStatus {
	statuses := make([]models.ServerStatus, len(ids))
	for i, id := range ids {
		statuses[i] = s.status.Current(id)
	}
	if recheck {
		// Every host of the page goes through EachHost, so that each has
		// its deadline when the page covers several; Recheck answers at
		// once for a host that is online (it asks only offline ones).
		var list []hosts.Host
		for _, id := range ids {
			if h, err := s.hosts.Get(id); err == nil {
				list = append(list, h)
			}
		}
		res := services.EachHost(ctx, list, func(ctx context.Context, h hosts.Host) (models.ServerStatus, error) {
			return s.status.Recheck(ctx, h.ID(), 3*time.Second), nil
		})
		for _, r := range res {
			statuses[slices.Index(ids, r.Host)] = r.Value
		}
	}
	return statuses
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
