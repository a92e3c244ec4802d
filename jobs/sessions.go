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

// CleanupSessions returns a job that deletes expired sessions.
func CleanupSessions(st ExpiredSessionDeleter, log *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		n, err := st.DeleteExpired(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("session cleanup failed", "err", err)
		case n > 0:
			log.Debug("expired sessions removed", "count", n)
		}
	}
}
