-- Indexes that answer the dashboard and the per-IP page from their keys
-- alone at a million archived events (keyedFilter and banJailCounts in
-- repo/archive.go, the archive's IPTotals and RecentOfIP in repo/ip.go).
-- Building them on an archive of a million events takes a few seconds.
--
-- Counting a time window over an index costs one step per entry, and the
-- step is two to three times dearer when SQLite must also compare each
-- entry with the range's end or decode a column to check a condition. The
-- dashboard counts ban events (action = 'ban') of a window three times (the
-- total, the trend buckets and the per-jail bars), so:
--
-- Ban events by time, for the total (the window runs to the end of the
-- index: no end to compare), the trend's bucket ranges and the newest-first
-- page (its order is timeofban, id). Partial, so unbans are not in the way
-- and no action is checked; SQLite uses it only for a query that says
-- action = 'ban' (a literal, or a parameter bound to 'ban'), and never for
-- +action = ?.
CREATE INDEX history_archive_ban_time ON history_archive (timeofban) WHERE action = 'ban';
--bun:split
-- Ban events per origin and jail by time, for the per-jail counts: one
-- range per (origin, jail) pair, for every origin or only the chosen one.
CREATE INDEX history_archive_ban_origin_jail ON history_archive (origin, jail, timeofban) WHERE action = 'ban';
--bun:split
-- One address's events newest first, with what its totals need (action,
-- failures): the per-IP page reads a few thousand index entries instead of
-- as many rows. The unique (ip, jail, action, timeofban) key stays: the
-- sync's INSERT OR IGNORE relies on it.
CREATE INDEX history_archive_ip_time ON history_archive (ip, timeofban, action, failures);
