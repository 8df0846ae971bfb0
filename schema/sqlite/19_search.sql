-- SQLite twin of the PostgreSQL migration: saved searches and the search indexes.
CREATE TABLE saved_searches (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    search_type TEXT NOT NULL CHECK (search_type IN ('resources', 'reservations')),
    filters     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CONSTRAINT saved_searches_user_name UNIQUE (user_id, name)
);

CREATE INDEX reservations_resource_blocking_end ON reservations (resource_id, end_time)
    WHERE status IN ('active', 'pending_approval', 'held');
CREATE INDEX reservations_resource_start ON reservations (resource_id, start_time DESC);
CREATE INDEX reservations_created_at ON reservations (created_at);
-- Built with the server's Unicode-aware lower() (see migration 15).
CREATE INDEX resource_tags_lower ON resource_tags (LOWER(tag), resource_id);
