-- Booking: maintenance windows, recurring series, reservation history, idempotency keys.
-- See the PostgreSQL migration for the meaning of each column.

ALTER TABLE resources ADD COLUMN maintenance_until INTEGER;

CREATE TABLE recurrence_rules (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    frequency        TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    repeat_interval  INTEGER NOT NULL CHECK (repeat_interval >= 1),
    days_of_week     TEXT NOT NULL DEFAULT '[]',
    end_type         TEXT NOT NULL CHECK (end_type IN ('never', 'on_date', 'after_count')),
    end_date         INTEGER,
    occurrence_count INTEGER,
    timezone         TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);

ALTER TABLE reservations ADD COLUMN recurrence_rule_id INTEGER REFERENCES recurrence_rules (id);
ALTER TABLE reservations ADD COLUMN parent_reservation_id INTEGER REFERENCES reservations (id) ON DELETE SET NULL;
ALTER TABLE reservations ADD COLUMN is_recurring_instance INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reservations ADD COLUMN updated_at INTEGER;

CREATE INDEX reservations_status_end ON reservations (status, end_time);

CREATE TABLE reservation_history (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    reservation_id INTEGER NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    action         TEXT NOT NULL,
    user_id        INTEGER REFERENCES users (id),
    created_at     INTEGER NOT NULL,
    details        TEXT
);
CREATE INDEX reservation_history_reservation ON reservation_history (reservation_id, created_at);

CREATE TABLE idempotency_keys (
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status INTEGER,
    response_body   TEXT,
    reservation_ids TEXT,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
