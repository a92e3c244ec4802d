package events

import (
	"context"
	"sync"
	"testing"
	"time"
)

func receive(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("channel closed, want an event")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return Event{}
}

func TestSubscribersGetTheirTopicsOnly(t *testing.T) {
	b := New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	status := b.Subscribe(ctx, TopicStatus)
	all := b.Subscribe(ctx)
	b.Publish(Event{Topic: TopicArchive, Host: "local", Data: ArchiveSynced{Inserted: 3}})
	b.Publish(Event{Topic: TopicStatus, Host: "web1"})

	if e := receive(t, status); e.Topic != TopicStatus || e.Host != "web1" || e.Time.IsZero() {
		t.Errorf("status subscriber got %+v, want the status event of web1 with a time", e)
	}
	if e := receive(t, all); e.Topic != TopicArchive || e.Data.(ArchiveSynced).Inserted != 3 {
		t.Errorf("first event of the catch-all = %+v, want the archive event", e)
	}
	if e := receive(t, all); e.Topic != TopicStatus {
		t.Errorf("second event of the catch-all = %+v, want the status event", e)
	}
	select {
	case e := <-status:
		t.Errorf("status subscriber also got %+v", e)
	default:
	}
}

func TestCancelledSubscriptionIsClosedAndForgotten(t *testing.T) {
	b := New()
	ctx, cancel := context.WithCancel(context.Background())
	ch := b.Subscribe(ctx, TopicImport)
	if n := b.Subscribers(); n != 1 {
		t.Fatalf("Subscribers = %d, want 1", n)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for b.Subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("subscription still registered 5 s after its context ended")
		}
		time.Sleep(time.Millisecond)
	}
	if _, ok := <-ch; ok {
		t.Error("channel of an ended subscription still open")
	}
	b.Publish(Event{Topic: TopicImport}) // must not panic on the closed channel
}

func TestSlowSubscriberDoesNotBlockThePublisher(t *testing.T) {
	b := New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow := b.Subscribe(ctx, TopicStatus)
	done := make(chan struct{})
	go func() {
		for range subscriberBuffer + 10 {
			b.Publish(Event{Topic: TopicStatus})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a subscriber that reads nothing")
	}
	if got := b.Dropped(); got != 10 {
		t.Errorf("Dropped = %d, want 10 (buffer %d, 10 more published)", got, subscriberBuffer)
	}
	if len(slow) != subscriberBuffer {
		t.Errorf("slow subscriber holds %d events, want its buffer full (%d)", len(slow), subscriberBuffer)
	}
}

func TestPublishWhileSubscribersComeAndGo(t *testing.T) {
	b := New()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				ctx, cancel := context.WithCancel(context.Background())
				ch := b.Subscribe(ctx)
				b.Publish(Event{Topic: TopicArchive})
				receive(t, ch)
				cancel()
			}
		}()
	}
	wg.Wait()
}

func TestNilBrokerPublishIsANoOp(t *testing.T) {
	var b *Broker
	b.Publish(Event{Topic: TopicStatus})
}
