package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"bangui/models"
	"bangui/services"
)

// liveDashboard is what the hub reads of scope after an archive sync, in
// one go: the 24 hours of every origin as the dashboard shows them, with
// the newest liveBanRows rows (to find the new ones) and the counters of
// its charts.
func (s *Server) liveDashboard(ctx context.Context, scope string) (services.Dashboard, error) {
	return s.history.Dashboard(ctx, services.DashboardQuery{Host: scope, Range: models.Range24h,
		Origin: models.OriginAll, Source: services.SourceAuto, Page: models.Page{Number: 1, Size: liveBanRows}})
}

// dashKey sums up the counts of d that the "dash" event shows: an event
// whose counts are those of the last one sent is not sent again (its
// labels may differ only by the minute the trend's buckets start at).
func dashKey(d services.Dashboard) string {
	var b strings.Builder
	fmt.Fprint(&b, d.Trend, d.JailTotal)
	for _, j := range d.PerJail {
		fmt.Fprint(&b, " ", j.Jail, "=", j.Count)
	}
	b.WriteString(" |")
	for _, c := range d.Countries {
		fmt.Fprint(&b, " ", c.Code, "=", c.Count)
	}
	return b.String()
}

// liveProbeEvery is how often the status probe looks at every host while
// at least one tab is on the live stream (its own job looks every 30 s),
// so that open pages say within seconds that fail2ban stopped or is back.
// One look serves every tab.
const liveProbeEvery = 5 * time.Second

// probeWhileWatched refreshes the status probe every liveProbeEvery while
// tabs are open, until ctx ends; a change reaches the tabs as a status
// event, like any other.
func (s *Server) probeWhileWatched(ctx context.Context, h *liveHub) {
	t := time.NewTicker(liveProbeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if h.open() > 0 {
			s.status.Refresh(ctx)
		}
	}
}
