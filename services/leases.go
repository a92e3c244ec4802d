package services

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"
)

// DefaultLeaseTTL is how long a lease outlives its holder's last renewal: a
// panel process that dies loses its leases after this long, and the other
// replica takes the work over.
const DefaultLeaseTTL = time.Minute

// LeaseStore is the database side of leases (*repo.Leases has it).
type LeaseStore interface {
	TryAcquire(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	Renew(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	Release(ctx context.Context, name, holder string) error
	ReleaseAll(ctx context.Context, holder string) error
}

// Leases make work that must run once across panel processes sharing a
// database (archive syncs, imports, the geo fill, cleanups) run in one of
// them at a time. Each process has one Leases with a random holder id. A
// held lease is renewed every third of its TTL while the work runs and
// released when it ends. A nil *Leases runs every piece of work (one
// process, nothing to share).
type Leases struct {
	store  LeaseStore
	holder string
	ttl    time.Duration
	log    *slog.Logger
}

// NewLeases returns this process's leases on store with a new random
// holder id; ttl <= 0 means DefaultLeaseTTL.
func NewLeases(store LeaseStore, ttl time.Duration, log *slog.Logger) *Leases {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	if log == nil {
		log = slog.Default()
	}
	return &Leases{store: store, holder: newHolderID(), ttl: ttl, log: log}
}

// newHolderID is the host name and a random suffix, unique per process and
// readable in the leases table.
func newHolderID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	name, err := os.Hostname()
	if err != nil || name == "" {
		name = "panel"
	}
	return name + "-" + hex.EncodeToString(b[:])
}

// Holder is this process's holder id.
func (l *Leases) Holder() string {
	if l == nil {
		return ""
	}
	return l.holder
}

// Hold takes the lease name. When another process holds it, held is false
// and nothing else happens. When this process gets it, work runs under the
// returned context, which ends when ctx ends or the lease is lost (a
// renewal found another holder, or none succeeded for a whole TTL).
// release must be called: it stops the renewals and frees the lease, or,
// with keep > 0, keeps it for keep more (the holder's turn: the other
// processes skip the work until then, while this one may take it again).
func (l *Leases) Hold(ctx context.Context, name string) (_ context.Context, release func(keep time.Duration), held bool, err error) {
	if l == nil {
		return ctx, func(time.Duration) {}, true, nil
	}
	ok, err := l.store.TryAcquire(ctx, name, l.holder, l.ttl)
	if err != nil || !ok {
		return ctx, func(time.Duration) {}, false, err
	}
	work, cancel := context.WithCancel(ctx)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.renew(work, cancel, stop, name)
	}()
	var once sync.Once
	release = func(keep time.Duration) {
		once.Do(func() {
			close(stop)
			wg.Wait()
			lost := work.Err() != nil && ctx.Err() == nil
			cancel()
			if lost {
				return // another process holds it now
			}
			// Even when ctx ended (shutdown): the other process need not wait a TTL.
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer rcancel()
			var err error
			if keep > 0 && ctx.Err() == nil {
				_, err = l.store.Renew(rctx, name, l.holder, keep)
			} else {
				err = l.store.Release(rctx, name, l.holder)
			}
			if err != nil {
				l.log.Warn("lease release failed; it expires by itself", "lease", name, "err", err)
			}
		})
	}
	return work, release, true, nil
}

// renew extends the lease every third of the TTL until stop closes or work
// ends, and cancels work when the lease is lost.
func (l *Leases) renew(work context.Context, cancel context.CancelFunc, stop <-chan struct{}, name string) {
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-work.Done():
			return
		case <-t.C:
		}
		ok, err := l.store.Renew(work, name, l.holder, l.ttl)
		switch {
		case err == nil && ok:
			last = time.Now()
		case err == nil:
			l.log.Warn("lease lost to another panel process; stopping its work", "lease", name)
			cancel()
			return
		case errors.Is(err, context.Canceled):
			return
		case time.Since(last) >= l.ttl:
			l.log.Warn("lease not renewed for its whole TTL; stopping its work", "lease", name, "err", err)
			cancel()
			return
		default:
			l.log.Warn("lease renewal failed; retrying", "lease", name, "err", err)
		}
	}
}

// Run runs fn under the lease name when this process gets it, frees the
// lease afterwards, and reports whether fn ran. A failure to reach the
// database is logged and fn does not run (its turn is skipped, as when
// another process holds the lease).
func (l *Leases) Run(ctx context.Context, name string, fn func(context.Context)) bool {
	return l.Turn(ctx, name, 0, fn)
}

// Turn is Run for periodic work: after fn the lease stays with this process
// for keep more, so that the other processes skip their turns of the same
// work until then while this one takes its next turn. A holder that stops
// loses the lease keep after its last run, or a TTL after it died mid-run.
func (l *Leases) Turn(ctx context.Context, name string, keep time.Duration, fn func(context.Context)) bool {
	work, release, held, err := l.Hold(ctx, name)
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("lease not taken; skipping this turn", "lease", name, "err", err)
		}
		return false
	}
	if !held {
		return false
	}
	defer release(keep)
	fn(work)
	return true
}

// Close gives up every lease this process holds or keeps a turn of, so
// that the other processes take the work over at once instead of after the
// turns expire. Call it after the work stopped (at shutdown).
func (l *Leases) Close(ctx context.Context) error {
	if l == nil {
		return nil
	}
	return l.store.ReleaseAll(ctx, l.holder)
}
