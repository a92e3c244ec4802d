-- PostgreSQL twin of sqlite/20261128151700_blocklist_imports.tx.up.sql.
ALTER TABLE import_runs ADD COLUMN total BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE import_runs ADD COLUMN done BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE import_runs ADD COLUMN already_banned BIGINT NOT NULL DEFAULT 0;
--bun:split
CREATE INDEX import_runs_state ON import_runs (state);
--bun:split
CREATE TABLE import_run_targets (
    run_id  BIGINT PRIMARY KEY REFERENCES import_runs (id) ON DELETE CASCADE,
    targets TEXT NOT NULL
);
--bun:split
ALTER TABLE import_log ADD COLUMN source_name TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE import_log ADD COLUMN started_by TEXT NOT NULL DEFAULT 'manual';
--bun:split
ALTER TABLE import_log ADD COLUMN batch BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE import_log ADD COLUMN ips_already_banned BIGINT NOT NULL DEFAULT 0;
--bun:split
CREATE INDEX import_log_started_by_batch ON import_log (started_by, batch);
