-- Foundation: settings, users, resources and reservations.
-- Times are INTEGER microseconds since the Unix epoch (UTC instants); booleans are 0/1.
-- Table and column names match the PostgreSQL schema so that queries are shared.

CREATE TABLE system_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    username            TEXT NOT NULL UNIQUE,
    hashed_password     TEXT NOT NULL,
    email               TEXT UNIQUE,
    email_verified      INTEGER NOT NULL DEFAULT 0,
    email_notifications INTEGER NOT NULL DEFAULT 1,
    reminder_hours      INTEGER NOT NULL DEFAULT 24,
    is_active           INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL
);

CREATE TABLE resources (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL UNIQUE,
    description       TEXT,
    available         INTEGER NOT NULL DEFAULT 1,
    status            TEXT NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'unavailable')),
    unavailable_since INTEGER,
    auto_reset_hours  INTEGER,
    timezone          TEXT NOT NULL DEFAULT 'UTC',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER
);

CREATE TABLE resource_tags (
    resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (resource_id, tag)
);

CREATE TABLE reservations (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id             INTEGER NOT NULL REFERENCES users (id),
    resource_id         INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    start_time          INTEGER NOT NULL,
    end_time            INTEGER NOT NULL,
    status              TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    cancelled_at        INTEGER,
    cancellation_reason TEXT,
    CHECK (end_time > start_time)
);

CREATE INDEX reservations_resource_time ON reservations (resource_id, start_time);
CREATE INDEX reservations_user_start ON reservations (user_id, start_time);

-- SQLite has no exclusion constraints; these triggers are the same guard as PostgreSQL's
-- reservations_no_overlap: no two blocking rows of one resource may overlap ([start, end)).
-- The server maps the 'reservations_no_overlap' abort to a conflict, exactly as on PostgreSQL.
CREATE TRIGGER reservations_no_overlap_insert
BEFORE INSERT ON reservations
WHEN NEW.status IN ('active', 'pending_approval', 'held')
BEGIN
    SELECT RAISE(ABORT, 'reservations_no_overlap')
    WHERE EXISTS (
        SELECT 1 FROM reservations r
        WHERE r.resource_id = NEW.resource_id
          AND r.status IN ('active', 'pending_approval', 'held')
          AND r.start_time < NEW.end_time
          AND r.end_time > NEW.start_time
    );
END;

CREATE TRIGGER reservations_no_overlap_update
BEFORE UPDATE OF status, start_time, end_time, resource_id ON reservations
WHEN NEW.status IN ('active', 'pending_approval', 'held')
BEGIN
    SELECT RAISE(ABORT, 'reservations_no_overlap')
    WHERE EXISTS (
        SELECT 1 FROM reservations r
        WHERE r.id <> NEW.id
          AND r.resource_id = NEW.resource_id
          AND r.status IN ('active', 'pending_approval', 'held')
          AND r.start_time < NEW.end_time
          AND r.end_time > NEW.start_time
    );
END;
