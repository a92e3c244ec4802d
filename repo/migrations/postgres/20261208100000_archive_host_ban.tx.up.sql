-- PostgreSQL twin of sqlite/20261208100000_archive_host_ban.tx.up.sql, the
-- index of one host's ban events by time for the pages that show one host
-- of a fleet. On PostgreSQL, history_archive_host_time (host, timeofban,
-- id) INCLUDE (action, origin, jail, country_code) of 20261207120000
-- serves those queries already (an index-only range per host), so this
-- migration adds nothing; it exists so that both dialects carry the same
-- migrations.
SELECT 1;
