-- One host's ban events by time, for the pages that show one host of a
-- fleet (?host=): the dashboard's total, trend buckets and newest-first
-- page are ranges of (host, timeofban), its per-jail and per-country
-- counts a GROUP BY over the same range, read from the index's keys alone
-- (origin, jail and country_code ride along; keyedFilter and
-- hostCountryCounts in repo/archive_sqlite*.go). Without it a host's
-- window is the window of every host with the host checked on each row.
-- Partial like the other ban indexes: SQLite uses it only for a query
-- that says action = 'ban'.
CREATE INDEX history_archive_host_ban ON history_archive (host, timeofban, origin, jail, country_code) WHERE action = 'ban';
