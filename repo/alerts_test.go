package repo

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"bangui/models"
)

// TestAlertStore runs the alert store on both databases: channels saved
// and edited, alerts for unknown channels dropped, a due group turned into
// one delivery (and out of the queue) in one step, a not yet due one
// left, attempts recorded once, the log paged and a channel deleted with
// its queue.
func TestAlertStore(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		s := NewAlertStore(db)
		ch := models.AlertChannel{Name: "hook", Kind: "webhook", Config: `{"url":"https://x.org"}`, Secret: "k"}
		if err := s.SaveChannel(ctx, &ch); err != nil || ch.ID == 0 {
			t.Fatal(ch, err)
		}
		ch.Name = "hook2"
		if err := s.SaveChannel(ctx, &ch); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveChannel(ctx, &models.AlertChannel{ID: 999, Name: "x"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("update of a missing channel: %v", err)
		}
		rows := []models.AlertQueued{
			{ChannelID: ch.ID, RuleID: 1, GroupKey: "a", Subject: "s1", At: 1000, DueAt: 5000},
			{ChannelID: ch.ID, RuleID: 1, GroupKey: "a", Subject: "s2", At: 2000, DueAt: 6000},
			{ChannelID: ch.ID, RuleID: 1, GroupKey: "b", Subject: "s3", At: 2000, DueAt: 9000},
			{ChannelID: 12345, RuleID: 1, GroupKey: "a", Subject: "lost", At: 2000, DueAt: 5000},
		}
		if n, err := s.Enqueue(ctx, rows); err != nil || n != 3 {
			t.Fatal(n, err)
		}
		var seen int
		made, err := s.GroupDue(ctx, 5000, func(_ models.AlertChannel, a []models.AlertQueued) models.AlertDelivery {
			seen = len(a)
			return models.AlertDelivery{Subject: "two", Body: "b"}
		})
		if err != nil || made != 1 || seen != 2 {
			t.Fatal(made, seen, err)
		}
		if n, _ := s.QueuedAlerts(ctx); n != 1 {
			t.Errorf("queued after grouping: %d", n)
		}
		due, err := s.DueDeliveries(ctx, 5000, 10)
		if err != nil || len(due) != 1 || due[0].Alerts != 2 || due[0].Channel != "hook2" || due[0].Status != models.DeliveryPending {
			t.Fatal(due, err)
		}
		d := due[0]
		d.Status, d.Attempts, d.SentAt = models.DeliverySent, 1, 5001
		if err := s.RecordAttempt(ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordAttempt(ctx, d); !errors.Is(err, ErrNotFound) {
			t.Errorf("second record of a sent delivery: %v", err)
		}
		if due, _ := s.DueDeliveries(ctx, 99999, 10); len(due) != 0 {
			t.Errorf("sent delivery still due: %+v", due)
		}
		log, err := s.Deliveries(ctx, 0, 10)
		if err != nil || len(log) != 1 || log[0].Status != models.DeliverySent {
			t.Fatal(log, err)
		}
		if log, _ := s.Deliveries(ctx, log[0].ID, 10); len(log) != 0 {
			t.Errorf("page before the first: %+v", log)
		}
		if err := s.DeleteChannel(ctx, ch.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.QueuedAlerts(ctx); n != 0 {
			t.Errorf("queue of a deleted channel: %d", n)
		}
	})
}
