//go:build linux

package fail2ban

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// busySocket listens on path with fail2ban's backlog of one and fills the
// accept queue, so that the next connection fails with EAGAIN. It returns
// the listening descriptor and the connections that fill the queue.
func busySocket(t *testing.T, path string) (fd int, queued []net.Conn) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 1); err != nil {
		t.Fatal(err)
	}
	for range 8 {
		c, err := net.Dial("unix", path)
		if errors.Is(err, syscall.EAGAIN) {
			t.Cleanup(func() {
				for _, c := range queued {
					c.Close()
				}
			})
			return fd, queued
		}
		if err != nil {
			t.Fatal(err)
		}
		queued = append(queued, c)
	}
	t.Skip("the accept queue never filled; cannot provoke EAGAIN here")
	return 0, nil
}

// TestCallWaitsWhileBusy: while fail2ban's accept queue is full, Call keeps
// trying until fail2ban accepts, within its deadline.
func TestCallWaitsWhileBusy(t *testing.T) {
	path := sockPath(t)
	fd, _ := busySocket(t, path)
	ping := goldenFull(t, "ping.resp")
	busyFor := 150 * time.Millisecond
	go func() {
		time.Sleep(busyFor) // fail2ban busy with something else
		ln, err := net.FileListener(os.NewFile(uintptr(fd), path))
		if err != nil {
			t.Error(err)
			return
		}
		defer ln.Close()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				replyWith(ping)(conn)
			}()
		}
	}()
	start := time.Now()
	v, err := NewClient(path, WithTimeout(5*time.Second)).Call(context.Background(), "ping")
	if err != nil || v != "pong" {
		t.Fatalf("Call = %#v, %v; want pong once fail2ban accepts", v, err)
	}
	if d := time.Since(start); d < busyFor/2 {
		t.Errorf("answered after %v, before the queue had room", d)
	}
}

// TestCallBusyUntilDeadline: a queue that stays full ends in
// ErrUnreachable wrapping EAGAIN at the deadline, not earlier.
func TestCallBusyUntilDeadline(t *testing.T) {
	path := sockPath(t)
	fd, _ := busySocket(t, path)
	t.Cleanup(func() { syscall.Close(fd) })
	start := time.Now()
	_, err := NewClient(path, WithTimeout(300*time.Millisecond)).Call(context.Background(), "ping")
	if !errors.Is(err, ErrUnreachable) || !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("err = %v, want ErrUnreachable wrapping EAGAIN", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("gave up after %v, want about the 300 ms deadline", d)
	}
}
