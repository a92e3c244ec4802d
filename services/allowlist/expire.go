package allowlist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	f2bconf "bangui/fail2ban/config"
	"bangui/models"
)

// ExpiryActor is the actor of the audit entries of the expiry job.
const ExpiryActor = "system"

// ExpireDue removes the entries whose expiry has come, on every host that
// has some, from File and the running jails, and records each removal in
// the audit log. It returns how many it removed. A host whose fail2ban
// does not answer keeps its entries until a later turn.
func (a *AllowList) ExpireDue(ctx context.Context) (int, error) {
	now := a.now()
	hostIDs, err := a.store.Expired(ctx, now.Unix())
	if err != nil {
		return 0, err
	}
	var total int
	var errs []error
	for _, host := range hostIDs {
		n, err := a.expireHost(ctx, host, now)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("host %s: %w", host, err))
		}
	}
	return total, errors.Join(errs...)
}

func (a *AllowList) expireHost(ctx context.Context, host string, now time.Time) (int, error) {
	h, err := a.hosts.Get(host)
	if err != nil {
		return 0, err
	}
	unlock, _ := a.lock(host)
	defer unlock()
	var gone []models.AllowEntry
	ch, err := a.change(ctx, h, func(_ *f2bconf.Set, cur []models.AllowEntry) ([]models.AllowEntry, error) {
		gone = nil
		for _, e := range cur {
			if e.ExpiresAt > 0 && e.ExpiresAt <= now.Unix() {
				gone = append(gone, e)
			}
		}
		return slices.DeleteFunc(slices.Clone(cur), func(e models.AllowEntry) bool { return e.ExpiresAt > 0 && e.ExpiresAt <= now.Unix() }), nil
	})
	if err == nil && !ch.res.OK {
		err = &ApplyError{Result: ch.res}
	}
	if err != nil {
		// Tried again on the next turn; the audit log records the removal
		// once it happened.
		return 0, err
	}
	for _, e := range gone {
		a.record(ctx, models.AuditEntry{Action: models.AuditAllowExpire, Host: host, Jail: e.Jails, File: File, Target: e.Address,
			Detail: "expired at " + time.Unix(e.ExpiresAt, 0).UTC().Format(time.RFC3339) + "; added by " + e.CreatedBy, Result: "ok"})
	}
	return len(gone), nil
}

func (a *AllowList) record(ctx context.Context, e models.AuditEntry) {
	if a.Audit == nil {
		return
	}
	e.Actor, e.At = ExpiryActor, a.now().Unix()
	if err := a.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		slog.Error("audit: write entry", "err", err, "action", e.Action)
	}
}

// ExpiryInterval is how often the expiry job looks for entries that have
// ended: an entry leaves at most this long after its time.
const ExpiryInterval = 2 * time.Second
