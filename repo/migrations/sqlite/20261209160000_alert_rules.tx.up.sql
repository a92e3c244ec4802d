-- Alert rules: what the evaluator watches for (kind: spike, country,
-- watch, down, import, config, digest; params: the kind's settings as a
-- JSON object) and the alert channels (a JSON list of alert_channels ids)
-- it sends to, grouping alerts that arrive within wait_seconds. Times are
-- unix seconds.
CREATE TABLE alert_rules (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    params       TEXT NOT NULL DEFAULT '{}',
    channels     TEXT NOT NULL DEFAULT '[]',
    wait_seconds INTEGER NOT NULL DEFAULT 60,
    enabled      INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
