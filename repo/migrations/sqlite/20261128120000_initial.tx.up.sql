CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
--bun:split
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BLOB NOT NULL,
    expiry INTEGER NOT NULL
);
--bun:split
CREATE INDEX sessions_expiry ON sessions (expiry);
--bun:split
CREATE TABLE blocklist_sources (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    url        TEXT NOT NULL UNIQUE,
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
--bun:split
CREATE TABLE import_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id    INTEGER REFERENCES blocklist_sources (id) ON DELETE SET NULL,
    source_url   TEXT NOT NULL,
    timestamp    INTEGER NOT NULL,
    ips_imported INTEGER NOT NULL DEFAULT 0,
    ips_skipped  INTEGER NOT NULL DEFAULT 0,
    errors       TEXT
);
--bun:split
CREATE INDEX import_log_timestamp ON import_log (timestamp);
--bun:split
CREATE TABLE import_runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id      INTEGER NOT NULL,
    content_hash   TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'completed', 'failed')),
    imported_count INTEGER NOT NULL DEFAULT 0,
    skipped_count  INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (source_id, content_hash)
);
--bun:split
CREATE TABLE geo_cache (
    ip           TEXT PRIMARY KEY,
    country_code TEXT,
    country_name TEXT,
    asn          TEXT,
    org          TEXT,
    cached_at    INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL
);
--bun:split
CREATE INDEX geo_cache_last_seen ON geo_cache (last_seen);
--bun:split
CREATE TABLE history_archive (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    jail         TEXT NOT NULL,
    ip           TEXT NOT NULL,
    timeofban    INTEGER NOT NULL,
    bantime      INTEGER NOT NULL DEFAULT 0,
    bancount     INTEGER NOT NULL DEFAULT 1,
    data         TEXT NOT NULL DEFAULT '{}',
    action       TEXT NOT NULL DEFAULT 'ban',
    origin       TEXT NOT NULL DEFAULT 'selfblock',
    country_code TEXT,
    failures     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (ip, jail, action, timeofban)
);
--bun:split
CREATE INDEX history_archive_timeofban ON history_archive (timeofban);
--bun:split
CREATE INDEX history_archive_jail_time ON history_archive (jail, timeofban);
