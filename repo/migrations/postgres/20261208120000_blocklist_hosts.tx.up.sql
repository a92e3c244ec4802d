-- PostgreSQL twin of sqlite/20261208120000_blocklist_hosts.tx.up.sql:
-- blocklist sources choose their target hosts ('' local only, '*' every
-- host, else ids separated by commas); import runs and the import log are
-- per host. PostgreSQL changes the UNIQUE constraint in place.
ALTER TABLE blocklist_sources ADD COLUMN target_hosts TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE import_log ADD COLUMN host TEXT NOT NULL DEFAULT 'local';
--bun:split
ALTER TABLE import_runs ADD COLUMN host TEXT NOT NULL DEFAULT 'local';
--bun:split
ALTER TABLE import_runs DROP CONSTRAINT import_runs_source_id_content_hash_key;
--bun:split
ALTER TABLE import_runs ADD CONSTRAINT import_runs_source_id_host_content_hash_key UNIQUE (source_id, host, content_hash);
