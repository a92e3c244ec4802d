-- PostgreSQL twin of sqlite/20261128160000_archive_country_time.tx.up.sql.
-- Nothing to do: history_archive_time carries the country, so a window's
-- counts per country are an index-only scan of it already.
SELECT 1;
