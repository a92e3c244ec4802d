// Package metrics is BanGUI's Prometheus exposition (the official Go client
// library): fail2ban's state per host and jail as the status probe last
// read it, the archive's size and lag, blocklist import runs, alert
// deliveries and the panel's own HTTP requests. Every label takes its
// values from a bounded set — host ids, jail names, route patterns,
// status codes, fixed words — and never an address or a raw URL.
//
// Metrics are off unless --metrics-listen or --metrics-token is set; then
// app.Build makes one Metrics, the handlers count requests through its
// Middleware and serve Handler, and app.Serve runs the separate listener.
package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"bangui/models"
)

// Alert channel kinds and delivery outcomes: the values of the labels of
// bangui_alert_deliveries_total. Every pair is exported from the start
// (at zero), so dashboards and alert rules find the series before the
// first delivery.
var (
	AlertChannels = []string{"webhook", "ntfy", "gotify", "slack", "email"}
	AlertOutcomes = []string{"sent", "failed", "retried"}
)

// otherLabel stands for a value outside a label's known set.
const otherLabel = "other"

// Metrics holds the panel's registry and the metrics the code updates as
// things happen; the rest is read at each scrape (see collector). A nil
// *Metrics counts nothing, so callers need not check whether metrics are on.
type Metrics struct {
	reg       *prometheus.Registry
	tokenHash [sha256.Size]byte
	hasToken  bool
	log       *slog.Logger

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	importRuns      *prometheus.CounterVec
	importDuration  *prometheus.HistogramVec
	importAddresses *prometheus.CounterVec
	importLastEnd   *prometheus.GaugeVec

	alertDeliveries *prometheus.CounterVec
}

// Options are what New needs.
type Options struct {
	Sources Sources
	// Token, when not empty, is the bearer token every scrape must send.
	Token   string
	Version string // the panel's version, for bangui_build_info
	Logger  *slog.Logger
}

// New builds the registry: the Go runtime and process collectors, the
// collector reading opts.Sources at each scrape, and the event metrics.
func New(opts Options) *Metrics {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: log}
	if opts.Token != "" {
		m.tokenHash, m.hasToken = sha256.Sum256([]byte(opts.Token)), true
	}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bangui_http_requests_total",
		Help: "HTTP requests the panel answered, by method, route pattern (\"unmatched\" for unknown paths) and status code.",
	}, []string{"method", "route", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bangui_http_request_duration_seconds",
		Help:    "Time the panel took to answer HTTP requests, by method and route pattern (event streams count their whole life).",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route"})
	m.importRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bangui_blocklist_imports_total",
		Help: "Blocklist import runs that ended, by trigger (manual, schedule, resume) and result (ok, failed: the run or a source had an error).",
	}, []string{"trigger", "result"})
	m.importDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bangui_blocklist_import_duration_seconds",
		Help:    "How long blocklist import runs took, by trigger.",
		Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600},
	}, []string{"trigger"})
	m.importAddresses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bangui_blocklist_import_addresses_total",
		Help: "Addresses of blocklists handled by import runs, by outcome: imported (newly banned), already_banned, skipped.",
	}, []string{"outcome"})
	m.importLastEnd = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bangui_blocklist_import_last_end_timestamp_seconds",
		Help: "When the last blocklist import run with this result ended, in seconds since the epoch.",
	}, []string{"result"})
	m.alertDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bangui_alert_deliveries_total",
		Help: "Alert messages handed to a channel, by channel kind and outcome (sent, failed, retried).",
	}, []string{"channel", "outcome"})
	for _, ch := range AlertChannels {
		for _, o := range AlertOutcomes {
			m.alertDeliveries.WithLabelValues(ch, o)
		}
	}
	for _, o := range importOutcomes {
		m.importAddresses.WithLabelValues(o)
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "bangui_build_info",
		Help:        "The panel's version; always 1.",
		ConstLabels: prometheus.Labels{"version": safeLabel(opts.Version)},
	})
	build.Set(1)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newCollector(opts.Sources, log),
		build, m.httpRequests, m.httpDuration,
		m.importRuns, m.importDuration, m.importAddresses, m.importLastEnd,
		m.alertDeliveries,
	)
	return m
}

// maxScrapesInFlight bounds concurrent scrapes; more are answered 503.
const maxScrapesInFlight = 4

// Handler serves the metrics in Prometheus's text format. With a token,
// a request without "Authorization: Bearer <token>" gets 401 (the token is
// compared in constant time). It does not compress: the panel's gzip
// middleware does on the panel's address.
func (m *Metrics) Handler() http.Handler {
	h := promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: maxScrapesInFlight,
		Timeout:             30 * time.Second,
		DisableCompression:  true,
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="bangui metrics"`)
			http.Error(w, "metrics need the bearer token set with --metrics-token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ListenerHandler is the handler of the separate metrics listener: the
// metrics at /metrics, 404 elsewhere.
func (m *Metrics) ListenerHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return mux
}

// authorized reports whether r may read the metrics.
func (m *Metrics) authorized(r *http.Request) bool {
	if !m.hasToken {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], m.tokenHash[:]) == 1
}

// importOutcomes are the outcome labels of bangui_blocklist_import_addresses_total.
var importOutcomes = []string{"imported", "already_banned", "skipped"}

// ImportFinished counts a blocklist import run that ended with progress p
// (blocklists.Options.OnFinish).
func (m *Metrics) ImportFinished(p models.ImportProgress) {
	if m == nil {
		return
	}
	trigger := string(p.StartedBy)
	switch p.StartedBy {
	case models.TriggerManual, models.TriggerSchedule, models.TriggerResume:
	default:
		trigger = otherLabel
	}
	result := "ok"
	if p.HasErrors() {
		result = "failed"
	}
	m.importRuns.WithLabelValues(trigger, result).Inc()
	if !p.StartedAt.IsZero() && !p.FinishedAt.IsZero() {
		m.importDuration.WithLabelValues(trigger).Observe(p.Elapsed(p.FinishedAt).Seconds())
		m.importLastEnd.WithLabelValues(result).Set(float64(p.FinishedAt.UnixMilli()) / 1000)
	}
	var imported, already, skipped int64
	for _, r := range p.Results {
		imported, already, skipped = imported+r.Imported, already+r.AlreadyBanned, skipped+r.Skipped
	}
	m.importAddresses.WithLabelValues("imported").Add(float64(imported))
	m.importAddresses.WithLabelValues("already_banned").Add(float64(already))
	m.importAddresses.WithLabelValues("skipped").Add(float64(skipped))
}

// AlertDelivery counts one alert message handed to a channel of the given
// kind (one of AlertChannels) with an outcome (one of AlertOutcomes);
// other values count as "other". The alert sender calls it.
func (m *Metrics) AlertDelivery(channel, outcome string) {
	if m == nil {
		return
	}
	m.alertDeliveries.WithLabelValues(oneOf(channel, AlertChannels), oneOf(outcome, AlertOutcomes)).Inc()
}

// oneOf is v when known holds it, else otherLabel.
func oneOf(v string, known []string) string {
	for _, k := range known {
		if v == k {
			return v
		}
	}
	return otherLabel
}
