-- The audit log: one row per state change, written once and never
-- changed. Only retention deletes rows (the oldest first); the trigger
-- refuses any UPDATE, whatever sends it.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL, -- unix seconds
    actor    TEXT NOT NULL,
    user_id  INTEGER NOT NULL DEFAULT 0,
    token_id INTEGER NOT NULL DEFAULT 0,
    role     TEXT NOT NULL,
    client   TEXT NOT NULL,
    action   TEXT NOT NULL,
    host     TEXT NOT NULL,
    jail     TEXT NOT NULL,
    file     TEXT NOT NULL,
    target   TEXT NOT NULL,
    detail   TEXT NOT NULL,
    result   TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (lower(actor), at);
CREATE INDEX audit_log_user ON audit_log (user_id, at);
CREATE INDEX audit_log_action ON audit_log (action, at);
CREATE INDEX audit_log_host ON audit_log (host, at);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log entries cannot be changed');
END;
