-- PostgreSQL twin of sqlite/20261128150000_archive_country.tx.up.sql: one
-- country's events in time order (the map's list), and the events whose
-- country is still unknown (NULL) by address, for the job that fills them.
CREATE INDEX history_archive_country ON history_archive (country_code, timeofban, id);
--bun:split
CREATE INDEX history_archive_no_country ON history_archive (ip) WHERE country_code IS NULL;
