package agent

import (
	"sync"
	"time"
)

// Limits of failed attempts (wrong token, wrong or missing credential).
const (
	failWindow   = time.Minute
	failsAllowed = 10   // per address and window
	failAddrs    = 4096 // addresses remembered; the oldest windows go first
)

// failLimiter counts failed attempts per client address in fixed windows;
// an address over the limit is refused until its window ends. A credential
// is 256 random bits and a token 100, so this keeps guessing and log noise
// down rather than being the protection.
type failLimiter struct {
	now func() time.Time
	mu  sync.Mutex
	by  map[string]*failWindowCount
}

type failWindowCount struct {
	start time.Time
	n     int
}

func newFailLimiter(now func() time.Time) *failLimiter {
	return &failLimiter{now: now, by: map[string]*failWindowCount{}}
}

// allow reports whether addr may try now.
func (l *failLimiter) allow(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.by[addr]
	if c == nil {
		return true
	}
	if l.now().Sub(c.start) >= failWindow {
		delete(l.by, addr)
		return true
	}
	return c.n < failsAllowed
}

// fail counts a failed attempt of addr.
func (l *failLimiter) fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	c := l.by[addr]
	if c == nil || now.Sub(c.start) >= failWindow {
		if len(l.by) >= failAddrs {
			l.prune(now)
		}
		c = &failWindowCount{start: now}
		l.by[addr] = c
	}
	c.n++
}

// prune drops ended windows, and every window when all are current (an
// attacker with many addresses then gets fresh counts, never more memory).
func (l *failLimiter) prune(now time.Time) {
	for k, c := range l.by {
		if now.Sub(c.start) >= failWindow {
			delete(l.by, k)
		}
	}
	if len(l.by) >= failAddrs {
		clear(l.by)
	}
}
