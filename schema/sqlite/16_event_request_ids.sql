-- SQLite twin of the PostgreSQL migration.
-- The id of the client request whose change an event records (X-Request-Id, or the one the
-- server generated), so one request can be followed from its log lines to its events. NULL for
-- changes no request made (timers, start-up).
ALTER TABLE events ADD COLUMN request_id TEXT;
