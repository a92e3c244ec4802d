-- Second factors of the panel's accounts (passkeys live in their own table).
--
-- user_totp: one authenticator app per user. secret is the base32 TOTP
-- secret. It is kept as it is, not encrypted: the panel must read it to
-- check a code, and a key kept in this same database would protect nothing,
-- while one kept in the data dir would differ between panel replicas that
-- share a PostgreSQL database. It is shown only while the enrolment is
-- unconfirmed (confirmed = 0) and never again once confirmed. last_step is
-- the last accepted 30-second time step: a code is accepted only for a
-- later step, so each code works once.
CREATE TABLE user_totp (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       TEXT NOT NULL,
    confirmed    INTEGER NOT NULL DEFAULT 0,
    last_step    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER NOT NULL DEFAULT 0
);

-- One-time recovery codes: the SHA-256 (hex) of each code, which carries
-- 80 random bits; used_at is 0 until the code is spent.
CREATE TABLE user_recovery_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX user_recovery_codes_hash ON user_recovery_codes (user_id, code_hash);
