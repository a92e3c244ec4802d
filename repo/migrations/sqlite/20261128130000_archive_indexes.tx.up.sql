-- Indexes for the archive's views (dashboard, map, history). The rows carry
-- the data JSON and are large, so every count and GROUP BY should be
-- answered from an index: the time window with action, origin, jail and ip
-- covers the windowed views; origin and action first find the rare manual
-- events, and serve "all time" lists per origin in time order.
CREATE INDEX history_archive_time_cover ON history_archive (timeofban, action, origin, jail, ip);
--bun:split
CREATE INDEX history_archive_origin_action_time ON history_archive (origin, action, timeofban);
