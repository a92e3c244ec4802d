// Package jobs runs BanGUI's background work on a schedule until the
// process shuts down.
package jobs

import (
	"context"
	"sync"
	"time"
)

// Group runs periodic jobs and waits for all of them to stop.
type Group struct {
	// Leases give the jobs started with EveryOnce to one panel process
	// among those sharing the database; nil runs them here.
	Leases LeaseTurns
	wg     sync.WaitGroup
}

// LeaseTurns is the part of *services.Leases the schedule needs.
type LeaseTurns interface {
	Turn(ctx context.Context, name string, keep time.Duration, fn func(context.Context)) bool
}

// turnMargin is how much longer than its interval a job's lease stays with
// the process that ran it: the holder's next tick finds it its own, while
// a holder that stopped hands the job over one interval and this margin
// after its last run.
const turnMargin = time.Minute

// Every runs fn at once and then every interval until ctx ends. A run that is
// still busy delays the next one; runs never overlap.
func (g *Group) Every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			fn(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Go runs fn once in the background, for work that keeps its own pace
// (the archive tail); fn must return when ctx ends.
func (g *Group) Go(ctx context.Context, fn func(context.Context)) {
	g.wg.Go(func() { fn(ctx) })
}

// Wait blocks until every job has returned (after their context ended).
func (g *Group) Wait() { g.wg.Wait() }

// EveryOnce is Every for work that must run in one panel process among
// those sharing the database: each turn runs only where the lease name is
// held (or free), and the process that ran it keeps the lease for the next
// interval; the others skip their turns until it stops renewing.
func (g *Group) EveryOnce(ctx context.Context, name string, interval time.Duration, fn func(context.Context)) {
	if g.Leases == nil {
		g.Every(ctx, interval, fn)
		return
	}
	g.Every(ctx, interval, func(ctx context.Context) {
		g.Leases.Turn(ctx, name, interval+turnMargin, fn)
	})
}
