-- Blocklist sources choose the hosts their imports ban on ('' is the local
-- host only, '*' every host, otherwise host ids separated by commas), and
-- import runs and the import log are kept per host: a run is one list
-- content banned on one host, so a host that was down goes on where it
-- stopped without the others banning again. SQLite cannot change a table's
-- UNIQUE constraint, so import_runs (and the table referencing it) are
-- rebuilt with their rows.
ALTER TABLE blocklist_sources ADD COLUMN target_hosts TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE import_log ADD COLUMN host TEXT NOT NULL DEFAULT 'local';
--bun:split
CREATE TABLE import_runs_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id      INTEGER NOT NULL,
    host           TEXT NOT NULL DEFAULT 'local',
    content_hash   TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'completed', 'failed')),
    imported_count INTEGER NOT NULL DEFAULT 0,
    skipped_count  INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    total          INTEGER NOT NULL DEFAULT 0,
    done           INTEGER NOT NULL DEFAULT 0,
    already_banned INTEGER NOT NULL DEFAULT 0,
    UNIQUE (source_id, host, content_hash)
);
--bun:split
INSERT INTO import_runs_new (id, source_id, host, content_hash, state, imported_count, skipped_count, error,
                             created_at, updated_at, total, done, already_banned)
SELECT id, source_id, 'local', content_hash, state, imported_count, skipped_count, error,
       created_at, updated_at, total, done, already_banned
FROM import_runs;
--bun:split
CREATE TABLE import_run_targets_new (
    run_id  INTEGER PRIMARY KEY REFERENCES import_runs_new (id) ON DELETE CASCADE,
    targets TEXT NOT NULL
);
--bun:split
INSERT INTO import_run_targets_new (run_id, targets) SELECT run_id, targets FROM import_run_targets;
--bun:split
DROP TABLE import_run_targets;
--bun:split
DROP TABLE import_runs;
--bun:split
ALTER TABLE import_runs_new RENAME TO import_runs;
--bun:split
ALTER TABLE import_run_targets_new RENAME TO import_run_targets;
--bun:split
CREATE INDEX import_runs_state ON import_runs (state);
