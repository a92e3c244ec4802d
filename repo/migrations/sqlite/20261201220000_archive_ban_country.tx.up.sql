-- Ban events per origin and country by time, for the dashboard's and the
-- map's counts per country over long windows: one range per (origin,
-- country) pair read from the keys alone (banCountryCounts in
-- repo/archive.go), instead of a walk of history_archive_country that
-- checks the window, action and origin on every entry (about three times
-- the work at a million events). Partial like the other ban indexes.
CREATE INDEX history_archive_ban_origin_country ON history_archive (origin, country_code, timeofban) WHERE action = 'ban';
