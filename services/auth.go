package services

import (
	"sync"
	"time"
)

// LoginThrottle slows failed logins per key — a client address, or an
// account name: after the n-th failure in a row (not counting the free
// ones) the next attempt must wait 0.5, 1, 2, 4 and then 5 seconds.
type LoginThrottle struct {
	mu      sync.Mutex
	clients map[string]*throttleEntry
	maxKeys int
	free    int // failures in a row that impose no wait
}

type throttleEntry struct {
	failures int
	until    time.Time // attempts before this instant are refused
	last     time.Time
}

// NewLoginThrottle returns an empty throttle.
func NewLoginThrottle() *LoginThrottle {
	return &LoginThrottle{clients: map[string]*throttleEntry{}, maxKeys: 10000}
}

// AccountFreeFailures is how many failures in a row an account name may
// have, from any clients, before its logins are slowed: one person's typo
// does not slow the others of the account, while many clients guessing one
// account's password are slowed as much as one client is.
const AccountFreeFailures = 4

// NewAccountThrottle returns an empty throttle for account names, which
// lets AccountFreeFailures failures pass without a wait.
func NewAccountThrottle() *LoginThrottle {
	t := NewLoginThrottle()
	t.free = AccountFreeFailures
	return t
}

// LoginDelay is the wait imposed after the given number of consecutive failures.
func LoginDelay(failures int) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := 500 * time.Millisecond << (failures - 1)
	if failures > 4 || d > 5*time.Second {
		return 5 * time.Second
	}
	return d
}

// Wait returns how long ip must still wait before its next attempt.
func (t *LoginThrottle) Wait(ip string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.clients[ip]
	if !ok || !now.Before(e.until) {
		return 0
	}
	return e.until.Sub(now)
}

// Fail records a failed attempt and returns the delay now imposed on ip.
func (t *LoginThrottle) Fail(ip string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.clients[ip]
	if !ok {
		if len(t.clients) >= t.maxKeys {
			t.pruneLocked(now)
		}
		e = &throttleEntry{}
		t.clients[ip] = e
	}
	if now.Sub(e.last) > 15*time.Minute {
		e.failures = 0
	}
	e.failures++
	e.last = now
	d := LoginDelay(e.failures - t.free)
	e.until = now.Add(d)
	return d
}

// Reset forgets ip's failures after a successful login.
func (t *LoginThrottle) Reset(ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.clients, ip)
}

// pruneLocked drops entries idle for 15 minutes, or all when none are idle.
func (t *LoginThrottle) pruneLocked(now time.Time) {
	for k, e := range t.clients {
		if now.Sub(e.last) > 15*time.Minute {
			delete(t.clients, k)
		}
	}
	if len(t.clients) >= t.maxKeys {
		clear(t.clients)
	}
}
