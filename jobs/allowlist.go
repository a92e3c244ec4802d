package jobs

import (
	"context"
	"log/slog"
)

// AllowListExpirer is the part of the allow-list the expiry job needs;
// *allowlist.AllowList has it.
type AllowListExpirer interface {
	ExpireDue(ctx context.Context) (int, error)
}

// ExpireAllowList returns a job that removes the allow-list entries whose
// expiry has come (file, live jails, audit entry). An entry that could not
// be removed (fail2ban offline) is tried again on the next turn.
func ExpireAllowList(a AllowListExpirer, log *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		n, err := a.ExpireDue(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn("allow-list expiry failed; trying again on the next turn", "err", err)
		}
		if n > 0 {
			log.Info("allow-list entries past their expiry removed", "count", n)
		}
	}
}
