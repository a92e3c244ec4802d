package services

import (
	"context"
	"sync"
	"time"

	"bangui/fail2ban"
	"bangui/hosts"
)

// HostDeadline bounds what one host may take in a call that asks several
// hosts: a slow or dead host never holds a page for longer. It leaves half
// a second of the 2 s a page may take to the rest of the request.
const HostDeadline = 1500 * time.Millisecond

// HostWriteDeadline bounds one host's part of a change made on several
// hosts (a ban on every host): a change may take longer than a read, and
// one cut short could be applied yet reported as failed. It is the time a
// single fail2ban command may take.
const HostWriteDeadline = fail2ban.DefaultTimeout

// HostResult is one host's answer to a call made on several hosts.
type HostResult[T any] struct {
	Host  string // the host's id
	Value T
	Err   error
}

// EachHost calls fn on every host in list at once, each with its own
// HostDeadline, and returns the answers in the order of list. A list of
// one host gets no deadline of its own: with nothing else to show, the
// page waits for that host as long as its client allows (a single-host
// panel behaves as it did before there were several).
func EachHost[T any](ctx context.Context, list []hosts.Host, fn func(context.Context, hosts.Host) (T, error)) []HostResult[T] {
	return EachHostWithin(ctx, list, HostDeadline, fn)
}

// EachHostWithin is EachHost with another deadline per host, such as
// HostWriteDeadline for changes.
func EachHostWithin[T any](ctx context.Context, list []hosts.Host, deadline time.Duration, fn func(context.Context, hosts.Host) (T, error)) []HostResult[T] {
	out := make([]HostResult[T], len(list))
	var wg sync.WaitGroup
	for i, h := range list {
		wg.Go(func() {
			hctx, cancel := ctx, context.CancelFunc(func() {})
			if len(list) > 1 {
				hctx, cancel = context.WithTimeout(ctx, deadline)
			}
			defer cancel()
			v, err := fn(hctx, h)
			out[i] = HostResult[T]{Host: h.ID(), Value: v, Err: err}
		})
	}
	wg.Wait()
	return out
}
