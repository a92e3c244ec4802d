package jobs

import (
	"context"
	"log/slog"

	"bangui/services"
)

// SyncArchive returns a job that copies fail2ban's new bans into the archive.
func SyncArchive(sync *services.ArchiveSync, log *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		res, err := sync.Run(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("archive sync failed", "err", err)
		case res.Inserted > 0 || res.Purged > 0:
			log.Info("archive synced", "new", res.Inserted, "purged", res.Purged)
		}
	}
}
