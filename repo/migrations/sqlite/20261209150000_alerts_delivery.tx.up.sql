-- Alert channels: where alert messages go. config is the kind's settings
-- as JSON (URL, headers, SMTP host and addresses...); secret is the HMAC
-- key, token or SMTP password, never shown again in full.
CREATE TABLE alert_channels (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    config     TEXT NOT NULL DEFAULT '{}',
    secret     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Alerts waiting for their group's window to close, one row per channel.
-- due_at is when the alert's wait ends (unix ms).
CREATE TABLE alert_queue (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
    rule_id    INTEGER NOT NULL,
    rule_name  TEXT NOT NULL,
    group_key  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    due_at     INTEGER NOT NULL
);
CREATE INDEX alert_queue_due ON alert_queue (due_at);
CREATE INDEX alert_queue_group ON alert_queue (rule_id, group_key, channel_id);

-- One grouped message per row: pending (to send at next_at), sent or
-- failed (given up, error kept). alerts is how many alerts it carries.
CREATE TABLE alert_deliveries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL,
    channel    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    rule_id    INTEGER NOT NULL,
    rule_name  TEXT NOT NULL,
    group_key  TEXT NOT NULL,
    alerts     INTEGER NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    status     TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    next_at    INTEGER NOT NULL,
    sent_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_deliveries_pending ON alert_deliveries (status, next_at);
CREATE INDEX alert_deliveries_created ON alert_deliveries (created_at);
