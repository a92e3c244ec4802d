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
	wg sync.WaitGroup
}

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

// Wait blocks until every job has returned (after their context ended).
func (g *Group) Wait() { g.wg.Wait() }
