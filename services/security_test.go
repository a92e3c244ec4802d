package services

import (
	"strings"
	"testing"
	"time"
)

// TestLoginThrottleDelaysAndForgets: consecutive failures of one client wait
// 0.5, 1, 2, 4, then 5 s at most; a retry inside the wait is told how long
// to wait; other clients are unaffected; success, or 15 quiet minutes,
// forgets the failures.
func TestLoginThrottleDelaysAndForgets(t *testing.T) {
	th := NewLoginThrottle()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if got := th.Fail("a", now); got != w {
			t.Fatalf("failure %d: delay %s, want %s", i+1, got, w)
		}
		if got := th.Wait("a", now.Add(w/2)); got != w-w/2 {
			t.Fatalf("failure %d: wait halfway %s, want %s", i+1, got, w-w/2)
		}
		if got := th.Wait("b", now); got != 0 {
			t.Fatalf("another client waits %s", got)
		}
		now = now.Add(w)
		if got := th.Wait("a", now); got != 0 {
			t.Fatalf("failure %d: still waiting %s after the delay", i+1, got)
		}
	}
	th.Reset("a")
	if got := th.Fail("a", now); got != want[0] {
		t.Fatalf("after a success the first failure waits %s", got)
	}
	th.Fail("a", now.Add(time.Second))
	if got := th.Fail("a", now.Add(time.Second+16*time.Minute)); got != want[0] {
		t.Fatalf("after 16 quiet minutes a failure waits %s, want %s", got, want[0])
	}
	if !strings.Contains(LoginDelay(99).String(), "5s") {
		t.Fatalf("LoginDelay(99) = %s", LoginDelay(99))
	}
}
