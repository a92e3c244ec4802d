-- PostgreSQL twin of sqlite/20261128161500_archive_perf.tx.up.sql: one
-- address's events newest first, with what its totals need, for the per-IP
-- page (an index-only scan of a few entries). The dashboard's ban counts
-- are served by history_archive_time.
CREATE INDEX history_archive_ip_time ON history_archive (ip, timeofban, id) INCLUDE (action, failures);
