-- Passkeys (WebAuthn credentials). passkey_users holds each account's
-- user handle: the random bytes an authenticator stores with a
-- discoverable credential and returns at a usernameless login. It is one
-- value per account, shared by all its passkeys.
CREATE TABLE passkey_users (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle     BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX passkey_users_handle ON passkey_users (handle);

-- One row per registered credential. rp_id is the relying party (the
-- panel's host name) it was made for: a credential only works there.
-- flags is the authenticator-data flag byte of its last ceremony (user
-- present, verified, backup eligible, backed up).
CREATE TABLE passkeys (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rp_id              TEXT NOT NULL,
    credential_id      BLOB NOT NULL,
    public_key         BLOB NOT NULL,
    sign_count         INTEGER NOT NULL DEFAULT 0,
    aaguid             BLOB NOT NULL,
    transports         TEXT NOT NULL DEFAULT '',
    flags              INTEGER NOT NULL DEFAULT 0,
    attestation_type   TEXT NOT NULL DEFAULT '',
    attestation_format TEXT NOT NULL DEFAULT '',
    clone_warning      INTEGER NOT NULL DEFAULT 0,
    name               TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    last_used_at       INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX passkeys_credential ON passkeys (credential_id);
CREATE INDEX passkeys_user ON passkeys (user_id);
