package hosts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"bangui/fail2ban"
	"bangui/hosts/wire"
	"bangui/lang"
)

// UnreachableError is an agent that did not answer: the connection failed
// or the call ran out of time. It matches fail2ban.ErrUnreachable (and
// fail2ban.ErrTimeout when the deadline passed), so the panel treats it as
// a host whose fail2ban does not answer.
type UnreachableError struct {
	URL     string
	Err     error
	Timeout bool
}

// Error implements error.
func (e *UnreachableError) Error() string { return e.message().Error() }

func (e *UnreachableError) message() lang.Message {
	if e.Timeout {
		return lang.M("fleet.agent.timeout", "URL", e.URL)
	}
	return lang.M("fleet.agent.down", "URL", e.URL, "Cause", e.Reason())
}

// As gives errors.As (and lang.Of) the error in the panel's words.
func (e *UnreachableError) As(target any) bool { return lang.As(target, e.message()) }

// Reason words why the connection to the agent failed, without the
// request's method and URL that net/http puts in front of it.
func (e *UnreachableError) Reason() lang.Message {
	err := e.Err
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case err == nil:
		return lang.Message{}
	case errors.Is(err, syscall.ECONNREFUSED):
		return lang.M("fleet.agent.connection_refused")
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return lang.M("fleet.agent.no_route", "Cause", err)
	}
	return lang.Of(err)
}

// Unwrap returns the cause.
func (e *UnreachableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, fail2ban.ErrUnreachable) true, and
// fail2ban.ErrTimeout for a deadline that passed.
func (e *UnreachableError) Is(target error) bool {
	return target == fail2ban.ErrUnreachable || e.Timeout && target == fail2ban.ErrTimeout
}

// transportError words a request that got no answer.
func transportError(ctx context.Context, base string, err error) error {
	if fe := fingerprintOf(err); fe != nil {
		return fe
	}
	timeout := errors.Is(ctx.Err(), context.DeadlineExceeded)
	if !timeout {
		var te interface{ Timeout() bool }
		timeout = errors.As(err, &te) && te.Timeout()
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return lang.Wrap(lang.M("fleet.agent.cancelled", "URL", base, "Cause", ctx.Err()), ctx.Err())
	}
	return &UnreachableError{URL: base, Err: err, Timeout: timeout}
}

// call runs one method of the agent with args and decodes its result into
// out (nil: ignore it), within d.
func (r *Remote) call(ctx context.Context, d time.Duration, method string, args, out any) error {
	if args == nil {
		args = wire.Empty{}
	}
	if out == nil {
		return r.do(ctx, d, http.MethodPost, wire.PathCall+method, args, nil)
	}
	res := wire.Result[any]{Result: out}
	return r.do(ctx, d, http.MethodPost, wire.PathCall+method, args, &res)
}

// do sends one request with the credential and decodes the answer: out on
// success, the agent's error otherwise.
func (r *Remote) do(ctx context.Context, d time.Duration, method, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("hosts: encode the request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return fmt.Errorf("hosts: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if r.opts.Credential != "" {
		req.Header.Set("Authorization", "Bearer "+r.opts.Credential)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return transportError(ctx, r.base, err)
	}
	defer resp.Body.Close()
	lr := io.LimitReader(resp.Body, wire.MaxReply+1)
	if resp.StatusCode != http.StatusOK {
		var f wire.Failure
		b, rerr := io.ReadAll(lr)
		if rerr != nil {
			return transportError(ctx, r.base, rerr)
		}
		if json.Unmarshal(b, &f) != nil || f.Error.Code == "" {
			return &AgentError{Code: wire.CodeError, Message: lang.M("fleet.agent.answered", "URL", r.base, "Status", resp.Status)}
		}
		return DecodeError(f.Error)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, lr)
		return nil
	}
	dec := json.NewDecoder(lr)
	if err := dec.Decode(out); err != nil {
		if ctx.Err() != nil {
			return transportError(ctx, r.base, err)
		}
		return &AgentError{Code: wire.CodeError, Message: lang.M("fleet.agent.unreadable", "URL", r.base, "Cause", err)}
	}
	return nil
}
