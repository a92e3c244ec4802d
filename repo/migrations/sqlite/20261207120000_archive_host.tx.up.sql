-- A host dimension in the archive: every event belongs to one fail2ban
-- host, and the events archived before hosts existed to the host 'local'.
-- An event's identity gains its host, so two hosts' bans of one address in
-- one jail in the same second are two events. SQLite cannot change a
-- table's UNIQUE constraint, so the table is rebuilt: a new table, the rows
-- copied with their ids, the old table dropped (with its indexes and
-- triggers) and the new one renamed; then every index and trigger of the
-- earlier migrations is made again, under the same name and definition
-- (queries name some of them in INDEXED BY). The host comes last in the
-- unique key, so that the key's index still finds an address's events and
-- the twins MergeManualBans looks for, as before. Rebuilding an archive of
-- a million events takes a few seconds and, for a moment, twice its space.
CREATE TABLE history_archive_new (
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
    host         TEXT NOT NULL DEFAULT 'local',
    UNIQUE (ip, jail, action, timeofban, host)
);
--bun:split
INSERT INTO history_archive_new (id, jail, ip, timeofban, bantime, bancount, data, action, origin, country_code, failures, host)
SELECT id, jail, ip, timeofban, bantime, bancount, data, action, origin, country_code, failures, 'local' FROM history_archive ORDER BY id;
--bun:split
-- AUTOINCREMENT never hands out an id again, also of events deleted since:
-- the new table takes over the old one's high-water mark.
DELETE FROM sqlite_sequence WHERE name = 'history_archive_new';
--bun:split
INSERT INTO sqlite_sequence (name, seq) SELECT 'history_archive_new', seq FROM sqlite_sequence WHERE name = 'history_archive';
--bun:split
DROP TABLE history_archive;
--bun:split
ALTER TABLE history_archive_new RENAME TO history_archive;
--bun:split
CREATE INDEX history_archive_timeofban ON history_archive (timeofban);
--bun:split
CREATE INDEX history_archive_jail_time ON history_archive (jail, timeofban);
--bun:split
CREATE INDEX history_archive_time_cover ON history_archive (timeofban, action, origin, jail, ip);
--bun:split
CREATE INDEX history_archive_origin_action_time ON history_archive (origin, action, timeofban);
--bun:split
CREATE INDEX history_archive_country ON history_archive (country_code, timeofban, action, origin);
--bun:split
CREATE INDEX history_archive_time_country ON history_archive (timeofban, action, origin, country_code);
--bun:split
CREATE INDEX history_archive_ban_time ON history_archive (timeofban) WHERE action = 'ban';
--bun:split
CREATE INDEX history_archive_ban_origin_jail ON history_archive (origin, jail, timeofban) WHERE action = 'ban';
--bun:split
CREATE INDEX history_archive_ip_time ON history_archive (ip, timeofban, action, failures);
--bun:split
CREATE INDEX history_archive_ban_origin_country ON history_archive (origin, country_code, timeofban) WHERE action = 'ban';
--bun:split
CREATE TRIGGER history_archive_version_insert AFTER INSERT ON history_archive
BEGIN
    UPDATE history_archive_version SET n = n + 1;
END;
--bun:split
CREATE TRIGGER history_archive_version_update AFTER UPDATE ON history_archive
BEGIN
    UPDATE history_archive_version SET n = n + 1;
END;
--bun:split
CREATE TRIGGER history_archive_version_delete AFTER DELETE ON history_archive
BEGIN
    UPDATE history_archive_version SET n = n + 1;
END;
--bun:split
-- The archive changed under any process's cached counts.
UPDATE history_archive_version SET n = n + 1;
