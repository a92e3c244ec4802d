-- SQLite twin of postgres/20261207130000_archive_rollups.tx.up.sql. Nothing
-- to do: SQLite counts a window from its covering indexes fast enough at a
-- million events; the roll-ups serve PostgreSQL archives of ten million.
SELECT 1;
