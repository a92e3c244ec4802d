// Package alerts delivers alerts to the channels an admin configured
// (webhook, ntfy, Gotify, Slack/Mattermost, e-mail): alerts are queued in the
// database, grouped per (rule, group key, channel) over the rule's wait window
// and sent by a worker that retries with backoff.
package alerts

import (
	"context"
	"time"
)

// Alert is one thing a rule noticed. Alerts with the same RuleID and GroupKey
// that arrive within the rule's wait window are sent as one grouped message.
type Alert struct {
	RuleID   int64 // the alert_rules row (0: a test message)
	RuleName string
	GroupKey string // e.g. "spike/local/sshd"; grouping is per (rule, group key, channel)
	Subject  string // one line
	Body     string // plain text, may be several lines
	At       time.Time
}

// Sink takes alerts to deliver to the channels given (ids of alert_channels
// rows), after waiting wait to group them.
type Sink interface {
	Enqueue(ctx context.Context, a Alert, channels []int64, wait time.Duration) error
}
