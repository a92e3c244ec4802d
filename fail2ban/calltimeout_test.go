package fail2ban

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestWithCallTimeout: a context from WithCallTimeout lets a call outlast
// the client's own limit, and a shorter context deadline still wins.
func TestWithCallTimeout(t *testing.T) {
	_, path := startFake(t, func(args []string) []byte {
		if args[0] == "slow" {
			time.Sleep(300 * time.Millisecond)
		}
		return okReply(t, "pong")
	})
	c := NewClient(path, WithTimeout(100*time.Millisecond))
	if _, err := c.Call(context.Background(), "slow"); !errors.Is(err, ErrTimeout) {
		t.Fatalf("without WithCallTimeout: %v, want ErrTimeout", err)
	}
	if v, err := c.Call(WithCallTimeout(context.Background(), 5*time.Second), "slow"); err != nil || v != "pong" {
		t.Fatalf("with WithCallTimeout: %v, %v", v, err)
	}
	ctx, cancel := context.WithTimeout(WithCallTimeout(context.Background(), 5*time.Second), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Call(ctx, "slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shorter context deadline: %v, want context.DeadlineExceeded", err)
	}
	if got := WithCallTimeout(ctx, 0); got != ctx {
		t.Fatal("a non-positive call timeout changed the context")
	}
}

// TestSyslogSocket reads the socket name and tolerates None.
func TestSyslogSocket(t *testing.T) {
	var none atomic.Bool // answer None instead of "auto"
	_, path := startFake(t, func(args []string) []byte {
		if len(args) != 2 || args[0] != "get" || args[1] != "syslogsocket" {
			return excReply(t, "builtins", "Exception", "Invalid command")
		}
		if none.Load() {
			return okReply(t, nil)
		}
		return okReply(t, "auto")
	})
	c := NewClient(path)
	if s, err := c.SyslogSocket(context.Background()); err != nil || s != "auto" {
		t.Fatalf("SyslogSocket = %q, %v", s, err)
	}
	none.Store(true)
	if s, err := c.SyslogSocket(context.Background()); err != nil || s != "" {
		t.Fatalf("SyslogSocket of None = %q, %v", s, err)
	}
}
