package repo

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"bangui/models"
)

// AlertStore keeps the alert channels, the queue of alerts waiting for
// their group's window and the log of grouped deliveries.
type AlertStore struct {
	db  bun.IDB
	now func() time.Time
}

// NewAlertStore returns a store on db.
func NewAlertStore(db bun.IDB) *AlertStore { return &AlertStore{db: db, now: time.Now} }

// Channels returns every channel, by name.
func (s *AlertStore) Channels(ctx context.Context) ([]models.AlertChannel, error) {
	var out []models.AlertChannel
	if err := s.db.NewSelect().Model(&out).OrderExpr("name, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: alert channels: %w", dbError(err))
	}
	return out, nil
}

// Channel returns one channel or ErrNotFound.
func (s *AlertStore) Channel(ctx context.Context, id int64) (models.AlertChannel, error) {
	var ch models.AlertChannel
	if err := s.db.NewSelect().Model(&ch).Where("id = ?", id).Scan(ctx); err != nil {
		return ch, fmt.Errorf("repo: alert channel %d: %w", id, dbError(err))
	}
	return ch, nil
}

// SaveChannel inserts ch (ID 0, which it then sets) or updates it
// (ErrNotFound when gone).
func (s *AlertStore) SaveChannel(ctx context.Context, ch *models.AlertChannel) error {
	now := s.now().Unix()
	ch.UpdatedAt = now
	if ch.ID == 0 {
		ch.CreatedAt = now
		if _, err := s.db.NewInsert().Model(ch).Returning("id").Exec(ctx); err != nil {
			return fmt.Errorf("repo: add alert channel: %w", dbError(err))
		}
		return nil
	}
	res, err := s.db.NewUpdate().Model(ch).Column("name", "kind", "config", "secret", "updated_at").
		WherePK().Exec(ctx)
	return oneRow(res, err, fmt.Sprintf("update alert channel %d", ch.ID))
}

// DeleteChannel removes a channel and its queued alerts (its log stays).
func (s *AlertStore) DeleteChannel(ctx context.Context, id int64) error {
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*models.AlertQueued)(nil)).Where("channel_id = ?", id).Exec(ctx); err != nil {
			return err
		}
		res, err := tx.NewDelete().Model((*models.AlertChannel)(nil)).Where("id = ?", id).Exec(ctx)
		return oneRow(res, err, fmt.Sprintf("delete alert channel %d", id))
	})
	if err != nil {
		return fmt.Errorf("repo: delete alert channel %d: %w", id, err)
	}
	return nil
}

// oneRow turns an Exec result touching no row into ErrNotFound.
func oneRow(res interface{ RowsAffected() (int64, error) }, err error, what string) error {
	if err != nil {
		return fmt.Errorf("repo: %s: %w", what, dbError(err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("repo: %s: %w", what, ErrNotFound)
	}
	return nil
}

// Enqueue stores the alerts, in one transaction; those for channels that
// no longer exist are dropped. It returns how many it kept.
func (s *AlertStore) Enqueue(ctx context.Context, rows []models.AlertQueued) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ChannelID)
	}
	kept := 0
	err := inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var have []int64
		if err := tx.NewSelect().Model((*models.AlertChannel)(nil)).Column("id").
			Where("id IN (?)", bun.In(ids)).Scan(ctx, &have); err != nil {
			return err
		}
		exists := make(map[int64]bool, len(have))
		for _, id := range have {
			exists[id] = true
		}
		var keep []models.AlertQueued
		for _, r := range rows {
			if exists[r.ChannelID] {
				keep = append(keep, r)
			}
		}
		kept = len(keep)
		if kept == 0 {
			return nil
		}
		_, err := tx.NewInsert().Model(&keep).Exec(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("repo: enqueue alerts: %w", dbError(err))
	}
	return kept, nil
}

// alertGroup names one (rule, group key, channel) of the queue.
type alertGroup struct {
	RuleID    int64  `bun:"rule_id"`
	GroupKey  string `bun:"group_key"`
	ChannelID int64  `bun:"channel_id"`
}

// GroupDue turns each group of the queue whose first alert's wait ended at
// or before now (unix ms) into one pending delivery, made by compose from
// the channel and the group's alerts (oldest first), and removes those
// alerts, each group in one transaction: an alert is in the queue or in a
// delivery, never both. It returns how many deliveries it made.
func (s *AlertStore) GroupDue(ctx context.Context, now int64,
	compose func(models.AlertChannel, []models.AlertQueued) models.AlertDelivery) (int, error) {
	var groups []alertGroup
	if err := s.db.NewSelect().Model((*models.AlertQueued)(nil)).
		Column("rule_id", "group_key", "channel_id").
		Group("rule_id", "group_key", "channel_id").
		Having("MIN(due_at) <= ?", now).Scan(ctx, &groups); err != nil {
		return 0, fmt.Errorf("repo: due alert groups: %w", dbError(err))
	}
	made := 0
	for _, g := range groups {
		err := inTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
			var ch models.AlertChannel
			if err := tx.NewSelect().Model(&ch).Where("id = ?", g.ChannelID).Scan(ctx); err != nil {
				return err
			}
			var alerts []models.AlertQueued
			if err := tx.NewSelect().Model(&alerts).
				Where("rule_id = ?", g.RuleID).Where("group_key = ?", g.GroupKey).
				Where("channel_id = ?", g.ChannelID).
				OrderExpr("at, id").Scan(ctx); err != nil {
				return err
			}
			if len(alerts) == 0 {
				return nil
			}
			ids := make([]int64, len(alerts))
			for i, a := range alerts {
				ids[i] = a.ID
			}
			if _, err := tx.NewDelete().Model((*models.AlertQueued)(nil)).Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
				return err
			}
			d := compose(ch, alerts)
			d.ChannelID, d.Channel, d.Kind = ch.ID, ch.Name, ch.Kind
			d.RuleID, d.RuleName, d.GroupKey = g.RuleID, alerts[0].RuleName, g.GroupKey
			d.Alerts, d.Status, d.CreatedAt, d.NextAt = len(alerts), models.DeliveryPending, now, now
			_, err := tx.NewInsert().Model(&d).Exec(ctx)
			return err
		})
		if err != nil {
			return made, fmt.Errorf("repo: group alerts of channel %d: %w", g.ChannelID, err)
		}
		made++
	}
	return made, nil
}

// DueDeliveries returns up to limit pending deliveries whose next attempt
// is at or before now (unix ms), oldest first.
func (s *AlertStore) DueDeliveries(ctx context.Context, now int64, limit int) ([]models.AlertDelivery, error) {
	var out []models.AlertDelivery
	if err := s.db.NewSelect().Model(&out).Where("status = ?", models.DeliveryPending).
		Where("next_at <= ?", now).OrderExpr("next_at, id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: due alert deliveries: %w", dbError(err))
	}
	return out, nil
}

// RecordAttempt stores the outcome of a delivery's attempt: its status,
// attempt count, error, next attempt and sent time, only while it is still
// pending (so two workers never both record one).
func (s *AlertStore) RecordAttempt(ctx context.Context, d models.AlertDelivery) error {
	res, err := s.db.NewUpdate().Model(&d).
		Column("status", "attempts", "last_error", "next_at", "sent_at").
		WherePK().Where("status = ?", models.DeliveryPending).Exec(ctx)
	return oneRow(res, err, fmt.Sprintf("record alert delivery %d", d.ID))
}

// Deliveries returns up to limit deliveries, newest first, with ids below
// before (0: from the newest): the delivery log's pages.
func (s *AlertStore) Deliveries(ctx context.Context, before int64, limit int) ([]models.AlertDelivery, error) {
	var out []models.AlertDelivery
	q := s.db.NewSelect().Model(&out).OrderExpr("id DESC").Limit(int64(limit))
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("repo: alert deliveries: %w", dbError(err))
	}
	return out, nil
}

// QueuedAlerts counts the alerts waiting in the queue.
func (s *AlertStore) QueuedAlerts(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Model((*models.AlertQueued)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: queued alerts: %w", dbError(err))
	}
	return int(n), nil
}
