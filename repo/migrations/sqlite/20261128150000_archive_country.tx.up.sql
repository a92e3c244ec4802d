-- The world map counts bans per country in a time window and pages through
-- one country's bans newest first. Both read this index only: it is walked
-- in country order (a streaming GROUP BY) with the window, action and origin
-- checked on the index entry, and a country's range is already in time
-- order. It also finds the rows whose country is still NULL for the job
-- that fills them in.
CREATE INDEX history_archive_country ON history_archive (country_code, timeofban, action, origin);
