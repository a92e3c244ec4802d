package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"bangui/lang"
	"bangui/models"
)

func TestRouteLabel(t *testing.T) {
	for _, tc := range []struct{ path, base, want string }{
		{"/jails/:name", "", "/jails/:name"},
		{"/bangui/jails/:name", "/bangui", "/jails/:name"},
		{"/bangui/", "/bangui", "/"},
		{"/bangui", "/bangui", "/bangui"}, // the redirect to /bangui/
		{"/*", "/bangui", unmatchedRoute},
		{"", "", unmatchedRoute},
	} {
		if got := routeLabel(tc.path, tc.base); got != tc.want {
			t.Errorf("routeLabel(%q, %q) = %q, want %q", tc.path, tc.base, got, tc.want)
		}
	}
}

func TestMethodLabel(t *testing.T) {
	for in, want := range map[string]string{"GET": "GET", "POST": "POST", "HEAD": "HEAD", "BREW": otherLabel, "get": otherLabel} {
		if got := methodLabel(in); got != want {
			t.Errorf("methodLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// No label value taken from a name reads as an address or range.
func TestSafeLabel(t *testing.T) {
	for in, want := range map[string]string{
		"sshd": "sshd", "web-1": "web-1", "1.0.2": "1.0.2",
		"203.0.113.7": "invalid", "2001:db8::1": "invalid", "10.0.0.0/8": "invalid", "::1": "invalid",
		strings.Repeat("j", 100):                 strings.Repeat("j", maxLabelLen),
		strings.Repeat("a", maxLabelLen-1) + "é": strings.Repeat("a", maxLabelLen-1), // not cut inside the é
	} {
		if got := safeLabel(in); got != want {
			t.Errorf("safeLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokenIsRequiredWhenSet(t *testing.T) {
	const tok = "scrape-token-0123456789"
	for _, tc := range []struct {
		token, auth string
		want        int
	}{
		{"", "", http.StatusOK},
		{tok, "", http.StatusUnauthorized},
		{tok, "Bearer nope", http.StatusUnauthorized},
		{tok, "Bearer " + tok + "x", http.StatusUnauthorized},
		{tok, tok, http.StatusUnauthorized},
		{tok, "Bearer " + tok, http.StatusOK},
	} {
		m := New(Options{Token: tc.token, Version: "v1"})
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		m.ListenerHandler().ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("token %q, Authorization %q: %d, want %d", tc.token, tc.auth, rec.Code, tc.want)
		}
	}
}

// An import run that ends is counted by trigger and result, timed, and its
// addresses added up; unknown words become "other".
func TestImportFinished(t *testing.T) {
	m := New(Options{})
	start := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	m.ImportFinished(models.ImportProgress{StartedBy: models.TriggerSchedule, StartedAt: start, FinishedAt: start.Add(90 * time.Second),
		Results: []models.ImportSourceResult{{Imported: 10, AlreadyBanned: 3, Skipped: 1}, {Imported: 5}}})
	m.ImportFinished(models.ImportProgress{StartedBy: models.TriggerManual, StartedAt: start, FinishedAt: start.Add(time.Second),
		Error: lang.Raw("the jail is missing")})
	m.ImportFinished(models.ImportProgress{StartedBy: "bogus"})
	for _, tc := range []struct {
		got, want float64
		what      string
	}{
		{testutil.ToFloat64(m.importRuns.WithLabelValues("schedule", "ok")), 1, "scheduled ok"},
		{testutil.ToFloat64(m.importRuns.WithLabelValues("manual", "failed")), 1, "manual failed"},
		{testutil.ToFloat64(m.importRuns.WithLabelValues(otherLabel, "ok")), 1, "unknown trigger"},
		{testutil.ToFloat64(m.importAddresses.WithLabelValues("imported")), 15, "imported"},
		{testutil.ToFloat64(m.importAddresses.WithLabelValues("already_banned")), 3, "already banned"},
		{testutil.ToFloat64(m.importAddresses.WithLabelValues("skipped")), 1, "skipped"},
		{testutil.ToFloat64(m.importLastEnd.WithLabelValues("ok")), float64(start.Add(90 * time.Second).Unix()), "last ok end"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.what, tc.got, tc.want)
		}
	}
	if n := testutil.CollectAndCount(m.importDuration); n != 2 {
		t.Errorf("duration series: %d, want one per trigger timed (2)", n)
	}
}

// Alert deliveries are exported at zero for every channel and outcome
// before any alert, and unknown kinds collapse into "other".
func TestAlertDeliveries(t *testing.T) {
	m := New(Options{})
	if n := testutil.CollectAndCount(m.alertDeliveries); n != len(AlertChannels)*len(AlertOutcomes) {
		t.Fatalf("%d series before any delivery", n)
	}
	m.AlertDelivery("ntfy", "sent")
	m.AlertDelivery("https://hooks.example/203.0.113.9", "exploded")
	if got := testutil.ToFloat64(m.alertDeliveries.WithLabelValues("ntfy", "sent")); got != 1 {
		t.Errorf("ntfy sent = %v", got)
	}
	if got := testutil.ToFloat64(m.alertDeliveries.WithLabelValues(otherLabel, otherLabel)); got != 1 {
		t.Errorf("other/other = %v", got)
	}
	var nilMetrics *Metrics
	nilMetrics.AlertDelivery("ntfy", "sent") // metrics off: no panic
	nilMetrics.ImportFinished(models.ImportProgress{})
}
