-- The fail2ban hosts the panel reaches through their agents (the panel's
-- own machine, 'local', is not stored). credential is what the panel
-- presents to the agent: it must be kept in clear, and only here.
CREATE TABLE hosts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    url         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    credential  TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
