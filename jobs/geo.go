package jobs

import (
	"context"
	"log/slog"
)

// GeoMaintainer is the part of the geo service the background jobs drive;
// *services.Geo has it.
type GeoMaintainer interface {
	Flush(ctx context.Context) (int, error)
	Cleanup(ctx context.Context) (int64, error)
	FillArchive(ctx context.Context) (int64, error)
	RefreshDatabases(ctx context.Context) (bool, error)
}

// FlushGeoCache returns a job that writes the geo cache's new answers and
// refreshed last-seen times to the database in batches. Page requests never
// write; this job does. Every panel process runs it: each flushes what its
// own lookups keep in memory.
func FlushGeoCache(g GeoMaintainer, log *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		n, err := g.Flush(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("geo cache flush failed", "err", err)
		case n > 0:
			log.Debug("geo cache flushed", "entries", n)
		}
	}
}

// CleanupGeoCache returns a job that removes geo cache entries unseen for 90 days.
func CleanupGeoCache(g GeoMaintainer, log *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		n, err := g.Cleanup(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("geo cache cleanup failed", "err", err)
		case n > 0:
			log.Info("geo cache cleaned", "removed", n)
		}
	}
}

// RefreshGeoDatabases returns a job that reloads the geo database files
// when they changed (for example after scripts/fetch-geo.sh ran). Every
// panel process runs it: each has the files loaded in memory.
func RefreshGeoDatabases(g GeoMaintainer, log *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		if _, err := g.RefreshDatabases(ctx); err != nil && ctx.Err() == nil {
			log.Warn("geo database reload failed", "err", err)
		}
	}
}

// FillArchiveCountries returns a job that stores the country of archived
// bans that have none yet.
func FillArchiveCountries(g GeoMaintainer, log *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		n, err := g.FillArchive(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("filling archive countries failed", "err", err)
		case n > 0:
			log.Info("archive countries filled", "events", n)
		}
	}
}
