package services

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"bangui/models"
	"bangui/repo"
)

// SettingArchiveRetentionDays is how many days the archive keeps events.
const SettingArchiveRetentionDays = "archive_retention_days"

// DefaultArchiveRetention is the archive's retention when no setting exists.
const DefaultArchiveRetention = 365 * 24 * time.Hour

// ArchiveSync copies fail2ban's new ban rows into BanGUI's archive and
// purges archived events older than the retention.
type ArchiveSync struct {
	sources  *BanSources
	settings repo.Settings
	now      func() time.Time
	// AfterSync, when set, runs after each successful sync (for example to
	// fill in countries of the new rows).
	AfterSync func(ctx context.Context)
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

// Run syncs once. It fails when fail2ban's database cannot be read; the
// archive keeps what it has.
func (a *ArchiveSync) Run(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	reader, err := a.sources.Fail2banDB(ctx)
	if err != nil {
		return res, fmt.Errorf("archive sync: fail2ban's database: %w", err)
	}
	if res.Inserted, err = repo.SyncArchive(ctx, models.LocalHost, reader, a.sources.archive, a.settings); err != nil {
		return res, fmt.Errorf("archive sync: %w", err)
	}
	// A ban made from the panel is archived twice: by the panel at once and
	// by this sync from fail2ban's row. Fold the pairs of recent days.
	if _, err := a.sources.archive.MergeManualBans(ctx, a.now().Add(-repo.SyncOverlap)); err != nil {
		return res, err
	}
	if res.Purged, err = a.sources.archive.Purge(ctx, a.now().Add(-a.Retention(ctx))); err != nil {
		return res, fmt.Errorf("archive purge: %w", err)
	}
	if a.AfterSync != nil {
		a.AfterSync(ctx)
	}
	return res, nil
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
