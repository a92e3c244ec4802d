package services

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
}

// NewArchiveSync returns the sync use case.
func NewArchiveSync(sources *BanSources, settings repo.Settings) *ArchiveSync {
	return &ArchiveSync{sources: sources, settings: settings, now: time.Now}
}

// SyncResult says what one run did.
type SyncResult struct {
	Inserted int64
	Purged   int64
}

// Run syncs every host once, one after the other. It fails when a host's
// fail2ban database cannot be read, after syncing the others; the archive
// keeps what it has.
func (a *ArchiveSync) Run(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	var errs []error
	for _, h := range a.sources.hosts.All() {
		n, err := a.syncHost(ctx, h)
		res.Inserted += n
		if n > 0 {
			a.Events.Publish(events.Event{Topic: events.TopicArchive, Host: h.ID(), Data: events.ArchiveSynced{Inserted: n}})
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	archive := a.sources.archive
	// A ban made from the panel is archived twice: by the panel at once and
	// by this sync from fail2ban's row. Fold the pairs of recent days.
	if _, err := archive.MergeManualBans(ctx, a.now().Add(-repo.SyncOverlap)); err != nil {
		return res, err
	}
	var err error
	if res.Purged, err = archive.Purge(ctx, a.now().Add(-a.Retention(ctx))); err != nil {
		return res, fmt.Errorf("archive purge: %w", err)
	}
	if res.Purged > 0 {
		a.Events.Publish(events.Event{Topic: events.TopicArchive, Data: events.ArchiveSynced{Purged: res.Purged}})
	}
	if a.AfterSync != nil {
		a.AfterSync(ctx)
	}
	return res, nil
}

// syncHost copies one host's new rows and returns how many were new.
func (a *ArchiveSync) syncHost(ctx context.Context, h hosts.Host) (int64, error) {
	rows, err := h.BanRows(ctx)
	if err != nil {
		return 0, fmt.Errorf("archive sync: %s: fail2ban's database: %w", h.ID(), err)
	}
	n, err := repo.SyncArchive(ctx, h.ID(), rows, a.sources.archive, a.settings)
	if err != nil {
		return n, fmt.Errorf("archive sync: %s: %w", h.ID(), err)
	}
	return n, nil
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
