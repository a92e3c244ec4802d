package services

import (
	"strings"
	"sync"
	"time"
)

// LoginThrottle slows failed logins per key — a client address and an
// account (see LoginKeys): after the n-th failure in a row the next attempt
// must wait 0.5, 1, 2, 4 and then 5 seconds.
type LoginThrottle struct {
	mu      sync.Mutex
	clients map[string]*throttleEntry
	maxKeys int
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
	d := LoginDelay(e.failures)
	e.until = now.Add(d)
	return d
}

// LoginKeys are the keys one login attempt is throttled under: the
// client (its address, or an IPv6 /64, as the caller chose) and the
// account name tried, ignoring case — so neither many names from one
// client nor one name from many clients can be tried quickly.
func LoginKeys(client, user string) []string {
	return []string{"client " + client, "account " + strings.ToLower(strings.TrimSpace(user))}
}

// WaitAll returns the longest wait of any of keys.
func (t *LoginThrottle) WaitAll(keys []string, now time.Time) time.Duration {
	var d time.Duration
	for _, k := range keys {
		d = max(d, t.Wait(k, now))
	}
	return d
}

// FailAll records a failed attempt under every key and returns the longest
// delay now imposed.
func (t *LoginThrottle) FailAll(keys []string, now time.Time) time.Duration {
	var d time.Duration
	for _, k := range keys {
		d = max(d, t.Fail(k, now))
	}
	return d
}

// ResetAll forgets the failures of every key after a successful login.
func (t *LoginThrottle) ResetAll(keys []string) {
	for _, k := range keys {
		t.Reset(k)
	}
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
