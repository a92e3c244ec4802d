package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"bangui/fail2ban"
	"bangui/repo"
)

// What fail2ban deletes, and when (fail2ban 1.0.2, server/actions.py):
//
//   - unban of an address, in one jail or in all (set <jail> unbanip,
//     unban <ip>): every row of that address in that jail, or in every jail,
//     also those of its earlier bans and also when it is not banned now;
//   - unban --all: every row of every jail;
//   - stopping a jail (stop <jail>, and a reload that stops a deactivated
//     jail), a restart, and a ban that expires: nothing; the rows stay
//     until the database's purge (dbpurgeage), so the archive sync copies
//     them as any other.
//
// So every unban of the panel goes through BeforeUnban first (Jails does
// it; stopping a jail and the configuration's reloads, which may stop one,
// too, although fail2ban keeps those rows: the rule is one and holds if
// fail2ban changes).

// Preserver is the one step before any command that makes fail2ban unban
// or stop a jail (*ArchiveSync implements it).
type Preserver interface {
	BeforeUnban(ctx context.Context, host string)
}

// BeforeUnban is Preserve for the unban paths: when it fails the unban
// still goes ahead (an unban can be urgent, and fail2ban's database may be
// unreadable for good); the failure is logged.
func (a *ArchiveSync) BeforeUnban(ctx context.Context, host string) {
	if _, err := a.Preserve(ctx, host); err != nil {
		slog.WarnContext(ctx, "unban without archiving fail2ban's rows first", "host", host, "err", err)
	}
}

// Preserve copies the rows of host's fail2ban database that the archive
// does not have yet into the archive, at once, so that an unban sent next
// loses none of them; it returns how many events were new. It is the
// host's archive sync (repo.SyncArchive on the host's cursor) when this
// process gets the host's lease; when another panel process holds it, the
// same rows are copied without moving the cursor (repo.CopyPending), and
// that process's next sync finds them archived already (the archive's
// unique key drops what it has). A host whose fail2ban keeps no database
// has nothing to lose: that is no error.
//
// When this process's own scheduled sync of the host is running, the rows
// are copied beside it the same way, without waiting for it. Preserve
// takes at most PreserveBudget, or half of what is left of ctx, so that
// the unban after it keeps its time (a host's first sync of a large
// database can take longer): then it fails, keeping what it copied.
func (a *ArchiveSync) Preserve(ctx context.Context, host string) (int64, error) {
	h, err := a.sources.hosts.Get(host)
	if err != nil {
		return 0, err
	}
	budget := PreserveBudget
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(dl)/2)
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	src, err := h.BanRows(ctx)
	if errors.Is(err, fail2ban.ErrNoDatabase) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("archive before unban: %s: fail2ban's database: %w", host, err)
	}
	rows := newReadIPs(src)
	var n int64
	if unlock, ok := a.tryLockHost(host); ok {
		defer unlock()
		work, release, held, _ := a.Leases.Hold(ctx, archiveLease(host))
		if held {
			// This process syncs the host now; it keeps the turn it may
			// have had (or takes one), as after a scheduled sync.
			n, err = repo.SyncArchive(work, host, rows, a.sources.archive, a.settings)
			release(a.Turn)
		} else {
			// Another process syncs this host (or the lease could not be
			// asked for): copy without taking its cursor.
			n, err = repo.CopyPending(ctx, host, rows, a.sources.archive, a.settings)
		}
	} else {
		// This process's scheduled sync of the host is running (it may be
		// a long first one): copy beside it rather than wait for it.
		n, err = repo.CopyPending(ctx, host, rows, a.sources.archive, a.settings)
	}
	a.archived(ctx, host, rows, n)
	if err != nil {
		return n, fmt.Errorf("archive before unban: %s: %w", host, err)
	}
	return n, nil
}

// PreserveBudget is the longest Preserve takes.
const PreserveBudget = time.Second

// lockHost keeps this process's syncs of one host on its cursor
// (scheduled, and before an unban) one at a time, and returns the unlock;
// it gives up when ctx ends first.
func (a *ArchiveSync) lockHost(ctx context.Context, host string) (func(), error) {
	v, _ := a.hostLocks.LoadOrStore(host, make(chan struct{}, 1))
	slot := v.(chan struct{})
	select {
	case slot <- struct{}{}:
		return func() { <-slot }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// tryLockHost is lockHost without waiting: ok is false when a sync of the
// host holds it.
func (a *ArchiveSync) tryLockHost(host string) (unlock func(), ok bool) {
	v, _ := a.hostLocks.LoadOrStore(host, make(chan struct{}, 1))
	slot := v.(chan struct{})
	select {
	case slot <- struct{}{}:
		return func() { <-slot }, true
	default:
		return nil, false
	}
}
