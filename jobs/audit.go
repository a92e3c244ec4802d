package jobs

import (
	"context"
	"log/slog"
)

// AuditPruner is the part of the audit retention the cleanup job needs;
// services.AuditRetention has it.
type AuditPruner interface {
	Prune(ctx context.Context) (int64, error)
}

// PruneAuditLog returns a job that deletes the audit entries older than
// the retention setting.
func PruneAuditLog(p AuditPruner, log *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		n, err := p.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("audit log retention failed", "err", err)
		case n > 0:
			log.Info("audit entries past their retention removed", "count", n)
		}
	}
}
