package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"bangui/hosts"
)

// DefaultLockTTL is how long the agent holds the configuration lock for
// the panel at most, and keeps a previous version of a file for a rollback.
// The panel's edits (write, -t, reload, roll back) take well under it; a
// panel that vanishes mid-edit cannot block the host for longer.
const DefaultLockTTL = 5 * time.Minute

// maxHeld bounds the previous versions kept at once.
const maxHeld = 64

// heldState is what the agent holds for the panel between calls: the
// configuration edit lock and the previous versions of written files, each
// under a random id and for a limited time.
type heldState struct {
	now func() time.Time
	ttl time.Duration

	mu       sync.Mutex
	locks    map[string]*heldLock
	restores map[string]heldRestore
}

type heldLock struct {
	unlock func()
	timer  *time.Timer
}

type heldRestore struct {
	restore func(context.Context) error
	until   time.Time
}

// heldError is a lock or version id the agent does not hold (any more).
type heldError struct{ msg string }

func (e *heldError) Error() string { return e.msg }

func newHeldState(now func() time.Time, ttl time.Duration) *heldState {
	return &heldState{now: now, ttl: ttl, locks: map[string]*heldLock{}, restores: map[string]heldRestore{}}
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// lock waits (until ctx ends) for the host's lock and holds it under a new
// id until unlock or the TTL.
func (h *heldState) lock(ctx context.Context, l *hosts.Local) (string, error) {
	unlock, err := l.LockConfig(ctx)
	if err != nil {
		return "", err
	}
	id := newID()
	var once sync.Once
	release := func() { once.Do(unlock) }
	h.mu.Lock()
	h.locks[id] = &heldLock{unlock: release, timer: time.AfterFunc(h.ttl, func() { h.unlock(id) })}
	h.mu.Unlock()
	return id, nil
}

// unlock releases the lock held under id.
func (h *heldState) unlock(id string) error {
	h.mu.Lock()
	l, ok := h.locks[id]
	delete(h.locks, id)
	h.mu.Unlock()
	if !ok {
		return &heldError{msg: "the agent holds no configuration lock with that id (it ended after its time to live)"}
	}
	l.timer.Stop()
	l.unlock()
	return nil
}

// keep stores a previous version for restore, and returns its id.
func (h *heldState) keep(restore func(context.Context) error) string {
	id := newID()
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, r := range h.restores {
		if !now.Before(r.until) {
			delete(h.restores, k)
		}
	}
	if len(h.restores) >= maxHeld {
		var oldest string
		for k, r := range h.restores {
			if oldest == "" || r.until.Before(h.restores[oldest].until) {
				oldest = k
			}
		}
		delete(h.restores, oldest)
	}
	h.restores[id] = heldRestore{restore: restore, until: now.Add(h.ttl)}
	return id
}

// restore puts back the previous version kept under id, once.
func (h *heldState) restore(ctx context.Context, id string) error {
	h.mu.Lock()
	r, ok := h.restores[id]
	delete(h.restores, id)
	h.mu.Unlock()
	if !ok || !h.now().Before(r.until) {
		return &heldError{msg: "the agent no longer keeps that previous version (it is restored already or its time to live ended)"}
	}
	return r.restore(ctx)
}

// releaseAll releases every lock and forgets every version (revocation,
// shutdown).
func (h *heldState) releaseAll() {
	h.mu.Lock()
	locks := h.locks
	h.locks, h.restores = map[string]*heldLock{}, map[string]heldRestore{}
	h.mu.Unlock()
	for _, l := range locks {
		l.timer.Stop()
		l.unlock()
	}
}
