package fail2ban

import (
	"bytes"
	"context"
	"errors"
	"net"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ogorek "github.com/kisielk/og-rek"
)

// okReply pickles a successful reply (0, v) with its end marker.
func okReply(t testing.TB, v any) []byte {
	return pickleReply(t, ogorek.Tuple{int64(0), v})
}

// excReply pickles a failure reply (1, module.name(msg)).
func excReply(t testing.TB, module, name, msg string) []byte {
	return pickleReply(t, ogorek.Tuple{int64(1), ogorek.Call{
		Callable: ogorek.Class{Module: module, Name: name},
		Args:     ogorek.Tuple{msg},
	}})
}

func pickleReply(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := ogorek.NewEncoderWithConfig(&b, &ogorek.EncoderConfig{Protocol: 4}).Encode(v); err != nil {
		t.Fatal(err)
	}
	b.WriteString(endMarker)
	return b.Bytes()
}

// decodeRequest turns a request (with end marker) back into its arguments.
func decodeRequest(req []byte) ([]string, error) {
	v, err := ogorek.NewDecoder(bytes.NewReader(bytes.TrimSuffix(req, []byte(endMarker)))).Decode()
	if err != nil {
		return nil, err
	}
	l, _ := v.([]any)
	out := make([]string, len(l))
	for i, e := range l {
		out[i], _ = e.(string)
	}
	return out, nil
}

// fakeF2B is a fake fail2ban server answering each request with
// answer(args); a nil answer makes it hang up. It records every connection's
// commands and whether the client said goodbye.
type fakeF2B struct {
	mu     sync.Mutex
	conns  [][][]string // commands per connection
	closed []bool       // close command received, per connection
	answer func(args []string) []byte
}

func startFake(t *testing.T, answer func(args []string) []byte) (*fakeF2B, string) {
	t.Helper()
	f := &fakeF2B{answer: answer}
	path := sockPath(t)
	listenFake(t, path, func(conn net.Conn) {
		f.mu.Lock()
		n := len(f.conns)
		f.conns = append(f.conns, nil)
		f.closed = append(f.closed, false)
		f.mu.Unlock()
		for {
			req, err := readRequest(conn)
			if err != nil {
				return
			}
			if string(req) == closeCommand {
				f.mu.Lock()
				f.closed[n] = true
				f.mu.Unlock()
				return
			}
			args, err := decodeRequest(req)
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns[n] = append(f.conns[n], args)
			f.mu.Unlock()
			reply := f.answer(args)
			if reply == nil {
				return
			}
			if _, err := conn.Write(reply); err != nil {
				return
			}
		}
	})
	return f, path
}

// connections returns a copy of the recorded commands per connection.
func (f *fakeF2B) connections() [][][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.conns)
}

// waitClosed waits until the client said goodbye on connection n.
func (f *fakeF2B) waitClosed(t *testing.T, n int) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		done := n < len(f.closed) && f.closed[n]
		f.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection %d: no close command received", n)
		}
		<-tick.C
	}
}

func TestCallManyOneConnection(t *testing.T) {
	loadErr := goldenFull(t, "err_loaderror_ascii.resp")
	fake, path := startFake(t, func(args []string) []byte {
		switch strings.Join(args, " ") {
		case "ping":
			return okReply(t, "pong")
		case "status nosuch":
			return excReply(t, "fail2ban.exceptions", "UnknownJailException", "nosuch")
		case "broken":
			return loadErr // a bare "ERROR: ..." string: a per-command protocol error
		default:
			return okReply(t, slices.Clone(args))
		}
	})
	c := NewClient(path)
	cmds := [][]string{
		{"ping"},
		{"status", "nosuch"},
		{"echo", "bad\xff"}, // cannot be encoded: never sent
		{"broken"},
		{"echo", "grüße"},
	}
	res, err := c.CallMany(context.Background(), cmds)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(cmds) {
		t.Fatalf("%d results for %d commands", len(res), len(cmds))
	}
	if res[0].Err != nil || res[0].Value != "pong" {
		t.Errorf("ping = %+v", res[0])
	}
	if !errors.Is(res[1].Err, ErrUnknownJail) || res[1].Value != nil {
		t.Errorf("status nosuch = %+v, want ErrUnknownJail", res[1])
	}
	if res[2].Err == nil || !strings.Contains(res[2].Err.Error(), "UTF-8") {
		t.Errorf("unencodable = %+v, want encoding error", res[2])
	}
	var pe *ProtocolError
	if !errors.As(res[3].Err, &pe) {
		t.Errorf("broken = %+v, want *ProtocolError", res[3])
	}
	if !reflect.DeepEqual(res[4].Value, []any{"echo", "grüße"}) || res[4].Err != nil {
		t.Errorf("echo = %+v", res[4])
	}

	fake.waitClosed(t, 0)
	conns := fake.connections()
	want := [][]string{{"ping"}, {"status", "nosuch"}, {"broken"}, {"echo", "grüße"}}
	if len(conns) != 1 || !reflect.DeepEqual(conns[0], want) {
		t.Errorf("server saw %q, want one connection with %q", conns, want)
	}
}

func TestCallManyNothingToSend(t *testing.T) {
	c := NewClient(sockPath(t)) // nothing listens: must not be dialed
	res, err := c.CallMany(context.Background(), nil)
	if err != nil || len(res) != 0 {
		t.Errorf("CallMany(nil) = %v, %v", res, err)
	}
	res, err = c.CallMany(context.Background(), [][]string{{}})
	if err != nil || len(res) != 1 || res[0].Err == nil {
		t.Errorf("CallMany(empty command) = %+v, %v; want a per-command error", res, err)
	}
}

func TestCallManyConnectionErrors(t *testing.T) {
	t.Run("hang up mid-batch", func(t *testing.T) {
		_, path := startFake(t, func(args []string) []byte {
			if args[0] == "stop-here" {
				return nil
			}
			return okReply(t, "pong")
		})
		res, err := NewClient(path).CallMany(context.Background(), [][]string{{"ping"}, {"stop-here"}, {"ping"}})
		var pe *ProtocolError
		if res != nil || !errors.As(err, &pe) {
			t.Errorf("CallMany = %+v, %v; want nil results and a protocol error", res, err)
		}
	})
	t.Run("reply too large", func(t *testing.T) {
		_, path := startFake(t, func(args []string) []byte {
			if args[0] == "big" {
				return okReply(t, strings.Repeat("x", 5000))
			}
			return okReply(t, "pong")
		})
		res, err := NewClient(path, WithMaxReply(1000)).CallMany(context.Background(), [][]string{{"ping"}, {"big"}, {"ping"}})
		if res != nil || !errors.Is(err, ErrReplyTooLarge) {
			t.Errorf("CallMany = %+v, %v; want ErrReplyTooLarge", res, err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		_, path := startFake(t, func(args []string) []byte {
			if args[0] == "slow" {
				<-release
			}
			return okReply(t, "pong")
		})
		start := time.Now()
		res, err := NewClient(path, WithTimeout(100*time.Millisecond)).CallMany(context.Background(), [][]string{{"ping"}, {"slow"}})
		if res != nil || !errors.Is(err, ErrTimeout) {
			t.Errorf("CallMany = %+v, %v; want ErrTimeout", res, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		c := NewClient(sockPath(t))
		c.retryWait = time.Millisecond
		res, err := c.CallMany(context.Background(), [][]string{{"ping"}})
		if res != nil || !errors.Is(err, ErrUnreachable) || !IsUnreachable(err) {
			t.Errorf("CallMany = %+v, %v; want ErrUnreachable", res, err)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		_, path := startFake(t, func(args []string) []byte {
			if args[0] == "cancel" {
				cancel()
			}
			return okReply(t, "pong")
		})
		res, err := NewClient(path).CallMany(ctx, [][]string{{"cancel"}, {"ping"}, {"ping"}})
		if res != nil || !errors.Is(err, context.Canceled) {
			t.Errorf("CallMany = %+v, %v; want context.Canceled", res, err)
		}
	})
}

func TestCallManyRetriesDial(t *testing.T) {
	path := sockPath(t)
	c := NewClient(path)
	c.retryWait = 10 * time.Millisecond
	retries := 0
	c.beforeRetry = func() {
		retries++
		listenFake(t, path, replyWith(goldenFull(t, "ping.resp")))
	}
	res, err := c.CallMany(context.Background(), [][]string{{"ping"}, {"ping"}})
	if err != nil || len(res) != 2 || res[0].Value != "pong" || res[1].Value != "pong" {
		t.Fatalf("CallMany = %+v, %v", res, err)
	}
	if retries != 1 {
		t.Errorf("retried %d times, want 1", retries)
	}
}

// A batch holds one concurrency slot for its whole duration.
func TestCallManyOneSlot(t *testing.T) {
	arrived := make(chan string, 10)
	release := make(chan struct{})
	path := sockPath(t)
	ping := okReply(t, "pong")
	listenFake(t, path, func(conn net.Conn) {
		for {
			req, err := readRequest(conn)
			if err != nil || string(req) == closeCommand {
				return
			}
			args, _ := decodeRequest(req)
			arrived <- strings.Join(args, " ")
			<-release
			conn.Write(ping)
		}
	})
	c := NewClient(path, WithMaxConcurrent(1))
	batchDone := make(chan error, 1)
	go func() {
		_, err := c.CallMany(context.Background(), [][]string{{"ping", "1"}, {"ping", "2"}, {"ping", "3"}})
		batchDone <- err
	}()
	if got := <-arrived; got != "ping 1" {
		t.Fatalf("first request %q", got)
	}
	callDone := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), "ping", "single")
		callDone <- err
	}()
	var order []string
	for range 3 {
		release <- struct{}{}
		order = append(order, <-arrived)
	}
	release <- struct{}{}
	if err := <-batchDone; err != nil {
		t.Fatal(err)
	}
	if err := <-callDone; err != nil {
		t.Fatal(err)
	}
	if want := []string{"ping 2", "ping 3", "ping single"}; !slices.Equal(order, want) {
		t.Errorf("server saw %q, want the batch to finish before the single call", order)
	}
}
