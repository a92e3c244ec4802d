-- One host's ban events by time, for the pages that show one host of a
-- fleet (?host=): the dashboard's total, trend buckets and newest-first
-- page are ranges of (host, timeofban), its per-jail and per-country
-- counts a GROUP BY over the same range, answered from the index (an
-- index-only scan once the table is vacuumed). The twin of the SQLite
-- migration of the same name.
CREATE INDEX history_archive_host_ban ON history_archive (host, timeofban, origin, jail, country_code) WHERE action = 'ban';
