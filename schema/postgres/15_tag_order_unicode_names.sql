-- Tags keep the order they were given (the original preserved it). Rows written before this
-- migration tie at 0 and keep their former (alphabetical) order.
ALTER TABLE resource_tags ADD COLUMN position BIGINT NOT NULL DEFAULT 0;

-- (SQLite's migration 14 also rebuilds the index on LOWER(name) with a Unicode-aware lower();
-- PostgreSQL's lower() already folds Unicode on a UTF-8 database.)
