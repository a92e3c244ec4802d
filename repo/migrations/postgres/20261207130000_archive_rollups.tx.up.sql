-- Roll-ups of the PostgreSQL archive: event counts per UTC day (per host,
-- action, origin and jail; and per action, origin and country over every
-- host) and per hour (per action and origin over every host), kept by
-- statement triggers from the changed rows (transition tables) in the
-- statement's own transaction, so they always match history_archive. The
-- dashboard's and the map's counts of a long window add up the whole days
-- or hours from a roll-up and count only the window's ragged edges from
-- history_archive (repo/archive_postgres_rollup.go): a year of ten million
-- events is some tens of thousands of roll-up rows instead of ten million
-- index entries. Rows whose count falls to zero stay (they count nothing).
-- Each trigger adds its groups in key order, so two writers never wait for
-- each other's rows in opposite orders (no deadlock). SQLite needs none of
-- this (its twin is empty).
CREATE TABLE history_archive_jail_day (
    day    BIGINT NOT NULL,
    host   TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    origin TEXT COLLATE "C" NOT NULL,
    jail   TEXT COLLATE "C" NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (day, host, action, origin, jail)
);
--bun:split
-- The unknown country (NULL or '') is ''.
CREATE TABLE history_archive_country_day (
    day     BIGINT NOT NULL,
    action  TEXT COLLATE "C" NOT NULL,
    origin  TEXT COLLATE "C" NOT NULL,
    country TEXT COLLATE "C" NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (day, action, origin, country)
);
--bun:split
CREATE TABLE history_archive_hour (
    hour   BIGINT NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    origin TEXT COLLATE "C" NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (hour, action, origin)
);
--bun:split
CREATE FUNCTION history_archive_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO history_archive_jail_day AS r (day, host, action, origin, jail, n)
        SELECT timeofban - ((timeofban % 86400 + 86400) % 86400), host, action, origin, jail, sum(s)
        FROM (SELECT timeofban, host, action, origin, jail, country_code, 1 AS s FROM new_rows) d GROUP BY 1, 2, 3, 4, 5 HAVING sum(s) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (day, host, action, origin, jail) DO UPDATE SET n = r.n + EXCLUDED.n;
    INSERT INTO history_archive_country_day AS r (day, action, origin, country, n)
        SELECT timeofban - ((timeofban % 86400 + 86400) % 86400), action, origin, coalesce(country_code, ''), sum(s)
        FROM (SELECT timeofban, host, action, origin, jail, country_code, 1 AS s FROM new_rows) d GROUP BY 1, 2, 3, 4 HAVING sum(s) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (day, action, origin, country) DO UPDATE SET n = r.n + EXCLUDED.n;
    INSERT INTO history_archive_hour AS r (hour, action, origin, n)
        SELECT timeofban - ((timeofban % 3600 + 3600) % 3600), action, origin, sum(s)
        FROM (SELECT timeofban, host, action, origin, jail, country_code, 1 AS s FROM new_rows) d GROUP BY 1, 2, 3 HAVING sum(s) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (hour, action, origin) DO UPDATE SET n = r.n + EXCLUDED.n;
    RETURN NULL;
END
$$;
--bun:split
CREATE FUNCTION history_archive_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO history_archive_jail_day AS r (day, host, action, origin, jail, n)
        SELECT timeofban - ((timeofban % 86400 + 86400) % 86400), host, action, origin, jail, sum(s)
        FROM (SELECT timeofban, host, action, origin, jail, country_code, -1 AS s FROM old_rows) d GROUP BY 1, 2, 3, 4, 5 HAVING sum(s) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (day, host, action, origin, jail) DO UPDATE SET n = r.n + EXCLUDED.n;
    INSERT INTO history_archive_country_day AS r (day, action, origin, country, n)
        SELECT timeofban - ((timeofban % 86400 + 86400) % 86400), action, origin, coalesce(country_code, ''), sum(s)
        FROM (SELECT timeofban, host, action, origin, jail, country_code, -1 AS s FROM old_rows) d GROUP BY 1, 2, 3, 4 HAVING sum(s) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (day, action, origin, country) DO UPDATE SET n = r.n + EXCLUDED.n;
    INSERT INTO history_archive_hour AS r (hour, action, origin, n)
        SELECT timeofban - ((timeofban % 3600 + 3600) % 3600), action, origin, sum(s)
        FROM (SELECT timeofban, host, action, origin, jail, country_code, -1 AS s FROM old_rows) d GROUP BY 1, 2, 3 HAVING sum(s) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (hour, action, origin) DO UPDATE SET n = r.n + EXCLUDED.n;
    RETURN NULL;
END
$$;
--bun:split
CREATE FUNCTION history_archive_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO history_archive_jail_day AS r (day, host, action, origin, jail, n)
        SELECT timeofban - ((timeofban % 86400 + 86400) % 86400), host, action, origin, jail, sum(s)
        FROM (SELECT timeofban, host, action, origin, jail, country_code, 1 AS s FROM new_rows UNION ALL SELECT timeofban, host, action, origin, jail, country_code, -1 FROM old_rows) d GROUP BY 1, 2, 3, 4, 5 HAVING sum(s) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (day, host, action, origin, jail) DO UPDATE SET n = r.n + EXCLUDED.n;
    INSERT INTO history_archive_country_day AS r (day, action, origin, country, n)
        SELECT timeofban - ((timeofban % 86400 + 86400) % 86400), action, origin, coalesce(country_code, ''), sum(s)
        FROM (SELECT timeofban, host, action, origin, jail, country_code, 1 AS s FROM new_rows UNION ALL SELECT timeofban, host, action, origin, jail, country_code, -1 FROM old_rows) d GROUP BY 1, 2, 3, 4 HAVING sum(s) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (day, action, origin, country) DO UPDATE SET n = r.n + EXCLUDED.n;
    INSERT INTO history_archive_hour AS r (hour, action, origin, n)
        SELECT timeofban - ((timeofban % 3600 + 3600) % 3600), action, origin, sum(s)
        FROM (SELECT timeofban, host, action, origin, jail, country_code, 1 AS s FROM new_rows UNION ALL SELECT timeofban, host, action, origin, jail, country_code, -1 FROM old_rows) d GROUP BY 1, 2, 3 HAVING sum(s) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (hour, action, origin) DO UPDATE SET n = r.n + EXCLUDED.n;
    RETURN NULL;
END
$$;
--bun:split
CREATE TRIGGER history_archive_rollup_insert AFTER INSERT ON history_archive
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION history_archive_rollup_insert();
--bun:split
CREATE TRIGGER history_archive_rollup_delete AFTER DELETE ON history_archive
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION history_archive_rollup_delete();
--bun:split
CREATE TRIGGER history_archive_rollup_update AFTER UPDATE ON history_archive
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION history_archive_rollup_update();
--bun:split
-- The events archived so far.
INSERT INTO history_archive_jail_day (day, host, action, origin, jail, n)
    SELECT timeofban - ((timeofban % 86400 + 86400) % 86400), host, action, origin, jail, count(*)
    FROM history_archive GROUP BY 1, 2, 3, 4, 5;
--bun:split
INSERT INTO history_archive_country_day (day, action, origin, country, n)
    SELECT timeofban - ((timeofban % 86400 + 86400) % 86400), action, origin, coalesce(country_code, ''), count(*)
    FROM history_archive GROUP BY 1, 2, 3, 4;
--bun:split
INSERT INTO history_archive_hour (hour, action, origin, n)
    SELECT timeofban - ((timeofban % 3600 + 3600) % 3600), action, origin, count(*)
    FROM history_archive GROUP BY 1, 2, 3;
