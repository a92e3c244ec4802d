package models

import "github.com/uptrace/bun"

// AlertChannel is one place alert messages go (table alert_channels).
// Config is the kind's settings as JSON; Secret is its HMAC key, token or
// SMTP password, never shown again in full.
type AlertChannel struct {
	bun.BaseModel `bun:"table:alert_channels"`
	ID            int64  `bun:"id,pk,autoincrement"`
	Name          string `bun:"name"`
	Kind          string `bun:"kind"`
	Config        string `bun:"config"`
	Secret        string `bun:"secret"`
	CreatedAt     int64  `bun:"created_at"`
	UpdatedAt     int64  `bun:"updated_at"`
}

// AlertQueued is one alert waiting, for one channel, for its group's wait
// window to end (table alert_queue). At and DueAt are unix milliseconds.
type AlertQueued struct {
	bun.BaseModel `bun:"table:alert_queue"`
	ID            int64  `bun:"id,pk,autoincrement"`
	ChannelID     int64  `bun:"channel_id"`
	RuleID        int64  `bun:"rule_id"`
	RuleName      string `bun:"rule_name"`
	GroupKey      string `bun:"group_key"`
	Subject       string `bun:"subject"`
	Body          string `bun:"body"`
	At            int64  `bun:"at"`
	DueAt         int64  `bun:"due_at"`
}

// Alert delivery states.
const (
	DeliveryPending = "pending" // to send (again) at NextAt
	DeliverySent    = "sent"
	DeliveryFailed  = "failed" // given up; LastError says why
)

// AlertDelivery is one grouped message to one channel (table
// alert_deliveries) and its fate. Times are unix milliseconds.
type AlertDelivery struct {
	bun.BaseModel `bun:"table:alert_deliveries"`
	ID            int64  `bun:"id,pk,autoincrement"`
	ChannelID     int64  `bun:"channel_id"`
	Channel       string `bun:"channel"`
	Kind          string `bun:"kind"`
	RuleID        int64  `bun:"rule_id"`
	RuleName      string `bun:"rule_name"`
	GroupKey      string `bun:"group_key"`
	Alerts        int    `bun:"alerts"`
	Subject       string `bun:"subject"`
	Body          string `bun:"body"`
	Status        string `bun:"status"`
	Attempts      int    `bun:"attempts"`
	LastError     string `bun:"last_error"`
	CreatedAt     int64  `bun:"created_at"`
	NextAt        int64  `bun:"next_at"`
	SentAt        int64  `bun:"sent_at"`
}
