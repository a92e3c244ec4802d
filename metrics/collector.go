package metrics

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"bangui/models"
	"bangui/services"
)

// Sources are what the collector reads at each scrape. Each may be nil:
// its metrics are then left out.
type Sources struct {
	Status   StatusSnapshot
	Archive  ArchiveSummary
	CaughtUp ArchiveProgress
}

// StatusSnapshot is the status probe's cached state (*services.StatusProbe):
// reading it asks no fail2ban host anything.
type StatusSnapshot interface {
	Snapshot() []services.HostSnapshot
}

// ArchiveSummary counts the archive's rows (repo.HistoryArchive).
type ArchiveSummary interface {
	Summary(ctx context.Context) (models.BansSummary, error)
}

// ArchiveProgress says when each host's archive last held every row of its
// fail2ban database (*services.ArchiveSync).
type ArchiveProgress interface {
	CaughtUp() map[string]time.Time
}

// rowsEvery is how long the archive's row count is reused between scrapes:
// counting a big SQLite archive reads its whole index.
const rowsEvery = 30 * time.Second

// rowsTimeout bounds one count of the archive's rows.
const rowsTimeout = 5 * time.Second

// collector turns the sources into metrics at each scrape.
type collector struct {
	src Sources
	log *slog.Logger
	now func() time.Time

	up, info, jailBanned, jailFailed, jailBans, jailFailures *prometheus.Desc
	archiveRows, archiveLag                                  *prometheus.Desc

	mu       sync.Mutex
	rows     float64
	rowsOK   bool
	rowsRead time.Time
}

func newCollector(src Sources, log *slog.Logger) *collector {
	hostJail := []string{"host", "jail"}
	return &collector{src: src, log: log, now: time.Now,
		up: prometheus.NewDesc("bangui_fail2ban_up",
			"Whether the host's fail2ban answered the panel's last status check (1) or not (0).", []string{"host"}, nil),
		info: prometheus.NewDesc("bangui_fail2ban_info",
			"The version of the host's fail2ban, while it answers; always 1.", []string{"host", "version"}, nil),
		jailBanned: prometheus.NewDesc("bangui_fail2ban_jail_banned",
			"Addresses the jail bans now, as fail2ban reported at the last status check.", hostJail, nil),
		jailFailed: prometheus.NewDesc("bangui_fail2ban_jail_failed",
			"Addresses with failures the jail counts now, as fail2ban reported at the last status check.", hostJail, nil),
		jailBans: prometheus.NewDesc("bangui_fail2ban_jail_bans_total",
			"Bans of the jail since fail2ban started (fail2ban's own total; it restarts from 0 with fail2ban).", hostJail, nil),
		jailFailures: prometheus.NewDesc("bangui_fail2ban_jail_failures_total",
			"Failures the jail counted since fail2ban started (fail2ban's own total; it restarts from 0 with fail2ban).", hostJail, nil),
		archiveRows: prometheus.NewDesc("bangui_archive_rows",
			"Events in the panel's ban archive, every host together.", nil, nil),
		archiveLag: prometheus.NewDesc("bangui_archive_lag_seconds",
			"How far the archive may be behind the host's fail2ban database: seconds since a sync last read it to its newest row. Only the panel process archiving the host reports it.", []string{"host"}, nil),
	}
}

// Describe sends every descriptor the collector uses.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.info, c.jailBanned, c.jailFailed, c.jailBans, c.jailFailures, c.archiveRows, c.archiveLag} {
		ch <- d
	}
}

// Collect reads the sources: the probe's cache, the archive's row count
// (reused for rowsEvery) and the archive's progress.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Status != nil {
		for _, h := range c.src.Status.Snapshot() {
			c.collectHost(ch, h)
		}
	}
	if c.src.Archive != nil {
		if rows, ok := c.archiveRowCount(); ok {
			ch <- prometheus.MustNewConstMetric(c.archiveRows, prometheus.GaugeValue, rows)
		}
	}
	if c.src.CaughtUp != nil {
		now := c.now()
		for host, t := range c.src.CaughtUp.CaughtUp() {
			ch <- prometheus.MustNewConstMetric(c.archiveLag, prometheus.GaugeValue, max(0, now.Sub(t).Seconds()), safeLabel(host))
		}
	}
}

func (c *collector) collectHost(ch chan<- prometheus.Metric, h services.HostSnapshot) {
	host := safeLabel(h.Host)
	up := 0.0
	if h.Status.Online {
		up = 1
		ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, host, safeLabel(h.Status.Version))
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, host)
	seen := make(map[string]bool, len(h.Jails))
	for _, j := range h.Jails {
		jail := safeLabel(j.Name)
		if seen[jail] { // two names made the same by safeLabel: keep the first
			continue
		}
		seen[jail] = true
		ch <- prometheus.MustNewConstMetric(c.jailBanned, prometheus.GaugeValue, float64(j.CurrentlyBanned), host, jail)
		ch <- prometheus.MustNewConstMetric(c.jailFailed, prometheus.GaugeValue, float64(j.CurrentlyFailed), host, jail)
		ch <- prometheus.MustNewConstMetric(c.jailBans, prometheus.CounterValue, float64(j.TotalBanned), host, jail)
		ch <- prometheus.MustNewConstMetric(c.jailFailures, prometheus.CounterValue, float64(j.TotalFailed), host, jail)
	}
}

// archiveRowCount returns the archive's row count, counted at most once
// per rowsEvery; ok is false when it could not be counted.
func (c *collector) archiveRowCount() (rows float64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.rowsRead.IsZero() || now.Sub(c.rowsRead) >= rowsEvery {
		ctx, cancel := context.WithTimeout(context.Background(), rowsTimeout)
		defer cancel()
		sum, err := c.src.Archive.Summary(ctx)
		if err != nil {
			c.log.Warn("metrics: counting the archive", "err", err)
		}
		c.rows, c.rowsOK, c.rowsRead = float64(sum.Rows), err == nil, now
	}
	return c.rows, c.rowsOK
}

// maxLabelLen bounds a label value taken from a name.
const maxLabelLen = 64

// safeLabel is v as a label value: valid UTF-8 cut to maxLabelLen bytes,
// and "invalid" when it reads as an IP address or range (a jail or host
// could be named like one; no address may appear in a label).
func safeLabel(v string) string {
	if _, err := netip.ParseAddr(v); err == nil {
		return "invalid"
	}
	if _, err := netip.ParsePrefix(v); err == nil {
		return "invalid"
	}
	if len(v) > maxLabelLen {
		v = v[:maxLabelLen]
	}
	return strings.ToValidUTF8(v, "")
}
