package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"sync"
	"time"

	"bangui/events"
	"bangui/hosts"
	"bangui/repo"
)

// SettingArchiveRetentionDays is how many days the archive keeps events.
const SettingArchiveRetentionDays = "archive_retention_days"

// DefaultArchiveRetention is the archive's retention when no setting exists.
const DefaultArchiveRetention = 365 * 24 * time.Hour

// ArchiveSync copies the new ban rows of every host's fail2ban database
// into BanGUI's archive and purges archived events older than the
// retention.
type ArchiveSync struct {
	sources  *BanSources
	settings repo.Settings
	now      func() time.Time
	// AfterSync, when set, runs after each successful sync (for example to
	// fill in countries of the new rows).
	AfterSync func(ctx context.Context)
	// Events, when set, receives a TopicArchive event for each host whose
	// sync stored new events, and one without a host when a purge removed some.
	Events *events.Broker
	// Leases, when set, give each host's sync, and the merge and purge
	// after them, to one panel process among those sharing the database;
	// the others skip that part. Turn is how long a process keeps a part
	// after running it (the sync interval: it takes its next turn itself).
	Leases *Leases
	Turn   time.Duration
	// Countries, when set, fills at once the countries of the rows a sync
	// of a host copied, before their TopicArchive event is published.
	Countries CountryFiller
	// Log receives the tail's warnings; nil is slog.Default().
	Log *slog.Logger

	hostLocks sync.Map // host id → chan struct{} (one slot), see lockHost

	caughtUpMu sync.Mutex
	caughtUp   map[string]time.Time // see CaughtUp
}

// CountryFiller stores the countries of the given addresses on their
// archived events that have none yet (*Geo has it).
type CountryFiller interface {
	FillCountriesOf(ctx context.Context, ips []string) (int64, error)
}

func (a *ArchiveSync) log() *slog.Logger {
	if a.Log == nil {
		return slog.Default()
	}
	return a.Log
}

// archiveLease names the lease of one host's archive sync.
func archiveLease(host string) string { return "archive-sync/" + host }

// archivePurgeLease names the lease of the merge and purge after the syncs.
const archivePurgeLease = "archive-purge"

// NewArchiveSync returns the sync use case.
func NewArchiveSync(sources *BanSources, settings repo.Settings) *ArchiveSync {
	return &ArchiveSync{sources: sources, settings: settings, now: time.Now}
}

// SyncResult says what one run did.
type SyncResult struct {
	Inserted int64
	Purged   int64
}

// Run syncs every host once, one after the other, skipping the hosts whose
// lease another panel process holds. It fails when a host's fail2ban
// database cannot be read, after syncing the others; the archive keeps
// what it has.
func (a *ArchiveSync) Run(ctx context.Context) (SyncResult, error) {
	var (
		mu   sync.Mutex
		res  SyncResult
		errs []error
		wg   sync.WaitGroup
		slot = make(chan struct{}, syncParallel)
	)
	// Hosts are synced side by side, so that a slow or dead agent delays
	// only its own rows; a host that fails stops nothing else.
	for _, h := range a.sources.hosts.All() {
		wg.Go(func() {
			slot <- struct{}{}
			defer func() { <-slot }()
			a.Leases.Turn(ctx, archiveLease(h.ID()), a.Turn, func(ctx context.Context) {
				start := a.now()
				n, err := a.syncHost(ctx, h)
				if err == nil {
					a.setCaughtUp(h.ID(), start)
				}
				mu.Lock()
				defer mu.Unlock()
				res.Inserted += n
				if err != nil {
					errs = append(errs, err)
				}
			})
		})
	}
	wg.Wait()
	var err error
	a.Leases.Turn(ctx, archivePurgeLease, a.Turn, func(ctx context.Context) {
		res.Purged, err = a.mergeAndPurge(ctx)
	})
	return res, errors.Join(append(errs, err)...)
}

// syncParallel is how many hosts one sync reads at once.
const syncParallel = 4

// mergeAndPurge folds the twins of panel bans, purges events older than
// the retention and runs AfterSync; it returns how many events it purged.
func (a *ArchiveSync) mergeAndPurge(ctx context.Context) (purged int64, err error) {
	archive := a.sources.archive
	// A ban made from the panel is archived twice: by the panel at once and
	// by this sync from fail2ban's row. Fold the pairs of recent days.
	if _, err := archive.MergeManualBans(ctx, a.now().Add(-repo.SyncOverlap)); err != nil {
		return 0, err
	}
	if purged, err = archive.Purge(ctx, a.now().Add(-a.Retention(ctx))); err != nil {
		return 0, fmt.Errorf("archive purge: %w", err)
	}
	if purged > 0 {
		a.Events.Publish(events.Event{Topic: events.TopicArchive, Data: events.ArchiveSynced{Purged: purged}})
	}
	if a.AfterSync != nil {
		a.AfterSync(ctx)
	}
	return purged, nil
}

// SyncHost copies the new rows of one host into the archive now, whichever
// panel process holds the host's lease: for a request about to make
// fail2ban delete rows (an unban), so that they are archived first. It
// waits for a sync of the host running in this process, and returns how
// many events were new.
func (a *ArchiveSync) SyncHost(ctx context.Context, host string) (int64, error) {
	h, err := a.sources.hosts.Get(host)
	if err != nil {
		return 0, fmt.Errorf("archive sync: %w", err)
	}
	return a.syncHost(ctx, h)
}

// syncHost copies one host's new rows and returns how many were new.
func (a *ArchiveSync) syncHost(ctx context.Context, h hosts.Host) (int64, error) {
	rows, err := h.BanRows(ctx)
	if err != nil {
		return 0, fmt.Errorf("archive sync: %s: fail2ban's database: %w", h.ID(), err)
	}
	return a.syncRows(ctx, h.ID(), rows)
}

// syncRows copies host's new rows from src (one sync of a host at a time
// in this process), fills their countries and, when some were new,
// publishes a TopicArchive event; it returns how many were new.
func (a *ArchiveSync) syncRows(ctx context.Context, host string, src repo.BanRowSource) (int64, error) {
	unlock, err := a.lockHost(ctx, host)
	if err != nil {
		return 0, fmt.Errorf("archive sync: %s: %w", host, err)
	}
	defer unlock()
	read := newReadIPs(src)
	n, err := repo.SyncArchive(ctx, host, read, a.sources.archive, a.settings)
	a.archived(ctx, host, read, n)
	if err != nil {
		return n, fmt.Errorf("archive sync: %s: %w", host, err)
	}
	return n, nil
}

// CaughtUp returns, for each host this process archives (holding its
// lease: the tail, or Run's turn), when a sync last read the host's
// fail2ban database to its newest row: the archive is at most now minus
// that behind fail2ban. A host another panel process archives is not
// listed; SyncHost, which any process may run, records nothing.
func (a *ArchiveSync) CaughtUp() map[string]time.Time {
	a.caughtUpMu.Lock()
	defer a.caughtUpMu.Unlock()
	return maps.Clone(a.caughtUp)
}

// setCaughtUp records that host's archive held every row of its fail2ban
// database at t; the zero t forgets the host (this process stopped
// archiving it).
func (a *ArchiveSync) setCaughtUp(host string, t time.Time) {
	a.caughtUpMu.Lock()
	defer a.caughtUpMu.Unlock()
	if t.IsZero() {
		delete(a.caughtUp, host)
		return
	}
	if a.caughtUp == nil {
		a.caughtUp = map[string]time.Time{}
	}
	a.caughtUp[host] = t
}

// archived fills the countries of the n events of host just archived from
// read (when a CountryFiller is set) and then publishes them.
func (a *ArchiveSync) archived(ctx context.Context, host string, read *readIPs, n int64) {
	if n == 0 {
		return
	}
	if a.Countries != nil && !read.full {
		if _, err := a.Countries.FillCountriesOf(ctx, read.list()); err != nil {
			a.log().Warn("archive sync: countries of new events", "host", host, "err", err)
		}
	}
	a.Events.Publish(events.Event{Topic: events.TopicArchive, Host: host, Data: events.ArchiveSynced{Inserted: n}})
}

// Retention is how long archived events are kept.
func (a *ArchiveSync) Retention(ctx context.Context) time.Duration {
	v, err := a.settings.Get(ctx, SettingArchiveRetentionDays)
	if err != nil {
		return DefaultArchiveRetention
	}
	days, err := strconv.Atoi(v)
	if err != nil || days < 1 {
		return DefaultArchiveRetention
	}
	return time.Duration(days) * 24 * time.Hour
}
