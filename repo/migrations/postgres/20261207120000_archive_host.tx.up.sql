-- PostgreSQL twin of sqlite/20261207120000_archive_host.tx.up.sql: the host
-- dimension of the archive. PostgreSQL changes the table in place (no
-- rebuild): the column, with 'local' for the events archived before hosts
-- existed, joins the event's unique key (last, so that the key's index
-- still finds an address's events), and one host's events by time get an
-- index like history_archive_time.
ALTER TABLE history_archive ADD COLUMN host TEXT COLLATE "C" NOT NULL DEFAULT 'local';
--bun:split
ALTER TABLE history_archive DROP CONSTRAINT history_archive_event;
--bun:split
ALTER TABLE history_archive ADD CONSTRAINT history_archive_event UNIQUE (ip, jail, action, timeofban, host);
--bun:split
CREATE INDEX history_archive_host_time ON history_archive (host, timeofban, id) INCLUDE (action, origin, jail, country_code, ip);
--bun:split
-- The archive changed under any process's cached counts.
UPDATE history_archive_version SET n = n + 1;
