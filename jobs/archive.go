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
		case err != nil && ctx.Err() != nil:
			// Shutdown: each batch and its cursor are saved, so the next
			// start goes on from the last batch.
			log.Info("archive sync stopped by shutdown; the next start goes on from here", "new", res.Inserted)
		case err != nil:
			log.Warn("archive sync failed", "err", err, "new", res.Inserted)
		case res.Inserted > 0 || res.Purged > 0:
			log.Info("archive synced", "new", res.Inserted, "purged", res.Purged)
		}
	}
}
