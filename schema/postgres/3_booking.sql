-- Booking: maintenance windows, recurring series, reservation history, idempotency keys.

-- End of the current maintenance window (NULL: until an operator ends it, or no maintenance).
ALTER TABLE resources ADD COLUMN maintenance_until TIMESTAMPTZ;

CREATE TABLE recurrence_rules (
    id               BIGSERIAL PRIMARY KEY,
    frequency        TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    repeat_interval  BIGINT NOT NULL CHECK (repeat_interval >= 1),
    days_of_week     TEXT NOT NULL DEFAULT '[]',   -- JSON list of 0 (Monday) .. 6 (Sunday)
    end_type         TEXT NOT NULL CHECK (end_type IN ('never', 'on_date', 'after_count')),
    end_date         TIMESTAMPTZ,
    occurrence_count BIGINT,
    timezone         TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);

ALTER TABLE reservations ADD COLUMN recurrence_rule_id BIGINT REFERENCES recurrence_rules (id);
ALTER TABLE reservations ADD COLUMN parent_reservation_id BIGINT REFERENCES reservations (id) ON DELETE SET NULL;
ALTER TABLE reservations ADD COLUMN is_recurring_instance BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE reservations ADD COLUMN updated_at TIMESTAMPTZ;

-- Finds the resources with time-driven work (bookings to expire) at start-up.
CREATE INDEX reservations_status_end ON reservations (status, end_time);

-- Who did what to a reservation, and when.
CREATE TABLE reservation_history (
    id             BIGSERIAL PRIMARY KEY,
    reservation_id BIGINT NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    action         TEXT NOT NULL,          -- created | modified | cancelled | expired
    user_id        BIGINT REFERENCES users (id),
    created_at     TIMESTAMPTZ NOT NULL,
    details        TEXT
);
CREATE INDEX reservation_history_reservation ON reservation_history (reservation_id, created_at);

-- Responses to writes sent with an Idempotency-Key, per user, kept 24 hours.
-- `reservation_ids` is written in the booking's own transaction, so a retry after a crash
-- between commit and response still finds what was booked.
CREATE TABLE idempotency_keys (
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status BIGINT,
    response_body   TEXT,
    reservation_ids TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
