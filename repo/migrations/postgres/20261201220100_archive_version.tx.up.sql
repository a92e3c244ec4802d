-- PostgreSQL twin of sqlite/20261201220100_archive_version.tx.up.sql: a
-- counter that changes whenever history_archive does, for the result cache.
-- The triggers fire once per statement (not per row, so a sync's insert of
-- 500 events updates the counter once) and only when the statement changed
-- a row (the transition table is not empty): an insert whose events were
-- all archived already leaves the cache valid.
CREATE TABLE history_archive_version (n BIGINT NOT NULL);
--bun:split
INSERT INTO history_archive_version (n) VALUES (0);
--bun:split
CREATE FUNCTION history_archive_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed) THEN
        UPDATE history_archive_version SET n = n + 1;
    END IF;
    RETURN NULL;
END
$$;
--bun:split
CREATE TRIGGER history_archive_version_insert AFTER INSERT ON history_archive
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION history_archive_version_bump();
--bun:split
CREATE TRIGGER history_archive_version_update AFTER UPDATE ON history_archive
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION history_archive_version_bump();
--bun:split
CREATE TRIGGER history_archive_version_delete AFTER DELETE ON history_archive
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION history_archive_version_bump();
