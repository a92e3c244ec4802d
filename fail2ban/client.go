// Package fail2ban is a client for the fail2ban server control socket.
//
// Each call dials the unix socket, sends one pickled command list (or, with
// CallMany, several in turn), reads the pickled replies and closes the
// connection again; fail2ban recreates its socket on every restart, so no
// connection is kept open.
//
// On top of the raw Call, the Client offers typed methods (Status, Ban,
// JailSettings, ...) that validate jail names, addresses and values before
// anything is sent, and Runner runs fail2ban-client for the commands that
// only work from the client side (reload, restart, configuration tests).
package fail2ban

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	ogorek "github.com/kisielk/og-rek"
)

// Defaults used by NewClient.
const (
	DefaultSocketPath    = "/var/run/fail2ban/fail2ban.sock"
	DefaultTimeout       = 5 * time.Second
	DefaultMaxConcurrent = 4
	DefaultMaxReply      = 8 << 20
)

const (
	endMarker    = "<F2B_END_COMMAND>"
	closeCommand = "<F2B_CLOSE_COMMAND>" + endMarker
	retryWait    = 200 * time.Millisecond
	busyWait     = 10 * time.Millisecond // first pause when fail2ban's accept queue is full
	readChunk    = 4096
)

// Client talks to one fail2ban socket. It is safe for concurrent use; the
// number of simultaneous connections is bounded (see WithMaxConcurrent).
type Client struct {
	path      string
	timeout   time.Duration
	maxReply  int
	sem       chan struct{}
	retryWait time.Duration
	// beforeRetry, when set, runs right before the second dial attempt
	// (tests use it to make the socket appear).
	beforeRetry func()

	// Commands that only newer servers know, detected by trying them once
	// (see feature).
	statusAll feature // "status --all short" (fail2ban >= 1.1)
	getIdle   feature // "get <jail> idle"
}

// Option configures a Client.
type Option func(*Client)

// WithTimeout sets the time limit of a single call (dial, request and
// reply). A shorter context deadline still wins. Non-positive values are
// ignored.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithMaxConcurrent bounds the number of calls in flight at once. Values
// below 1 are ignored.
func WithMaxConcurrent(n int) Option {
	return func(c *Client) {
		if n >= 1 {
			c.sem = make(chan struct{}, n)
		}
	}
}

// WithMaxReply caps the size in bytes of a reply. Non-positive values are
// ignored.
func WithMaxReply(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxReply = n
		}
	}
}

// NewClient returns a client for the fail2ban socket at socketPath. No
// connection is made until the first call.
func NewClient(socketPath string, opts ...Option) *Client {
	c := &Client{
		path:      socketPath,
		timeout:   DefaultTimeout,
		maxReply:  DefaultMaxReply,
		sem:       make(chan struct{}, DefaultMaxConcurrent),
		retryWait: retryWait,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// SocketPath returns the socket path the client dials.
func (c *Client) SocketPath() string { return c.path }

// Call sends one command, for example Call(ctx, "status", "sshd"), and
// returns the decoded payload (see DecodeReply for the value mapping).
//
// Errors: *CommandError when fail2ban rejected the command (errors.Is with
// ErrUnknownJail for unknown jails), *ProtocolError for malformed replies,
// otherwise I/O errors matching ErrUnreachable, ErrPermission, ErrTimeout or
// ErrReplyTooLarge, or the context's error.
func (c *Client) Call(ctx context.Context, args ...string) (any, error) {
	req, err := encodeRequest(args)
	if err != nil {
		return nil, err
	}
	var v any
	var cmdErr error
	err = c.exchange(ctx, [][]byte{req}, func(_ int, reply []byte) {
		v, cmdErr = DecodeReply(reply)
	})
	if err != nil {
		return nil, err
	}
	return v, cmdErr
}

// Result is the outcome of one command of a CallMany batch.
type Result struct {
	Value any   // decoded payload, as returned by Call
	Err   error // the command's own error (*CommandError, *ProtocolError, encoding error)
}

// CallMany sends several commands over a single connection, one after the
// other, and returns one Result per command in the same order. It uses one
// dial and one concurrency slot; the per-call timeout applies to each
// command.
//
// A command that fail2ban rejects, or whose reply cannot be decoded, only
// sets its own Result.Err. Failures of the connection itself (dial, I/O,
// timeout, oversized reply, broken framing) fail the whole call: the
// results are nil and the error is classified as for Call.
func (c *Client) CallMany(ctx context.Context, cmds [][]string) ([]Result, error) {
	results := make([]Result, len(cmds))
	reqs := make([][]byte, 0, len(cmds))
	index := make([]int, 0, len(cmds)) // position in results of each request
	for i, args := range cmds {
		req, err := encodeRequest(args)
		if err != nil {
			results[i].Err = err
			continue
		}
		reqs = append(reqs, req)
		index = append(index, i)
	}
	if len(reqs) == 0 {
		return results, nil
	}
	err := c.exchange(ctx, reqs, func(n int, reply []byte) {
		r := &results[index[n]]
		r.Value, r.Err = DecodeReply(reply)
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// exchange holds a concurrency slot, dials once and sends each request in
// turn, handing every raw reply (without end marker) to got. Each request
// gets the full per-call timeout, bounded by the context deadline.
func (c *Client) exchange(ctx context.Context, reqs [][]byte, got func(n int, reply []byte)) error {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return c.opErr(ctx, "wait for a free slot", ctx.Err(), nil)
	}
	defer func() { <-c.sem }()

	conn, err := c.dial(ctx, c.deadline(ctx))
	if err != nil {
		return err
	}
	defer conn.Close()
	// Abort blocked I/O as soon as the context is done.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	for n, req := range reqs {
		if n > 0 && ctx.Err() != nil {
			return c.opErr(ctx, "send request", ctx.Err(), nil)
		}
		if err := conn.SetDeadline(c.deadline(ctx)); err != nil {
			return c.opErr(ctx, "set deadline", err, nil)
		}
		if _, err := conn.Write(req); err != nil {
			return c.opErr(ctx, "send request", err, ioKind(err))
		}
		reply, err := c.readReply(conn)
		if err != nil {
			var pe *ProtocolError
			if errors.As(err, &pe) || errors.Is(err, ErrReplyTooLarge) {
				return err
			}
			return c.opErr(ctx, "read reply", err, ioKind(err))
		}
		got(n, reply)
	}
	// Polite goodbye; the server closes its side on receipt. Errors do not
	// matter any more.
	_, _ = conn.Write([]byte(closeCommand))
	return nil
}

// callTimeoutKey is the context key of WithCallTimeout.
type callTimeoutKey struct{}

// WithCallTimeout returns a context under which each call may take up to d
// (dial, request and reply) instead of the client's own limit (see
// WithTimeout), for commands that take long, such as banning thousands of
// addresses at once. The context's deadline still wins. Non-positive values
// are ignored.
func WithCallTimeout(ctx context.Context, d time.Duration) context.Context {
	if d <= 0 {
		return ctx
	}
	return context.WithValue(ctx, callTimeoutKey{}, d)
}

// deadline is now plus the per-call timeout (see WithCallTimeout), or the
// context deadline when that comes first.
func (c *Client) deadline(ctx context.Context) time.Time {
	timeout := c.timeout
	if d, ok := ctx.Value(callTimeoutKey{}).(time.Duration); ok {
		timeout = d
	}
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return deadline
}

// Ping checks that the server answers "pong".
func (c *Client) Ping(ctx context.Context) error {
	v, err := c.Call(ctx, "ping")
	if err != nil {
		return err
	}
	if s, ok := v.(string); !ok || s != "pong" {
		return &ProtocolError{Message: "unexpected ping reply: " + describe(v)}
	}
	return nil
}

// Version returns the server version, for example "1.0.2".
func (c *Client) Version(ctx context.Context) (string, error) {
	v, err := c.Call(ctx, "version")
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", &ProtocolError{Message: "unexpected version reply: " + describe(v)}
	}
	return s, nil
}

// encodeRequest pickles args as a list of str and appends the end marker.
func encodeRequest(args []string) ([]byte, error) {
	if len(args) == 0 {
		return nil, errors.New("fail2ban: empty command")
	}
	list := make([]any, len(args))
	for i, a := range args {
		if !utf8.ValidString(a) {
			return nil, fmt.Errorf("fail2ban: argument %d is not valid UTF-8", i)
		}
		list[i] = a
	}
	var b bytes.Buffer
	if err := ogorek.NewEncoderWithConfig(&b, &ogorek.EncoderConfig{Protocol: 4}).Encode(list); err != nil {
		return nil, fmt.Errorf("fail2ban: encode request: %w", err)
	}
	if bytes.Contains(b.Bytes(), []byte(endMarker)) {
		return nil, errors.New("fail2ban: request contains the protocol end marker")
	}
	b.WriteString(endMarker)
	return b.Bytes(), nil
}

// dial connects to the socket, retrying once after a short pause when the
// socket is missing or refuses connections (fail2ban restarting), and
// again and again, until the deadline, while fail2ban is too busy to
// accept: it listens with a backlog of one, so a connection that arrives
// while another waits fails at once with EAGAIN.
func (c *Client) dial(ctx context.Context, deadline time.Time) (net.Conn, error) {
	d := net.Dialer{Deadline: deadline}
	busy := 0
	for attempt := 0; ; attempt++ {
		conn, err := d.DialContext(ctx, "unix", c.path)
		if err == nil {
			return conn, nil
		}
		wait := c.retryWait
		retryable := attempt == 0 && (errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED))
		if errors.Is(err, syscall.EAGAIN) {
			retryable, wait = true, min(busyWait<<min(busy, 4), c.retryWait)
			busy++
		}
		if !retryable || ctx.Err() != nil || time.Until(deadline) <= wait {
			return nil, c.opErr(ctx, "dial", err, dialKind(err))
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, c.opErr(ctx, "dial", err, dialKind(err))
		}
		if c.beforeRetry != nil {
			c.beforeRetry()
		}
	}
}

// readReply reads until the reply ends with the end marker and returns it
// without the marker.
func (c *Client) readReply(conn net.Conn) ([]byte, error) {
	limit := c.maxReply + len(endMarker)
	buf := make([]byte, 0, readChunk)
	for {
		n := min(max(readChunk, len(buf)), limit+1-len(buf))
		buf = slices.Grow(buf, n)
		m, err := conn.Read(buf[len(buf) : len(buf)+n])
		buf = buf[:len(buf)+m]
		if len(buf) > limit {
			return nil, &opError{op: "read reply", path: c.path,
				kinds: []error{ErrReplyTooLarge},
				err:   fmt.Errorf("more than %d bytes", c.maxReply)}
		}
		if replyComplete(buf) {
			return buf[:len(buf)-len(endMarker)], nil
		}
		if err != nil {
			// The marker may also sit at the end of a reply that does not
			// look complete; take it when nothing else follows.
			if bytes.HasSuffix(buf, []byte(endMarker)) {
				return buf[:len(buf)-len(endMarker)], nil
			}
			if errors.Is(err, io.EOF) {
				return nil, &ProtocolError{
					Message: fmt.Sprintf("connection closed after %d bytes without end marker", len(buf)),
					Err:     io.ErrUnexpectedEOF,
				}
			}
			return nil, err
		}
	}
}

// replyComplete reports whether buf holds a pickle (ending with STOP) followed
// by the end marker. Checking for STOP avoids stopping early at a marker that
// happens to occur inside a string of the reply.
func replyComplete(buf []byte) bool {
	n := len(buf) - len(endMarker)
	return n > 0 && buf[n-1] == '.' && string(buf[n:]) == endMarker
}

// dialKind classifies a dial error.
func dialKind(err error) []error {
	switch {
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return []error{ErrPermission}
	case isTimeout(err):
		return []error{ErrUnreachable, ErrTimeout}
	default:
		return []error{ErrUnreachable}
	}
}

// ioKind classifies an error on an established connection.
func ioKind(err error) []error {
	switch {
	case isTimeout(err):
		return []error{ErrTimeout}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return []error{ErrUnreachable}
	default:
		return nil
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// opErr builds the error for a failed operation; when the context is done its
// error takes precedence over the classification of err.
func (c *Client) opErr(ctx context.Context, op string, err error, kinds []error) error {
	cerr := ctx.Err()
	if d, ok := ctx.Deadline(); ok && cerr == nil && isTimeout(err) && !time.Now().Before(d) {
		// The socket deadline was the context's; its timer may not have
		// fired yet.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil {
		if errors.Is(cerr, context.DeadlineExceeded) {
			// Keep the classification (a dial that timed out is still
			// unreachable), but lead with the context error.
			rest := slices.DeleteFunc(slices.Clone(kinds), func(k error) bool { return k == ErrTimeout })
			kinds = append([]error{cerr, ErrTimeout}, rest...)
		} else {
			kinds = []error{cerr}
		}
		if err == cerr {
			err = nil
		}
	}
	return &opError{op: op, path: c.path, kinds: kinds, err: err}
}

// opError is an I/O failure that matches (errors.Is) every error in kinds as
// well as the underlying error.
type opError struct {
	op    string
	path  string
	kinds []error
	err   error
}

func (e *opError) Error() string {
	var b strings.Builder
	b.WriteString("fail2ban: ")
	b.WriteString(e.op)
	b.WriteString(" ")
	b.WriteString(e.path)
	if len(e.kinds) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.kinds[0].Error(), "fail2ban: "))
	}
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

func (e *opError) Unwrap() []error {
	errs := slices.Clone(e.kinds)
	if e.err != nil {
		errs = append(errs, e.err)
	}
	return errs
}

// describe renders a decoded value briefly for error messages.
func describe(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", clip(s, 100))
	}
	return fmt.Sprintf("%T", v)
}
