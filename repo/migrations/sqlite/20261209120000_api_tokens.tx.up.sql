-- Personal access tokens of the API. A token is shown once; only the
-- SHA-256 of its secret (hex) is kept. scope is read, operate or admin; a
-- request with the token may do the lower of its scope and its user's role.
-- Times are unix seconds; expires_at NULL never expires, revoked_at set ends
-- the token for good. Deleting a user deletes their tokens.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
