// Package events is BanGUI's in-process event broker: the status probe, the
// archive sync and blocklist imports publish what changed; live pages (and
// later alert rules) subscribe. One publisher per change, however many
// subscribers: a slow subscriber loses events instead of holding up the
// publisher.
package events

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Topic names a kind of event.
type Topic string

// The topics BanGUI publishes.
const (
	// TopicStatus: a host's fail2ban status changed (online, version, counts). Data: models.ServerStatus.
	TopicStatus Topic = "status"
	// TopicArchive: an archive sync of a host stored new events. Data: ArchiveSynced.
	TopicArchive Topic = "archive"
	// TopicImport: a blocklist import made progress or finished. Data: models.ImportProgress.
	TopicImport Topic = "import"
	// TopicAddresses: a command of the panel unbanned addresses on a host
	// (fail2ban's database does not say so). Data: AddressesChanged.
	TopicAddresses Topic = "addresses"
)

// Event is one thing that happened.
type Event struct {
	Topic Topic
	Host  string // the fail2ban host it concerns; "" when it concerns none
	Time  time.Time
	Data  any
}

// ArchiveSynced is the data of a TopicArchive event.
type ArchiveSynced struct {
	Inserted int64 // new events stored by this sync
	Purged   int64 // events removed for being older than the retention
}

// AddressesChanged is the data of a TopicAddresses event.
type AddressesChanged struct {
	// IPs are the addresses and ranges whose state changed; empty when it
	// may be any address of the host (every ban lifted, a jail stopped).
	IPs []string
}

// subscriberBuffer is how many events a subscriber may fall behind before
// it starts losing them.
const subscriberBuffer = 64

// Broker fans events out to subscribers. The zero value is not usable; use New.
type Broker struct {
	mu      sync.RWMutex
	subs    map[*subscription]struct{}
	now     func() time.Time
	dropped atomic.Int64
}

type subscription struct {
	topics []Topic // empty: every topic
	ch     chan Event
}

// New returns an empty broker.
func New() *Broker {
	return &Broker{subs: map[*subscription]struct{}{}, now: time.Now}
}

// Publish sends e to every subscriber of its topic without waiting: a
// subscriber whose buffer is full misses it (counted in Dropped). A zero
// Time is set to now.
func (b *Broker) Publish(e Event) {
	if b == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = b.now()
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs {
		if len(s.topics) > 0 && !slices.Contains(s.topics, e.Topic) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			b.dropped.Add(1)
		}
	}
}

// Subscribe returns a channel of the events of the given topics (every
// topic when none is given) published from now on. The subscription ends,
// and the channel is closed, when ctx ends.
func (b *Broker) Subscribe(ctx context.Context, topics ...Topic) <-chan Event {
	s := &subscription{topics: slices.Clone(topics), ch: make(chan Event, subscriberBuffer)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		delete(b.subs, s)
		close(s.ch)
		b.mu.Unlock()
	})
	return s.ch
}

// Subscribers is how many subscriptions are open.
func (b *Broker) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.subs)
}

// Dropped is how many deliveries were skipped because a subscriber was full.
func (b *Broker) Dropped() int64 { return b.dropped.Load() }
