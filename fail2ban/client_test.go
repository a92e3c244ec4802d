package fail2ban

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ogorek "github.com/kisielk/og-rek"
)

// fakeServer serves a unix socket with handle for every connection.
type fakeServer struct {
	ln *net.UnixListener
	wg sync.WaitGroup
}

func listenFake(t *testing.T, path string, handle func(net.Conn)) *fakeServer {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				handle(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func sockPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "f2b.sock")
}

// readRequest reads one request up to and including the end marker.
func readRequest(conn net.Conn) ([]byte, error) {
	var buf []byte
	tmp := make([]byte, 512)
	for !bytes.HasSuffix(buf, []byte(endMarker)) {
		n, err := conn.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func goldenFull(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replyWith returns a handler that answers every request with reply.
func replyWith(reply []byte) func(net.Conn) {
	return func(conn net.Conn) {
		for {
			if _, err := readRequest(conn); err != nil {
				return
			}
			if _, err := conn.Write(reply); err != nil {
				return
			}
		}
	}
}

func TestEncodeRequest(t *testing.T) {
	got, err := encodeRequest([]string{"status", "sshd", "short"})
	if err != nil {
		t.Fatal(err)
	}
	want := "\x80\x04(\x8c\x06status\x8c\x04sshd\x8c\x05shortl." + endMarker
	if string(got) != want {
		t.Errorf("encodeRequest = %q, want %q", got, want)
	}

	for _, bad := range [][]string{
		nil,
		{"echo", "x" + endMarker},
		{"echo", "\xff"},
	} {
		if _, err := encodeRequest(bad); err == nil {
			t.Errorf("encodeRequest(%q) succeeded", bad)
		}
	}
}

func TestCallFraming(t *testing.T) {
	path := sockPath(t)
	type seen struct {
		req  []byte
		rest []byte
		err  error
	}
	ch := make(chan seen, 1)
	ping := goldenFull(t, "ping.resp")
	listenFake(t, path, func(conn net.Conn) {
		req, err := readRequest(conn)
		if err != nil {
			ch <- seen{err: err}
			return
		}
		// Send the reply in two writes, splitting the end marker.
		cut := len(ping) - 5
		conn.Write(ping[:cut])
		conn.Write(ping[cut:])
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		rest, err := io.ReadAll(conn)
		ch <- seen{req: req, rest: rest, err: err}
	})

	c := NewClient(path)
	v, err := c.Call(context.Background(), "status", "sshd")
	if err != nil {
		t.Fatal(err)
	}
	if v != "pong" {
		t.Errorf("Call = %#v, want pong", v)
	}
	s := <-ch
	if s.err != nil {
		t.Fatal(s.err)
	}
	dec, err := ogorek.NewDecoder(bytes.NewReader(bytes.TrimSuffix(s.req, []byte(endMarker)))).Decode()
	if err != nil {
		t.Fatalf("server could not decode request %q: %v", s.req, err)
	}
	if want := []any{"status", "sshd"}; !reflect.DeepEqual(dec, want) {
		t.Errorf("request decoded to %#v, want %#v", dec, want)
	}
	if !bytes.HasPrefix(s.req, []byte("\x80\x04")) {
		t.Errorf("request %q is not pickle protocol 4", s.req)
	}
	if string(s.rest) != closeCommand {
		t.Errorf("after the reply the client sent %q, want %q", s.rest, closeCommand)
	}
}

func TestCallPingVersion(t *testing.T) {
	path := sockPath(t)
	ping, version, invalid := goldenFull(t, "ping.resp"), goldenFull(t, "version.resp"), goldenFull(t, "err_invalid.resp")
	listenFake(t, path, func(conn net.Conn) {
		req, err := readRequest(conn)
		if err != nil {
			return
		}
		switch {
		case bytes.Contains(req, []byte("ping")):
			conn.Write(ping)
		case bytes.Contains(req, []byte("version")):
			conn.Write(version)
		default:
			conn.Write(invalid)
		}
	})
	c := NewClient(path)
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if v, err := c.Version(ctx); err != nil || v != "1.0.2" {
		t.Errorf("Version = %q, %v; want 1.0.2", v, err)
	}
	_, err := c.Call(ctx, "foo")
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Message != "Invalid command" {
		t.Errorf("Call(foo) err = %v, want Invalid command", err)
	}
}

func TestPingUnexpectedReply(t *testing.T) {
	path := sockPath(t)
	listenFake(t, path, replyWith(goldenFull(t, "version.resp")))
	err := NewClient(path).Ping(context.Background())
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("Ping err = %v, want *ProtocolError", err)
	}
}

func TestCallMaxReply(t *testing.T) {
	ping := goldenFull(t, "ping.resp")
	payload := len(ping) - len(endMarker)

	t.Run("exact fit", func(t *testing.T) {
		path := sockPath(t)
		listenFake(t, path, replyWith(ping))
		v, err := NewClient(path, WithMaxReply(payload)).Call(context.Background(), "ping")
		if err != nil || v != "pong" {
			t.Fatalf("Call = %#v, %v; want pong", v, err)
		}
	})
	t.Run("one byte over", func(t *testing.T) {
		path := sockPath(t)
		listenFake(t, path, replyWith(ping))
		_, err := NewClient(path, WithMaxReply(payload-1)).Call(context.Background(), "ping")
		if !errors.Is(err, ErrReplyTooLarge) {
			t.Fatalf("err = %v, want ErrReplyTooLarge", err)
		}
	})
	t.Run("endless stream", func(t *testing.T) {
		path := sockPath(t)
		listenFake(t, path, func(conn net.Conn) {
			if _, err := readRequest(conn); err != nil {
				return
			}
			chunk := bytes.Repeat([]byte("x"), 4096)
			for {
				if _, err := conn.Write(chunk); err != nil {
					return
				}
			}
		})
		_, err := NewClient(path, WithMaxReply(100_000)).Call(context.Background(), "ping")
		if !errors.Is(err, ErrReplyTooLarge) {
			t.Fatalf("err = %v, want ErrReplyTooLarge", err)
		}
		if IsUnreachable(err) {
			t.Errorf("IsUnreachable(%v) = true", err)
		}
	})
}

func TestCallClosedWithoutMarker(t *testing.T) {
	path := sockPath(t)
	listenFake(t, path, func(conn net.Conn) {
		if _, err := readRequest(conn); err == nil {
			conn.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n"))
		}
	})
	_, err := NewClient(path).Call(context.Background(), "ping")
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *ProtocolError", err)
	}
}

func TestCallGarbageWithMarker(t *testing.T) {
	path := sockPath(t)
	listenFake(t, path, replyWith([]byte("garbage"+endMarker)))
	// The garbage does not end with STOP, so the client waits for more
	// until the timeout and then decodes what it has.
	_, err := NewClient(path, WithTimeout(200*time.Millisecond)).Call(context.Background(), "ping")
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *ProtocolError", err)
	}
}

// silentServer accepts connections, signals each received request on got and
// never answers.
func silentServer(t *testing.T, path string) <-chan struct{} {
	got := make(chan struct{}, 10)
	listenFake(t, path, func(conn net.Conn) {
		if _, err := readRequest(conn); err != nil {
			return
		}
		got <- struct{}{}
		io.Copy(io.Discard, conn) // until the client hangs up
	})
	return got
}

func TestCallTimeout(t *testing.T) {
	path := sockPath(t)
	silentServer(t, path)
	start := time.Now()
	_, err := NewClient(path, WithTimeout(100*time.Millisecond)).Call(context.Background(), "ping")
	if !errors.Is(err, ErrTimeout) || !IsUnreachable(err) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if errors.Is(err, ErrUnreachable) {
		t.Errorf("read timeout also matches ErrUnreachable: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("call took %v", d)
	}
}

func TestCallContextDeadline(t *testing.T) {
	path := sockPath(t)
	silentServer(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := NewClient(path).Call(ctx, "ping")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want context.DeadlineExceeded and ErrTimeout", err)
	}
}

func TestCallContextCancel(t *testing.T) {
	path := sockPath(t)
	got := silentServer(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-got
		cancel()
	}()
	_, err := NewClient(path).Call(ctx, "ping")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if errors.Is(err, ErrTimeout) {
		t.Errorf("cancellation matches ErrTimeout: %v", err)
	}
}

func TestCallRetry(t *testing.T) {
	ping := goldenFull(t, "ping.resp")

	t.Run("socket appears", func(t *testing.T) {
		path := sockPath(t)
		c := NewClient(path)
		c.retryWait = 10 * time.Millisecond
		calls := 0
		c.beforeRetry = func() {
			calls++
			listenFake(t, path, replyWith(ping))
		}
		v, err := c.Call(context.Background(), "ping")
		if err != nil || v != "pong" {
			t.Fatalf("Call = %#v, %v; want pong", v, err)
		}
		if calls != 1 {
			t.Errorf("retried %d times, want 1", calls)
		}
	})

	t.Run("refused then listening", func(t *testing.T) {
		path := sockPath(t)
		staleSocket(t, path)
		c := NewClient(path)
		c.retryWait = 10 * time.Millisecond
		c.beforeRetry = func() {
			os.Remove(path)
			listenFake(t, path, replyWith(ping))
		}
		v, err := c.Call(context.Background(), "ping")
		if err != nil || v != "pong" {
			t.Fatalf("Call = %#v, %v; want pong", v, err)
		}
	})

	t.Run("still missing", func(t *testing.T) {
		path := sockPath(t)
		c := NewClient(path)
		c.retryWait = 10 * time.Millisecond
		calls := 0
		c.beforeRetry = func() { calls++ }
		_, err := c.Call(context.Background(), "ping")
		if !errors.Is(err, ErrUnreachable) || !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("err = %v, want ErrUnreachable wrapping ENOENT", err)
		}
		if errors.Is(err, ErrTimeout) || errors.Is(err, ErrPermission) {
			t.Errorf("err %v matches the wrong sentinel", err)
		}
		if calls != 1 {
			t.Errorf("retried %d times, want exactly 1", calls)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the socket", err)
		}
	})

	t.Run("refused", func(t *testing.T) {
		path := sockPath(t)
		staleSocket(t, path)
		c := NewClient(path)
		c.retryWait = 10 * time.Millisecond
		_, err := c.Call(context.Background(), "ping")
		if !errors.Is(err, ErrUnreachable) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("err = %v, want ErrUnreachable wrapping ECONNREFUSED", err)
		}
	})

	t.Run("retry respects context", func(t *testing.T) {
		path := sockPath(t)
		c := NewClient(path) // default 200ms pause
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Call(ctx, "ping")
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("err = %v, want ErrUnreachable", err)
		}
		if d := time.Since(start); d >= 200*time.Millisecond {
			t.Errorf("call took %v, should not wait out the retry pause", d)
		}
	})
}

// staleSocket leaves a unix socket file at path that nobody listens on.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
}

func TestCallMaxConcurrent(t *testing.T) {
	path := sockPath(t)
	var active, peak atomic.Int32
	arrived := make(chan struct{}, 10)
	release := make(chan struct{})
	ping := goldenFull(t, "ping.resp")
	listenFake(t, path, func(conn net.Conn) {
		if _, err := readRequest(conn); err != nil {
			return
		}
		n := active.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		arrived <- struct{}{}
		<-release
		active.Add(-1)
		conn.Write(ping)
	})

	c := NewClient(path, WithMaxConcurrent(2))
	const calls = 5
	errs := make(chan error, calls)
	for range calls {
		go func() {
			_, err := c.Call(context.Background(), "ping")
			errs <- err
		}()
	}
	<-arrived
	<-arrived
	close(release)
	for range calls {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("server saw %d concurrent calls, limit is 2", p)
	}
}

func TestClassification(t *testing.T) {
	sysErr := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", errno)}
	}
	c := NewClient("/x")
	ctx := context.Background()
	tests := []struct {
		err         error
		unreachable bool
		permission  bool
		probe       ProbeStatus
	}{
		{sysErr(syscall.ENOENT), true, false, ProbeMissing},
		{sysErr(syscall.ECONNREFUSED), true, false, ProbeRefused},
		{sysErr(syscall.EACCES), false, true, ProbePermission},
		{sysErr(syscall.EPERM), false, true, ProbePermission},
		{sysErr(syscall.ENOTSOCK), true, false, ProbeNotSocket},
		{&net.OpError{Op: "dial", Net: "unix", Err: os.ErrDeadlineExceeded}, true, false, ProbeNotFail2ban},
	}
	for _, tt := range tests {
		err := c.opErr(ctx, "dial", tt.err, dialKind(tt.err))
		if got := errors.Is(err, ErrUnreachable); got != tt.unreachable {
			t.Errorf("%v: ErrUnreachable = %v, want %v", err, got, tt.unreachable)
		}
		if got := errors.Is(err, ErrPermission); got != tt.permission {
			t.Errorf("%v: ErrPermission = %v, want %v", err, got, tt.permission)
		}
		if !IsUnreachable(err) {
			t.Errorf("%v: IsUnreachable = false", err)
		}
		if got := probeStatusOf(err); got != tt.probe {
			t.Errorf("%v: probe status %v, want %v", err, got, tt.probe)
		}
	}
	if IsUnreachable(errors.New("other")) || IsUnreachable(nil) {
		t.Error("IsUnreachable true for unrelated error")
	}
}
