-- Bans whose end a user chose instead of the jail's ban time: the panel
-- keeps the ban in fail2ban until ends_at (unix seconds; 0: permanent) and
-- lifts it then. seconds is the chosen length, set_by who chose it.
CREATE TABLE timed_bans (
    host       TEXT NOT NULL,
    jail       TEXT NOT NULL,
    ip         TEXT NOT NULL,
    ends_at    INTEGER NOT NULL,
    seconds    INTEGER NOT NULL,
    set_by     TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (host, jail, ip)
);
CREATE INDEX timed_bans_ip ON timed_bans (ip);
