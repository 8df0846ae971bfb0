-- Tags keep the order they were given (the original preserved it). Rows written before this
-- migration tie at 0 and keep their former (alphabetical) order.
ALTER TABLE resource_tags ADD COLUMN position INTEGER NOT NULL DEFAULT 0;

-- The server now overrides lower() on every SQLite connection with a Unicode-aware version
-- (SQLite's own folds only ASCII). Rebuild the index on LOWER(name) with it, so that names like
-- 'Ñandú' are found in it where queries now look for them.
REINDEX resources_name_lower;
