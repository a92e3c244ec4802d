package services

import (
	"context"
	"fmt"
	"sync"
	"time"

	"bangui/repo"
)

// DefaultTailEvery is how often Tail looks for new rows in each host's
// fail2ban database: a ban reaches the archive, with its country, within
// about this long (plus the time of the read).
const DefaultTailEvery = time.Second

// tailReopen is how long Tail reads one host through the same
// repo.BanRowSource before asking the host for it again (the local host
// asks fail2ban for its database path, a remote one opens its rows), so a
// moved database is followed within this long without a socket call per
// look.
const tailReopen = 30 * time.Second

// tailRetry is how long a host's tail waits before trying again to take
// the host's lease that another panel process holds, or after the host
// failed.
const tailRetry = 15 * time.Second

// tailPerLook bounds one look at one host, so that a hung agent does not
// stop its tail for long.
const tailPerLook = 10 * time.Second

// Tail copies each host's new fail2ban rows into the archive every
// `every` (DefaultTailEvery when <= 0), fills their countries and
// publishes them, until ctx ends. A host is tailed by the one panel
// process holding its archive-sync lease (the lease of Run's sync of the
// host, held here for as long as the tail runs and renewed in the
// background); the other processes try again every tailRetry and take over
// when the holder stops. Hosts added to or removed from the registry are
// picked up within `every`. Run keeps syncing every host as the safety net:
// both go through syncHost, one at a time per host, and the archive's
// unique key keeps every event once.
func (a *ArchiveSync) Tail(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultTailEvery
	}
	running := map[string]context.CancelFunc{}
	var wg sync.WaitGroup
	defer func() {
		for _, stop := range running {
			stop()
		}
		wg.Wait()
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		seen := map[string]bool{}
		for _, h := range a.sources.hosts.All() {
			id := h.ID()
			seen[id] = true
			if _, ok := running[id]; ok {
				continue
			}
			hctx, stop := context.WithCancel(ctx)
			running[id] = stop
			wg.Go(func() { a.tailHost(hctx, id, every) })
		}
		for id, stop := range running {
			if !seen[id] {
				stop()
				delete(running, id)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tailHost tails the host id until ctx ends: it holds the host's lease and
// looks for new rows every `every` while it has it.
func (a *ArchiveSync) tailHost(ctx context.Context, id string, every time.Duration) {
	for ctx.Err() == nil {
		work, release, held, err := a.Leases.Hold(ctx, archiveLease(id))
		if err != nil && ctx.Err() == nil {
			a.log().Warn("archive tail: lease not taken", "host", id, "err", err)
		}
		if held {
			a.follow(work, id, every)
			release(0)
		}
		a.setCaughtUp(id, time.Time{}) // another process archives it now, or none
		wait(ctx, tailRetry)
	}
}

// follow looks for new rows of the host id every `every` until ctx ends
// (the lease was lost, the host removed, or the panel stops). While the
// host fails (fail2ban restarting, an agent down) it keeps the lease and
// tries again after a pause that doubles up to tailRetry. It takes the
// host from the registry each time it opens the rows, so a host replaced
// there (a new agent certificate accepted) is followed from its next
// opening: within tailReopen, or at once after a failure.
func (a *ArchiveSync) follow(ctx context.Context, id string, every time.Duration) {
	var (
		src    repo.BanRowSource
		opened time.Time
		pause  = every
	)
	for ctx.Err() == nil {
		err := func() error {
			lctx, cancel := context.WithTimeout(ctx, tailPerLook)
			defer cancel()
			if src == nil || time.Since(opened) >= tailReopen {
				h, err := a.sources.hosts.Get(id)
				if err != nil {
					return err // removed: the tail stops it within `every`
				}
				s, err := h.BanRows(lctx)
				if err != nil {
					return fmt.Errorf("fail2ban's database: %w", err)
				}
				src, opened = s, time.Now()
			}
			start := a.now()
			if _, err := a.syncRows(lctx, id, src); err != nil {
				return err
			}
			a.setCaughtUp(id, start)
			return nil
		}()
		switch {
		case err == nil:
			pause = every
		case ctx.Err() != nil:
			return
		default:
			if pause == every { // say it once per failure, not per retry
				a.log().Warn("archive tail: host not readable; retrying", "host", id, "err", err)
			}
			src, pause = nil, min(2*pause, tailRetry)
		}
		wait(ctx, pause)
	}
}

// wait returns after d or when ctx ends.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// maxFillAtOnce is how many addresses a sync fills the countries of
// itself; beyond (a first backfill), the geo fill job does the rest.
const maxFillAtOnce = 5000

// readIPs is a repo.BanRowSource that remembers the addresses of the rows
// it read (up to maxFillAtOnce), so that the sync can fill their countries.
type readIPs struct {
	repo.BanRowSource
	ips  map[string]struct{}
	full bool
}

func newReadIPs(src repo.BanRowSource) *readIPs {
	return &readIPs{BanRowSource: src, ips: map[string]struct{}{}}
}

func (r *readIPs) note(rows []repo.F2BRow) {
	for _, row := range rows {
		if row.IP == "" {
			continue
		}
		if len(r.ips) >= maxFillAtOnce {
			r.full = true
			return
		}
		r.ips[row.IP] = struct{}{}
	}
}

func (r *readIPs) NewRowsSince(ctx context.Context, afterRowID int64, limit int) ([]repo.F2BRow, error) {
	rows, err := r.BanRowSource.NewRowsSince(ctx, afterRowID, limit)
	r.note(rows)
	return rows, err
}

func (r *readIPs) RowsAtOrAfter(ctx context.Context, since, afterRowID, maxRowID int64, limit int) ([]repo.F2BRow, error) {
	rows, err := r.BanRowSource.RowsAtOrAfter(ctx, since, afterRowID, maxRowID, limit)
	r.note(rows)
	return rows, err
}

func (r *readIPs) list() []string {
	out := make([]string, 0, len(r.ips))
	for ip := range r.ips {
		out = append(out, ip)
	}
	return out
}
