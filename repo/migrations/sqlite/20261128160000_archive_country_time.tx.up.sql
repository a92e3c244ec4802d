-- Ban counts per country in a short time window (the map's default of 24
-- hours) read the window's range of this covering index and sort its few
-- rows, instead of walking all of history_archive_country. CountsByCountry
-- picks it when the window holds at most 50,000 events.
CREATE INDEX history_archive_time_country ON history_archive (timeofban, action, origin, country_code);
