-- Live updates: the outbox of events. See the PostgreSQL migration for the meaning of each
-- column. SQLite serialises writers, so ids become visible in order and no `tx` column is
-- needed; AUTOINCREMENT keeps ids from being reused after old rows are pruned.

CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    user_id      INTEGER,
    resource_id  INTEGER,
    broadcast    INTEGER NOT NULL,
    availability INTEGER NOT NULL,
    payload      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    -- The server process that made the change (its actors already know it; others reload).
    origin       TEXT
);

CREATE INDEX events_created_at ON events (created_at);
