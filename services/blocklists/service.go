// Package blocklists is the use case behind the blocklist page: list
// sources, their download and parsing, imports that ban the listed
// addresses in the managed jail (idempotent, resumable, with progress), the
// jail itself, the import schedule and the import log.
package blocklists

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"bangui/events"
	"bangui/hosts"
	"bangui/lang"
	"bangui/models"
	"bangui/repo"
	"bangui/services"
)

// Field names of the blocklist forms, used in *services.ValidationError.
const (
	FieldSourceName = "name"
	FieldSourceURL  = "url"
	FieldFrequency  = "frequency"
	FieldTime       = "time"
	FieldWeekday    = "weekday"
	FieldHosts      = "hosts"
)

// MaxSourceNameLen is the longest source name accepted, in characters.
const MaxSourceNameLen = 100

// Blocklist defaults.
const (
	DefaultImportBatch      = 500
	DefaultBanCallTimeout   = 10 * time.Minute
	DefaultPreviewBytes     = 256 << 10
	DefaultPreviewSample    = 15
	DefaultPreviewAttempts  = 2
	defaultImportLogTimeout = 10 * time.Second
)

// ErrImportRunning is returned when an import is asked for while one runs.
var ErrImportRunning = errors.New("an import is already running")

// ErrImportRunningElsewhere is returned when another panel process sharing
// the database runs an import; it is also an ErrImportRunning.
var ErrImportRunningElsewhere = fmt.Errorf("%w in another panel process", ErrImportRunning)

// Scheduler runs imports on the blocklist schedule (jobs implements it).
type Scheduler interface {
	// Apply replaces the schedule; times are in loc.
	Apply(s models.BlocklistSchedule, loc *time.Location) error
	// NextRun is the time of the next scheduled run, zero when none.
	NextRun() time.Time
}

// Stores are the repositories the blocklist use case reads and writes.
type Stores struct {
	Sources  repo.Blocklists // the list sources
	Logs     repo.ImportLogs // one entry per source and run
	Runs     repo.ImportRuns // runs by content, with the progress of pending ones
	Settings repo.Settings   // the schedule and the panel's time zone
}

// Options tune Service; zero values take the defaults.
type Options struct {
	Downloader     Downloader
	BatchSize      int           // addresses per banip call; default DefaultImportBatch
	BanCallTimeout time.Duration // limit of one banip call; default DefaultBanCallTimeout
	PreviewBytes   int64         // how much of a list the preview reads; default DefaultPreviewBytes
	Logger         *slog.Logger
	// OnBatch, when set, is called after each batch of a run is banned and
	// recorded, with the run's progress. It must not block.
	OnBatch func(runID, done, total int64)
	// Events, when set, receives a TopicImport event with the progress
	// whenever a run starts, moves on or ends.
	Events *events.Broker
	// OnFinish, when set, is called with the final progress each time a
	// run ends (metrics count the runs). It must not block.
	OnFinish func(p models.ImportProgress)
	// Leases, when set, keep imports of panel processes that share the
	// database from running at once, and scheduled imports to one process.
	Leases *services.Leases
}

// Service is the use case behind /blocklists: sources, preview, imports
// with progress, idempotent re-runs and resumption, the managed jail, the
// schedule and the import log.
type Service struct {
	sources  repo.Blocklists
	logs     repo.ImportLogs
	runs     repo.ImportRuns
	settings repo.Settings
	hosts    *hosts.Registry
	probe    *services.StatusProbe
	opts     Options
	log      *slog.Logger
	now      func() time.Time

	running chan struct{} // holds one token while an import runs
	wg      sync.WaitGroup

	mu        sync.Mutex
	bg        context.Context // lifetime of background imports
	progress  models.ImportProgress
	jailMsg   map[string]lang.Message // why the last EnsureJail failed, by host
	sched     Scheduler
	applied   string                     // schedule and zone last handed to sched
	lastSched *models.ImportBatchSummary // cached for the navigation badge
	lastKnown bool
	touched   []string // hosts the current run bans on, refreshed when it ends
}

// New wires the blocklist use case on the stores. Imports ban in the
// blocklist jail of each source's target hosts of reg (the local host by
// default).
func New(st Stores, reg *hosts.Registry, probe *services.StatusProbe, opts Options) *Service {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultImportBatch
	}
	if opts.BanCallTimeout <= 0 {
		opts.BanCallTimeout = DefaultBanCallTimeout
	}
	if opts.PreviewBytes <= 0 {
		opts.PreviewBytes = DefaultPreviewBytes
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Service{
		sources: st.Sources, logs: st.Logs, runs: st.Runs, settings: st.Settings,
		hosts: reg, probe: probe, opts: opts, log: log, now: time.Now,
		running: make(chan struct{}, 1), bg: context.Background(), jailMsg: map[string]lang.Message{},
	}
}

// importHost is the host imports ban on unless a source chooses others
// (models.BlocklistSource.Hosts).
const importHost = models.LocalHost

// ImportLog returns one page of the import log, newest first, of one
// source or of all (sourceID 0).
func (b *Service) ImportLog(ctx context.Context, sourceID int64, page models.Page) ([]models.ImportLog, int64, error) {
	var id *int64
	if sourceID != 0 {
		id = &sourceID
	}
	return b.logs.List(ctx, id, page)
}

// Progress returns the state of the current or last import run.
func (b *Service) Progress() models.ImportProgress {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.progress
	p.Results = append([]models.ImportSourceResult(nil), p.Results...)
	return p
}
