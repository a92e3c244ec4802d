-- PostgreSQL twin of sqlite/20261201220000_archive_ban_country.tx.up.sql.
-- Nothing to do: the counts per country read history_archive_time.
SELECT 1;
