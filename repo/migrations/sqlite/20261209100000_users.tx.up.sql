-- The panel's accounts. name is unique ignoring case; role is viewer,
-- operator or admin. The master password of an installation from before
-- accounts becomes the account 'admin' at start (services, not SQL: it
-- lives in settings).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_name ON users (lower(name));
