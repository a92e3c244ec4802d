package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"bangui/jobs"
	"bangui/repo"
	"bangui/services"
	"bangui/services/alerts/rules"
	"bangui/services/setup"
)

// MaxHeaderBytes is the most request-line and header bytes the HTTP server
// reads; a larger request is refused with 431 before any handler runs.
const MaxHeaderBytes = 64 << 10

// Serve starts the background jobs and serves h on the configured address
// until ctx ends, then shuts down gracefully: requests in flight get
// ShutdownGrace, then the jobs stop. The caller closes the App afterwards.
func (a *App) Serve(ctx context.Context, h http.Handler) error {
	cfg, log := a.Config, a.Log
	srv := &http.Server{
		Addr:              cfg.Listen,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second, // event streams lift it for themselves
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(a.endStreams) // Shutdown does not wait for streams
	metricsSrv := a.metricsServer()
	background := a.startJobs()
	serveErr := make(chan error, 2)
	go func() {
		log.Info("BanGUI listening", "addr", "http://"+cfg.Listen+cfg.BasePath+"/", "data_dir", cfg.DataDir, "version", a.Version)
		serveErr <- srv.ListenAndServe()
	}()
	if metricsSrv != nil {
		go func() {
			log.Info("metrics listening", "addr", "http://"+cfg.MetricsListen+"/metrics")
			if err := metricsSrv.ListenAndServe(); err != http.ErrServerClosed {
				serveErr <- fmt.Errorf("metrics: %w", err)
			}
		}()
	}

	select {
	case err := <-serveErr:
		_ = srv.Close()
		if metricsSrv != nil {
			_ = metricsSrv.Close()
		}
		a.stopJobs()
		background.Wait()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(shutCtx) // scrapes are short; the panel's requests get the grace
	}
	err := srv.Shutdown(shutCtx)
	a.stopJobs()
	background.Wait()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// metricsServer is the separate metrics listener's server (--metrics-listen),
// nil when there is none.
func (a *App) metricsServer() *http.Server {
	if a.Metrics == nil || a.Config.MetricsListen == "" {
		return nil
	}
	return &http.Server{
		Addr:              a.Config.MetricsListen,
		Handler:           a.Metrics.ListenerHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
}

// startJobs starts the background work: finishing interrupted imports (once
// setup is done), the status probe, the archive sync, the geo cache's
// upkeep and the session cleanup. They run until Close or stopJobs.
//
// Panel processes sharing one database share the work that writes it:
// EveryOnce jobs run in the process holding their lease, the archive sync
// and its tail take one lease per host (ArchiveSync.Leases: the tail holds
// it while it runs) and the blocklist imports
// one of their own (blocklists.Options.Leases). What each process keeps in
// memory (status, geo cache and files) is its own to refresh.
func (a *App) startJobs() *jobs.Group {
	ctx, log := a.jobCtx, a.Log
	g := &jobs.Group{Leases: a.Leases}
	a.Blocklists.Start(ctx, a.setupDone)                                // after setup: ensure the jail, finish interrupted imports
	g.EveryOnce(ctx, "alert-delivery", 5*time.Second, a.Alerts.RunOnce) // queued alerts, grouped, with retries
	g.EveryOnce(ctx, "session-cleanup", 10*time.Minute, jobs.CleanupSessions(a.Sessions, log))
	g.Every(ctx, time.Minute, jobs.FollowBlocklistSchedule(a.Blocklists, log))
	g.Every(ctx, 30*time.Second, func(ctx context.Context) {
		// Hosts another panel process added, changed or removed first.
		if err := a.Fleet.Sync(ctx); err != nil {
			log.Warn("hosts", "err", err)
		}
		a.Status.Refresh(ctx)
	})
	g.Every(ctx, a.Config.ArchiveEvery, jobs.SyncArchive(a.ArchiveSync, log)) // the safety net of the tail
	g.Go(ctx, func(ctx context.Context) { a.ArchiveSync.Tail(ctx, services.DefaultTailEvery) })
	g.Go(ctx, a.History.Warm)                                               // the long dashboards' counts, ready for their first request
	g.Go(ctx, func(ctx context.Context) { a.TimedBans.Run(ctx, a.Leases) }) // chosen ban times: renewals and ends
	g.Every(ctx, 30*time.Second, jobs.FlushGeoCache(a.Geo, log))
	g.Every(ctx, time.Minute, jobs.RefreshGeoDatabases(a.Geo, log))
	g.EveryOnce(ctx, geoFillLease, time.Minute, jobs.FillArchiveCountries(a.Geo, log))
	g.EveryOnce(ctx, "geo-cache-cleanup", 24*time.Hour, jobs.CleanupGeoCache(a.Geo, log))
	// One panel process evaluates the alert rules; their alerts go to the
	// delivery queue.
	eval := &rules.Evaluator{Store: repo.NewAlertRuleStore(a.DB), Events: a.Events, Sink: a.Alerts, Log: log, State: a.Settings,
		Location: func(ctx context.Context) *time.Location {
			ps, err := setup.LoadPanelSettings(ctx, a.Settings)
			if err != nil || ps.Location == nil {
				return time.UTC
			}
			return ps.Location
		}}
	g.Go(ctx, func(ctx context.Context) { eval.RunLeased(ctx, a.Leases, services.DefaultLeaseTTL) })
	g.EveryOnce(ctx, "audit-retention", 24*time.Hour, jobs.PruneAuditLog(services.AuditRetention{Log: a.Audit, Settings: a.Settings}, log))
	return g
}

// geoFillLease names the lease of filling the archive's countries, by the
// job and after each archive sync.
const geoFillLease = "geo-fill"
