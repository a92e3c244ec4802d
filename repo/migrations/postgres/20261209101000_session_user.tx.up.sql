-- Sessions know the account they are logged in as, so a user can list and
-- end their own sessions and a disabled or deleted user's sessions can be
-- removed at once. NULL: not logged in (or logged in before accounts; the
-- panel fills it on that session's next request).
ALTER TABLE sessions ADD COLUMN user_id BIGINT;
--bun:split
CREATE INDEX sessions_user ON sessions (user_id);
