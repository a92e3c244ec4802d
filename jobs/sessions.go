// Package jobs runs BanGUI's background work on a schedule until the
// process shuts down.
package jobs

import (
	"context"
	"log/slog"
	"time"
)

// ExpiredSessionDeleter is the part of the session store the cleanup job needs.
type ExpiredSessionDeleter interface {
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}

// CleanupSessions deletes expired sessions now and then every interval until ctx ends.
func CleanupSessions(ctx context.Context, st ExpiredSessionDeleter, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := st.DeleteExpired(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("session cleanup failed", "err", err)
		case n > 0:
			log.Debug("expired sessions removed", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
