package metrics

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"bangui/models"
	"bangui/services"
)

// snapshotFixture is a fixed probe state: hosts × jails of counters.
type snapshotFixture []services.HostSnapshot

func (s snapshotFixture) Snapshot() []services.HostSnapshot { return s }

func fleetFixture(hosts, jails int) snapshotFixture {
	var out snapshotFixture
	for h := range hosts {
		snap := services.HostSnapshot{Host: fmt.Sprintf("web-%d", h), Status: models.ServerStatus{Online: true, Version: "1.0.2"}}
		for j := range jails {
			snap.Jails = append(snap.Jails, services.JailCounters{Name: fmt.Sprintf("jail-%d", j), CurrentlyBanned: 100, TotalBanned: 1000, CurrentlyFailed: 3, TotalFailed: 5000})
		}
		out = append(out, snap)
	}
	return out
}

// BenchmarkScrape is one scrape of a fleet of 20 hosts with 10 jails each
// and 60 routes' worth of HTTP series: the whole exposition, rendered.
func BenchmarkScrape(b *testing.B) {
	m := New(Options{Sources: Sources{Status: fleetFixture(20, 10)}, Version: "bench"})
	for r := range 60 {
		for _, code := range []string{"200", "303", "404"} {
			m.httpRequests.WithLabelValues("GET", fmt.Sprintf("/route-%d", r), code).Inc()
		}
		m.httpDuration.WithLabelValues("GET", fmt.Sprintf("/route-%d", r)).Observe(0.01)
	}
	h := m.Handler()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
		b.SetBytes(int64(rec.Body.Len()))
	}
}

// BenchmarkMiddleware is what counting and timing add to one request
// (the route's handler writes nothing).
func BenchmarkMiddleware(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", on), func(b *testing.B) {
			e := echo.New()
			if on {
				e.Use(New(Options{}).Middleware("/bangui"))
			}
			e.GET("/bangui/jails/:name", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
			req := httptest.NewRequest(http.MethodGet, "/bangui/jails/sshd", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				e.ServeHTTP(w, req)
			}
		})
	}
}
