-- Foundation: settings, users, resources and reservations.
-- Times are TIMESTAMPTZ (UTC instants). Ids are BIGINT everywhere so that the server binds i64.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE system_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id                  BIGSERIAL PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,          -- stored lower-case
    hashed_password     TEXT NOT NULL,
    email               TEXT UNIQUE,
    email_verified      BOOLEAN NOT NULL DEFAULT FALSE,
    email_notifications BOOLEAN NOT NULL DEFAULT TRUE,
    reminder_hours      BIGINT NOT NULL DEFAULT 24,
    is_active           BOOLEAN NOT NULL DEFAULT TRUE,
    created_at          TIMESTAMPTZ NOT NULL
);

CREATE TABLE resources (
    id                BIGSERIAL PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    description       TEXT,
    available         BOOLEAN NOT NULL DEFAULT TRUE,   -- the base (enabled) flag
    status            TEXT NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'unavailable')),
    unavailable_since TIMESTAMPTZ,
    auto_reset_hours  BIGINT,
    timezone          TEXT NOT NULL DEFAULT 'UTC',
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ
);

CREATE TABLE resource_tags (
    resource_id BIGINT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (resource_id, tag)
);

-- A reservation blocks its slot while its status is one of the blocking statuses
-- ('active', 'pending_approval', 'held'). The exclusion constraint makes two overlapping
-- blocking rows for one resource impossible, whatever code path, process or node writes them.
-- Intervals are half-open: a booking may start exactly when another ends.
CREATE TABLE reservations (
    id                  BIGSERIAL PRIMARY KEY,
    user_id             BIGINT NOT NULL REFERENCES users (id),
    resource_id         BIGINT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    start_time          TIMESTAMPTZ NOT NULL,
    end_time            TIMESTAMPTZ NOT NULL,
    status              TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    cancelled_at        TIMESTAMPTZ,
    cancellation_reason TEXT,
    CONSTRAINT reservations_time_order CHECK (end_time > start_time),
    CONSTRAINT reservations_no_overlap EXCLUDE USING gist (
        resource_id WITH =,
        tstzrange(start_time, end_time, '[)') WITH &&
    ) WHERE (status IN ('active', 'pending_approval', 'held'))
);

CREATE INDEX reservations_resource_time ON reservations (resource_id, start_time);
CREATE INDEX reservations_user_start ON reservations (user_id, start_time);
