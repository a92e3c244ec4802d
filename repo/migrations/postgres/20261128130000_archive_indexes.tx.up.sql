-- PostgreSQL twin of sqlite/20261128130000_archive_indexes.tx.up.sql.
-- PostgreSQL keeps statistics and picks indexes itself; these serve the
-- queries of repo/archive_postgres*.go. Events by time, newest first with
-- ties by id (the pages), carrying the filter columns (the address too, for
-- a prefix checked on a walk in time order) so that a window's counts and
-- pages are index-only scans; and the rare manual events by origin.
CREATE INDEX history_archive_time ON history_archive (timeofban, id) INCLUDE (action, origin, jail, country_code, ip);
--bun:split
CREATE INDEX history_archive_origin_action_time ON history_archive (origin, action, timeofban);
