-- The panel's allow-list: addresses, ranges and DNS names fail2ban must
-- never ban on a host, with why (note), who added them and when, and when
-- they end (expires_at, 0: never). jails lists the jails an entry holds
-- in, space separated; '' means every jail. BanGUI writes these entries to
-- its own .local file and the live jails; times are unix seconds.
CREATE TABLE allow_entries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    host       TEXT NOT NULL,
    address    TEXT NOT NULL,
    jails      TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0,
    UNIQUE (host, address)
);
CREATE INDEX allow_entries_expiry ON allow_entries (expires_at) WHERE expires_at > 0;
