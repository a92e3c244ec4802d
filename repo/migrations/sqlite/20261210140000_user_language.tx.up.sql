-- The panel's language chosen by each account ("en", "de"); empty follows
-- the browser's Accept-Language.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
