package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"bangui/lang"
	"bangui/metrics"
	"bangui/models"
	"bangui/repo"
)

// DefaultBackoff is the wait before each retry of a failed delivery; the
// last one repeats until MaxAttempts.
var DefaultBackoff = []time.Duration{10 * time.Second, 30 * time.Second, 2 * time.Minute,
	10 * time.Minute, 30 * time.Minute, time.Hour}

// MaxAttempts is how often a delivery is tried before it is given up
// (failed, its last error kept).
const MaxAttempts = 8

// maxListed is how many distinct subjects a grouped message lists.
const maxListed = 50

// Options configure a Delivery; zero values take defaults.
type Options struct {
	Clock   clockwork.Clock  // default: the real clock
	Sender  *Sender          // default: NewSender(15 s)
	Metrics *metrics.Metrics // nil: no metrics
	Backoff []time.Duration  // default: DefaultBackoff
	Logger  *slog.Logger
}

// Delivery queues alerts in the database (it is the Sink the rules send
// to), groups them per (rule, group key, channel) once the first one's
// wait ended and sends each group as one message, retrying with backoff.
// RunOnce does one round; the panel runs it under a lease, so one process
// at a time sends.
type Delivery struct {
	store   *repo.AlertStore
	clock   clockwork.Clock
	sender  *Sender
	metrics *metrics.Metrics
	backoff []time.Duration
	log     *slog.Logger
}

var _ Sink = (*Delivery)(nil)

// NewDelivery returns a delivery on store.
func NewDelivery(store *repo.AlertStore, o Options) *Delivery {
	d := &Delivery{store: store, clock: o.Clock, sender: o.Sender, metrics: o.Metrics, backoff: o.Backoff, log: o.Logger}
	if d.clock == nil {
		d.clock = clockwork.NewRealClock()
	}
	if d.sender == nil {
		d.sender = NewSender(0)
	}
	if len(d.backoff) == 0 {
		d.backoff = DefaultBackoff
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	return d
}

// Enqueue stores a for each of channels at once (a restart loses nothing);
// it is sent once wait has passed, with the alerts of its group that came
// meanwhile. No channel: nothing is stored, nothing leaves the host.
func (d *Delivery) Enqueue(ctx context.Context, a Alert, channels []int64, wait time.Duration) error {
	if len(channels) == 0 {
		return nil
	}
	if wait < 0 {
		wait = 0
	}
	now := d.clock.Now()
	if a.At.IsZero() {
		a.At = now
	}
	rows := make([]models.AlertQueued, 0, len(channels))
	seen := map[int64]bool{}
	for _, id := range channels {
		if seen[id] {
			continue
		}
		seen[id] = true
		rows = append(rows, models.AlertQueued{ChannelID: id, RuleID: a.RuleID, RuleName: a.RuleName,
			GroupKey: a.GroupKey, Subject: oneLine(a.Subject), Body: a.Body,
			At: a.At.UnixMilli(), DueAt: now.Add(wait).UnixMilli()})
	}
	if _, err := d.store.Enqueue(ctx, rows); err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	return nil
}

// oneLine joins a subject's lines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// RunOnce groups the due alerts into deliveries and sends those due,
// recording each outcome. Errors are logged; the next round tries again.
func (d *Delivery) RunOnce(ctx context.Context) {
	if err := d.Round(ctx); err != nil && ctx.Err() == nil {
		d.log.Warn("alert delivery", "err", err)
	}
}

// Round is RunOnce returning its first error.
func (d *Delivery) Round(ctx context.Context) error {
	now := d.clock.Now().UnixMilli()
	if _, err := d.store.GroupDue(ctx, now, compose); err != nil {
		return err
	}
	for {
		due, err := d.store.DueDeliveries(ctx, now, 50)
		if err != nil {
			return err
		}
		if len(due) == 0 {
			return nil
		}
		for _, del := range due {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := d.attempt(ctx, del); err != nil {
				return err
			}
		}
	}
}

// attempt sends one delivery and records the outcome: sent, pending again
// after a backoff, or failed after MaxAttempts (or when its channel is
// gone).
func (d *Delivery) attempt(ctx context.Context, del models.AlertDelivery) error {
	del.Attempts++
	ch, err := d.store.Channel(ctx, del.ChannelID)
	if errors.Is(err, repo.ErrNotFound) {
		err = lang.M("alerts.err.channel_deleted")
		del.Attempts = MaxAttempts
	} else if err != nil {
		return err
	} else {
		_, err = d.sender.Send(ctx, ch, Message{RuleName: del.RuleName, GroupKey: del.GroupKey,
			Alerts: del.Alerts, Subject: del.Subject, Body: del.Body, At: time.UnixMilli(del.CreatedAt)})
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err() // the panel stops: not the receiver's failure, the next start sends it
	}
	now := d.clock.Now()
	switch {
	case err == nil:
		del.Status, del.SentAt, del.LastError = models.DeliverySent, now.UnixMilli(), ""
		d.metrics.AlertDelivery(del.Kind, "sent")
	case del.Attempts >= MaxAttempts:
		del.Status, del.LastError = models.DeliveryFailed, string(models.StoredTextOf(lang.Of(err)))
		d.metrics.AlertDelivery(del.Kind, "failed")
		d.log.Warn("alert delivery given up", "channel", del.Channel, "attempts", del.Attempts, "err", err)
	default:
		del.LastError = string(models.StoredTextOf(lang.Of(err)))
		del.NextAt = now.Add(d.backoff[min(del.Attempts, len(d.backoff))-1]).UnixMilli()
		d.metrics.AlertDelivery(del.Kind, "retried")
	}
	if rerr := d.store.RecordAttempt(ctx, del); rerr != nil && !errors.Is(rerr, repo.ErrNotFound) {
		return rerr
	}
	return nil
}

// compose makes one message of a group's alerts (oldest first): a single
// alert as it is; several as a count and their subjects with counts.
func compose(_ models.AlertChannel, alerts []models.AlertQueued) models.AlertDelivery {
	if len(alerts) == 1 {
		return models.AlertDelivery{Subject: alerts[0].Subject, Body: alerts[0].Body}
	}
	counts := map[string]int{}
	var order []string
	for _, a := range alerts {
		if counts[a.Subject] == 0 {
			order = append(order, a.Subject)
		}
		counts[a.Subject]++
	}
	name := alerts[0].RuleName
	if name == "" {
		name = alerts[0].GroupKey
	}
	subject := fmt.Sprintf("%d alerts: %s", len(alerts), name)
	var b strings.Builder
	first, last := time.UnixMilli(alerts[0].At).UTC(), time.UnixMilli(alerts[len(alerts)-1].At).UTC()
	fmt.Fprintf(&b, "%d alerts from %s to %s.\n\n", len(alerts), first.Format(time.RFC3339), last.Format(time.RFC3339))
	for i, s := range order {
		if i == maxListed {
			fmt.Fprintf(&b, "… and %d more kinds\n", len(order)-maxListed)
			break
		}
		if counts[s] > 1 {
			fmt.Fprintf(&b, "%d × %s\n", counts[s], s)
		} else {
			fmt.Fprintf(&b, "%s\n", s)
		}
	}
	return models.AlertDelivery{Subject: subject, Body: b.String()}
}

// Store is the channels, queue and log this delivery works on.
func (d *Delivery) Store() *repo.AlertStore { return d.store }

// SendTest sends a test message to ch now (not through the queue) and
// returns the receiver's answer.
func (d *Delivery) SendTest(ctx context.Context, ch models.AlertChannel) (Answer, error) {
	a, err := d.sender.Send(ctx, ch, Message{RuleName: "test", GroupKey: "test", Alerts: 1,
		Subject: "BanGUI test message", Body: "This is a test message from BanGUI: channel " + ch.Name + " works.",
		At: d.clock.Now()})
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	d.metrics.AlertDelivery(ch.Kind, outcome)
	return a, err
}
