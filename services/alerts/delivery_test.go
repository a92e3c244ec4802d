package alerts

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"bangui/lang"
	"bangui/models"
	"bangui/repo"
)

// TestStormIsOneMessagePerChannel queues 500 alerts of one rule and group
// for two channels: nothing goes out before the wait ends, then each
// channel gets one message with the count and the subjects counted.
func TestStormIsOneMessagePerChannel(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	store := repo.NewAlertStore(db)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	d := newTestDelivery(db, clock)
	r1, r2 := newReceiver(t, "key-one-123456"), newReceiver(t, "")
	c1 := addChannel(t, store, "one", KindWebhook, Config{URL: r1.URL}, "key-one-123456")
	c2 := addChannel(t, store, "two", KindWebhook, Config{URL: r2.URL}, "")
	for i := range 500 {
		a := Alert{RuleID: 7, RuleName: "ban spike", GroupKey: "spike/local/sshd",
			Subject: fmt.Sprintf("ban in sshd on host %d", i%3), Body: "b", At: clock.Now()}
		if err := d.Enqueue(ctx, a, []int64{c1.ID, c2.ID}, time.Minute); err != nil {
			t.Fatal(err)
		}
		clock.Advance(50 * time.Millisecond)
	}
	if err := d.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if len(r1.Bodies())+len(r2.Bodies()) != 0 {
		t.Fatal("sent before the wait ended")
	}
	clock.Advance(time.Minute)
	if err := d.Round(ctx); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*receiver{"one": r1, "two": r2} {
		got := r.Bodies()
		if len(got) != 1 {
			t.Fatalf("channel %s got %d messages, want 1", name, len(got))
		}
		if got[0]["alerts"] != float64(500) || got[0]["subject"] != "500 alerts: ban spike" {
			t.Errorf("channel %s: %v", name, got[0])
		}
		if body, _ := got[0]["body"].(string); !strings.Contains(body, "167 × ban in sshd on host 0") {
			t.Errorf("channel %s body: %q", name, body)
		}
	}
	if r1.BadSignatures() != 0 {
		t.Errorf("%d bad signatures", r1.BadSignatures())
	}
	if n, _ := store.QueuedAlerts(ctx); n != 0 {
		t.Errorf("%d alerts still queued", n)
	}
	log, _ := store.Deliveries(ctx, 0, 10)
	if len(log) != 2 || log[0].Status != models.DeliverySent || log[0].Alerts != 500 {
		t.Errorf("log: %+v", log)
	}
}

// TestReceiverDownThenUp: a receiver answering 503 gets retries with
// backoff; once it is back the message arrives exactly once. Another
// channel never reached gives up after MaxAttempts with its error kept.
func TestReceiverDownThenUp(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	store := repo.NewAlertStore(db)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	d := newTestDelivery(db, clock)
	r := newReceiver(t, "")
	r.Answer(http.StatusServiceUnavailable)
	up := addChannel(t, store, "flaky", KindSlack, Config{URL: r.URL}, "")
	dead := newReceiver(t, "")
	dead.Stop()
	gone := addChannel(t, store, "gone", KindNtfy, Config{URL: dead.URL + "/topic"}, "")
	if err := d.Enqueue(ctx, Alert{RuleID: 1, GroupKey: "g", Subject: "fail2ban down"}, []int64{up.ID, gone.ID}, 0); err != nil {
		t.Fatal(err)
	}
	if err := d.Round(ctx); err != nil {
		t.Fatal(err)
	}
	log, _ := store.Deliveries(ctx, 0, 10)
	for _, l := range log {
		if l.Status != models.DeliveryPending || l.Attempts != 1 || l.LastError == "" {
			t.Fatalf("after one failure: %+v", l)
		}
	}
	// 30 s later: two retries (10 s, then 30 s after that is not yet due).
	for range 3 {
		clock.Advance(10 * time.Second)
		if err := d.Round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r.Answer(http.StatusOK)
	for range 20 {
		clock.Advance(time.Hour)
		if err := d.Round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.Bodies(); len(got) != 1 {
		t.Fatalf("delivered %d times, want 1", len(got))
	}
	log, _ = store.Deliveries(ctx, 0, 10)
	for _, l := range log {
		switch l.Channel {
		case "flaky":
			if l.Status != models.DeliverySent || l.Attempts < 2 {
				t.Errorf("flaky: %+v", l)
			}
		case "gone":
			if l.Status != models.DeliveryFailed || l.Attempts != MaxAttempts || l.LastError == "" {
				t.Errorf("gone: %+v", l)
			}
		}
	}
}

// TestRestartDeliversQueuedOnce: alerts queued by one process are sent by
// a new worker on the same database file, once.
func TestRestartDeliversQueuedOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	r := newReceiver(t, "secret-key-xyz")
	db := openDB(t, dir)
	ch := addChannel(t, repo.NewAlertStore(db), "hook", KindWebhook,
		Config{URL: r.URL, Headers: map[string]string{"X-Team": "ops"}}, "secret-key-xyz")
	first := newTestDelivery(db, clock)
	for i := range 3 {
		if err := first.Enqueue(ctx, Alert{RuleID: 2, GroupKey: "k", Subject: fmt.Sprint("alert ", i)}, []int64{ch.ID}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	db.Close() // the panel stops before the window ends

	clock.Advance(2 * time.Minute)
	db2 := openDB(t, dir)
	second := newTestDelivery(db2, clock)
	for range 3 {
		if err := second.Round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := r.Bodies()
	if len(got) != 1 || got[0]["alerts"] != float64(3) {
		t.Fatalf("got %v, want one message of 3 alerts", got)
	}
	if r.BadSignatures() != 0 {
		t.Error("bad signature")
	}
}

// TestNoChannelNothingStored: an alert for no channel, or only deleted
// ones, is not queued.
func TestNoChannelNothingStored(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	store := repo.NewAlertStore(db)
	d := newTestDelivery(db, clockwork.NewFakeClock())
	if err := d.Enqueue(ctx, Alert{Subject: "x"}, nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := d.Enqueue(ctx, Alert{Subject: "x"}, []int64{42}, 0); err != nil {
		t.Fatal(err)
	}
	if n, _ := store.QueuedAlerts(ctx); n != 0 {
		t.Errorf("%d queued", n)
	}
}

// TestHangingReceiverDoesNotStickTheWorker: a receiver that never answers
// costs one timeout per round; the round ends, the other channel gets its
// message and the hung one waits for its retry with a clear error.
func TestHangingReceiverDoesNotStickTheWorker(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	store := repo.NewAlertStore(db)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	d := NewDelivery(store, Options{Clock: clock, Sender: NewSender(300 * time.Millisecond)})
	hang := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer hung.Close()
	defer close(hang) // before Close, which waits for the handler
	good := newReceiver(t, "")
	c1 := addChannel(t, store, "hung", KindWebhook, Config{URL: hung.URL}, "")
	c2 := addChannel(t, store, "good", KindWebhook, Config{URL: good.URL}, "")
	if err := d.Enqueue(ctx, Alert{RuleID: 3, GroupKey: "k", Subject: "x"}, []int64{c1.ID, c2.ID}, 0); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := d.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("round took %v", time.Since(start))
	}
	if len(good.Bodies()) != 1 {
		t.Error("the good channel got nothing")
	}
	log, _ := store.Deliveries(ctx, 0, 10)
	for _, l := range log {
		if l.Channel == "hung" && (l.Status != models.DeliveryPending || !strings.Contains(models.StoredText(l.LastError).In(lang.Get("en")), "no answer in time")) {
			t.Errorf("hung: %+v", l)
		}
	}
}
