-- Leases: work that must run once across panel processes sharing this
-- database (archive syncs per host, scheduled blocklist imports, geo fill,
-- cleanups) takes a row here first. expires_at is unix milliseconds; a
-- lease whose time has passed may be taken by another holder.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
