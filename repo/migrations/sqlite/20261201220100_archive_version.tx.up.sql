-- A counter that changes whenever history_archive does (a row inserted,
-- updated or deleted), so that the archive's counts can be cached and
-- shared between requests for as long as the archive is unchanged
-- (resultCache in repo/db.go): writes to other tables (sessions, the geo
-- cache) leave it alone.
CREATE TABLE history_archive_version (n INTEGER NOT NULL);
--bun:split
INSERT INTO history_archive_version (n) VALUES (0);
--bun:split
CREATE TRIGGER history_archive_version_insert AFTER INSERT ON history_archive
BEGIN
    UPDATE history_archive_version SET n = n + 1;
END;
--bun:split
CREATE TRIGGER history_archive_version_update AFTER UPDATE ON history_archive
BEGIN
    UPDATE history_archive_version SET n = n + 1;
END;
--bun:split
CREATE TRIGGER history_archive_version_delete AFTER DELETE ON history_archive
BEGIN
    UPDATE history_archive_version SET n = n + 1;
END;
