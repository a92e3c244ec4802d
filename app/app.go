// Package app is BanGUI's one wiring: Build opens the panel's database,
// the fail2ban hosts, the event broker, the services and the blocklist
// scheduler from a Config. main, the demo and the handlers' tests all build
// the panel here; handlers.New turns an App into routes, and Serve adds the
// background jobs and the HTTP server.
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/uptrace/bun"

	"bangui/config"
	"bangui/events"
	"bangui/hosts"
	"bangui/jobs"
	"bangui/metrics"
	"bangui/repo"
	"bangui/services"
	"bangui/services/alerts"
	"bangui/services/allowlist"
	"bangui/services/blocklists"
	"bangui/services/bulk"
	"bangui/services/configuration"
	"bangui/services/fleet"
	"bangui/services/setup"
)

// Options are what Build needs besides the Config.
type Options struct {
	Logger  *slog.Logger // default slog.Default()
	Version string       // shown in the footer and the log
	// Scheduler options go to the blocklist scheduler (tests pass a fake
	// clock with gocron.WithClock).
	Scheduler []gocron.SchedulerOption
}

// App is a built panel. Its fields are the pieces main, the demo and tests
// reach for; Close releases them.
type App struct {
	Config  config.Config
	Log     *slog.Logger
	Version string
	DB      *bun.DB // the panel's own database (SQLite, or PostgreSQL with --database)
	Events  *events.Broker
	Hosts   *hosts.Registry

	Settings    repo.Settings
	Setup       *setup.Service
	Sessions    *repo.SessionStore
	Status      *services.StatusProbe
	Jails       *services.Jails
	TimedBans   *services.TimedBans // bans for a chosen time, kept by startJobs
	History     *services.History
	ArchiveSync *services.ArchiveSync
	Blocklists  *blocklists.Service
	// Bulk runs actions on many selected bans. Its allow-list action is
	// nil (not offered) until that service exists.
	Bulk          *bulk.Service
	Geo           *services.Geo
	Configuration *configuration.Service
	// AllowList keeps each host's allow-list (the /allowlist page).
	AllowList *allowlist.AllowList
	// Leases share the scheduled work among the panel processes on one
	// database (see startJobs); its holder id is this process's.
	Leases *services.Leases
	Fleet  *fleet.Service
	// Users are the panel's accounts; Accounts the use case on them.
	Users    *repo.UserStore
	Accounts *services.Accounts
	// Tokens are the API's personal access tokens.
	Tokens *repo.TokenStore
	// SecondFactors are the accounts' authenticator apps and recovery codes.
	SecondFactors *services.SecondFactors
	// Passkeys are the accounts' WebAuthn credentials.
	Passkeys *repo.PasskeyStore
	// Audit is the append-only audit log; nil records nothing.
	Audit repo.AuditLog
	// Metrics is the Prometheus exposition; nil while metrics are off
	// (neither --metrics-listen nor --metrics-token).
	Metrics *metrics.Metrics
	// Alerts queues and delivers alert messages (the rules' Sink).
	Alerts *alerts.Delivery

	setupDone bool // setup was complete when the panel was built
	scheduler *jobs.BlocklistScheduler
	jobCtx    context.Context    // the scheduler's and the jobs' context
	stopJobs  context.CancelFunc // ends jobCtx
	// streamCtx ends when the HTTP server starts shutting down (or at
	// Close): long-lived event streams end with it, since http.Server's
	// Shutdown waits for them otherwise.
	streamCtx  context.Context
	endStreams context.CancelFunc
	closers    []func() error // in the order they run
}

// Build wires the panel for cfg. Nothing runs in the background yet but
// the blocklist scheduler, which waits for its first scheduled time; call
// Close when done.
func Build(ctx context.Context, cfg config.Config, opts Options) (_ *App, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	jobCtx, stopJobs := context.WithCancel(context.Background())
	a := &App{Config: cfg, Log: log, Version: opts.Version, Events: events.New(), jobCtx: jobCtx, stopJobs: stopJobs}
	a.streamCtx, a.endStreams = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			a.Close() // what was opened before the failure
		}
	}()

	if a.DB, err = repo.Open(ctx, repo.Options{DataDir: cfg.DataDir, URL: cfg.Database}); err != nil {
		return nil, err
	}
	a.onClose(a.DB.Close)
	settings := repo.NewSettingsStore(a.DB)
	a.Sessions, a.Users = repo.NewSessionStore(a.DB), repo.NewUserStore(a.DB)
	a.Accounts = services.NewAccounts(a.Users, a.Sessions, settings)
	a.Settings, a.Setup = settings, setup.New(settings, a.Accounts)
	// An installation from before accounts gets the account admin now.
	if _, err := a.Accounts.AdoptMasterPassword(ctx); err != nil {
		return nil, err
	}
	ps, err := setup.LoadPanelSettings(ctx, settings)
	if err != nil {
		return nil, err
	}
	a.setupDone = ps.Socket != ""
	socket, confDir := cfg.Socket, cfg.ConfigDir
	if a.setupDone {
		socket, confDir = ps.Socket, ps.ConfigDir
	}
	a.Hosts = hosts.NewRegistry(hosts.NewLocal(LocalHostOptions(cfg, socket, confDir)))
	a.onClose(a.Hosts.Close)

	a.Leases = services.NewLeases(repo.NewLeases(a.DB), services.DefaultLeaseTTL, log)
	a.onClose(func() error { // after the jobs and imports stopped: the other replica takes over at once
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return a.Leases.Close(ctx)
	})
	archive := repo.NewHistoryArchive(a.DB)
	sources := services.NewBanSources(a.Hosts, archive)
	a.Status = services.NewStatusProbe(a.Hosts)
	a.Status.Events = a.Events
	a.Tokens = repo.NewTokenStore(a.DB)
	a.SecondFactors = services.NewSecondFactors(repo.NewFactorStore(a.DB), settings)
	// Every enabled remote host joins the registry; one that cannot be set
	// up stays listed on the Hosts page with its reason.
	a.Audit = repo.NewAuditStore(a.DB)
	a.Passkeys = repo.NewPasskeyStore(a.DB)
	a.Fleet = fleet.New(repo.NewHostStore(a.DB), a.Hosts, a.Status, log)
	if err := a.Fleet.Load(ctx); err != nil {
		return nil, err
	}
	a.Jails = services.NewJails(a.Hosts, a.Status, archive)
	a.Status.OnJails = a.Jails.KeepCurrent
	a.History = services.NewHistory(sources, a.Jails)
	a.ArchiveSync = services.NewArchiveSync(sources, settings)
	a.Jails.Preserver = a.ArchiveSync // every unban archives fail2ban's rows first
	a.Jails.Events = a.Events         // the live per-IP pages hear the panel's unbans
	a.TimedBans = services.NewTimedBans(a.Hosts, a.Jails, repo.NewTimedBans(a.DB), log)
	a.Configuration = configuration.New(a.Hosts, a.Status, configuration.Options{})
	a.Configuration.Preserver = a.ArchiveSync
	a.AllowList = allowlist.New(a.Hosts, a.Configuration, repo.NewAllowStore(a.DB), a.Jails)
	a.AllowList.Audit = a.Audit
	a.Geo = services.OpenGeo(services.GeoConfig{CountryDB: cfg.GeoCountryDB, ASNDB: cfg.GeoASNDB, OnlineURL: cfg.GeoOnline},
		repo.NewGeoCacheStore(a.DB), settings, archive, log)
	a.onClose(a.Geo.Close) // after the jobs stop: writes the cache's last answers
	a.ArchiveSync.Leases, a.ArchiveSync.Turn = a.Leases, cfg.ArchiveEvery+services.DefaultLeaseTTL
	a.ArchiveSync.AfterSync = func(ctx context.Context) {
		a.Leases.Run(ctx, geoFillLease, func(ctx context.Context) { a.Geo.FillArchive(ctx) })
	}
	a.ArchiveSync.Events = a.Events
	a.ArchiveSync.Countries, a.ArchiveSync.Log = a.Geo, log
	if cfg.MetricsOn() {
		a.Metrics = metrics.New(metrics.Options{Token: cfg.MetricsToken, Version: opts.Version, Logger: log,
			Sources: metrics.Sources{Status: a.Status, Archive: archive, CaughtUp: a.ArchiveSync}})
	}

	a.Alerts = alerts.NewDelivery(repo.NewAlertStore(a.DB), alerts.Options{Metrics: a.Metrics, Logger: log})

	a.Blocklists = blocklists.New(blocklists.Stores{Sources: repo.NewBlocklistStore(a.DB), Logs: repo.NewImportLogStore(a.DB),
		Runs: repo.NewImportRunStore(a.DB), Settings: settings}, a.Hosts, a.Status, blocklists.Options{Logger: log, Events: a.Events, Leases: a.Leases,
		OnFinish: a.Metrics.ImportFinished})
	a.onClose(func() error { a.Blocklists.Wait(); return nil }) // imports stop and resume at the next start
	// Bulk actions on many selected bans; the allow-list and timed bans are
	// wired in when their services exist (nil: those actions are not offered).
	a.Bulk = bulk.New(jobCtx, a.Jails, a.AllowList, a.TimedBans)
	a.onClose(func() error { a.Bulk.Wait(); return nil }) // a running job stops between batches
	if a.scheduler, err = jobs.NewBlocklistScheduler(jobCtx, a.Blocklists.RunScheduled, log, opts.Scheduler...); err != nil {
		return nil, err
	}
	a.onClose(a.scheduler.Shutdown)
	a.Blocklists.UseScheduler(a.scheduler)
	if err := a.Blocklists.ApplySchedule(ctx); err != nil {
		log.Warn("blocklist schedule", "err", err)
	}

	return a, nil
}

// LocalHostOptions describe the local fail2ban host from the command-line
// settings, on the socket and configuration directory in use (setup may
// have chosen others than the flags).
func LocalHostOptions(cfg config.Config, socket, configDir string) hosts.LocalOptions {
	return hosts.LocalOptions{Socket: socket, ConfigDir: configDir, ClientPath: cfg.ClientPath,
		RegexPath: cfg.RegexPath, LogDirs: cfg.LogDirs, RestartCommand: cfg.RestartCommand, DBPath: cfg.Fail2banDB}
}

// onClose registers fn to run at Close, before the functions registered
// earlier (last opened, first closed).
func (a *App) onClose(fn func() error) { a.closers = append(a.closers, fn) }

// StreamContext ends when the panel stops serving: long-lived responses
// (live pages' event streams) end with it.
func (a *App) StreamContext() context.Context { return a.streamCtx }

// Close stops the scheduler and the jobs' context, then closes everything
// Build opened, last opened first. It is safe to call once after Build
// failed half-way.
func (a *App) Close() error {
	a.endStreams()
	a.stopJobs()
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}
