// Command bangui serves a web panel to monitor, manage and configure fail2ban.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work on hosts without /usr/share/zoneinfo

	"bangui/assets"
	"bangui/config"
	"bangui/demo"
	"bangui/handlers"
	"bangui/hosts"
	"bangui/jobs"
	"bangui/repo"
	"bangui/services"
	"bangui/services/blocklists"
	"bangui/services/configuration"
	"bangui/services/setup"
)

//go:generate go tool templ generate -path views

// Version is the panel's version, set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		if errors.Is(err, config.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bangui:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "demo" {
		return runDemo(ctx, args[1:])
	}
	cfg, err := config.LoadFromOS(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, cfg, log)
}

// runDemo is "bangui demo": a private fail2ban with synthetic attacks and
// the panel, served by serve like the real thing (see package demo).
func runDemo(ctx context.Context, args []string) error {
	cfg, opts, err := demo.Load(args, os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts.Serve, opts.Logger, opts.Out = serve, log, os.Stdout
	return demo.Run(ctx, cfg, opts)
}

// serve runs the panel until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	db, err := repo.Open(ctx, repo.Options{DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	defer db.Close()

	sessions := repo.NewSessionStore(db)
	settings := repo.NewSettingsStore(db)
	ps, err := setup.LoadPanelSettings(ctx, settings)
	if err != nil {
		return err
	}
	socket, confDir := cfg.Socket, cfg.ConfigDir
	if ps.Socket != "" {
		socket, confDir = ps.Socket, ps.ConfigDir
	}
	registry := hosts.NewRegistry(hosts.NewLocal(handlers.LocalHostOptions(cfg, socket, confDir)))
	defer registry.Close()
	status := services.NewStatusProbe(registry)
	set, err := assets.New()
	if err != nil {
		return fmt.Errorf("assets: %w", err)
	}
	archive := repo.NewHistoryArchive(db)
	sources := services.NewBanSources(registry, archive)
	jails := services.NewJails(registry, status, archive)
	lists := blocklists.New(blocklists.Stores{Sources: repo.NewBlocklistStore(db), Logs: repo.NewImportLogStore(db),
		Runs: repo.NewImportRunStore(db), Settings: settings}, registry, status, blocklists.Options{Logger: log})
	archiveSync := services.NewArchiveSync(sources, settings)
	geo := services.OpenGeo(services.GeoConfig{CountryDB: cfg.GeoCountryDB, ASNDB: cfg.GeoASNDB, OnlineURL: cfg.GeoOnline},
		repo.NewGeoCacheStore(db), settings, archive, log)
	defer geo.Close() // after the jobs stop: writes the cache's last answers
	archiveSync.AfterSync = func(ctx context.Context) { geo.FillArchive(ctx) }
	e, _, err := handlers.New(ctx, handlers.Deps{
		Config:        cfg,
		DB:            db,
		Sessions:      sessions,
		Hosts:         registry,
		Status:        status,
		Jails:         jails,
		History:       services.NewHistory(sources, jails),
		Blocklists:    lists,
		Geo:           geo,
		Configuration: configuration.New(registry, status, configuration.Options{}),
		Assets:        set,
		Logger:        log,
		Version:       Version,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              cfg.Listen,
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    handlers.MaxHeaderBytes,
	}

	jobCtx, stopJobs := context.WithCancel(context.Background())
	var background jobs.Group
	blocklistJobs, err := jobs.NewBlocklistScheduler(jobCtx, lists.RunScheduled, log)
	if err != nil {
		stopJobs()
		return err
	}
	defer lists.Wait() // runs after stopJobs: imports stop and resume at the next start
	defer func() { _ = blocklistJobs.Shutdown() }()
	lists.UseScheduler(blocklistJobs)
	if err := lists.ApplySchedule(ctx); err != nil {
		log.Warn("blocklist schedule", "err", err)
	}
	lists.Start(jobCtx, ps.Socket != "") // after setup: ensure the jail, finish interrupted imports
	background.Every(jobCtx, 10*time.Minute, jobs.CleanupSessions(sessions, log))
	background.Every(jobCtx, 30*time.Second, func(ctx context.Context) { status.Refresh(ctx) })
	background.Every(jobCtx, cfg.ArchiveEvery, jobs.SyncArchive(archiveSync, log))
	background.Every(jobCtx, 30*time.Second, jobs.FlushGeoCache(geo, log))
	background.Every(jobCtx, time.Minute, jobs.FillArchiveCountries(geo, log))
	background.Every(jobCtx, 24*time.Hour, jobs.CleanupGeoCache(geo, log))

	serveErr := make(chan error, 1)
	go func() {
		log.Info("BanGUI listening", "addr", "http://"+cfg.Listen+cfg.BasePath+"/", "data_dir", cfg.DataDir, "version", Version)
		serveErr <- srv.ListenAndServe()
	}()

	select {
	case err := <-serveErr:
		stopJobs()
		background.Wait()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	stopJobs()
	background.Wait()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
