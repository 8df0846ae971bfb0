-- Waitlist, temporary holds, check-in and approvals: the resource actors' timers.
-- Every deadline is a column, so an actor (re)started after a crash re-arms its timers from here.

-- Approvals: a resource may require approval, by a default approver.
ALTER TABLE resources ADD COLUMN requires_approval BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE resources ADD COLUMN default_approver_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
-- Check-in: bookings must be checked in within this many minutes of their start, or are released.
ALTER TABLE resources ADD COLUMN checkin_window_minutes BIGINT;

-- `held` rows (temporary holds and waitlist offers) lapse at `hold_expires_at`.
ALTER TABLE reservations ADD COLUMN hold_expires_at TIMESTAMPTZ;
-- Check-in of an active booking on a resource that requires it: the deadline, and when it happened.
ALTER TABLE reservations ADD COLUMN checkin_deadline TIMESTAMPTZ;
ALTER TABLE reservations ADD COLUMN checked_in_at TIMESTAMPTZ;

CREATE TABLE waitlist (
    id               BIGSERIAL PRIMARY KEY,
    resource_id      BIGINT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    desired_start    TIMESTAMPTZ NOT NULL,
    desired_end      TIMESTAMPTZ NOT NULL,
    flexible_time    BOOLEAN NOT NULL DEFAULT FALSE,
    status           TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'fulfilled', 'expired', 'cancelled')),
    created_at       TIMESTAMPTZ NOT NULL,
    offered_at       TIMESTAMPTZ,
    offer_expires_at TIMESTAMPTZ,
    -- The `held` reservation that holds the offered slot.
    offered_reservation_id BIGINT REFERENCES reservations (id) ON DELETE SET NULL,
    CHECK (desired_end > desired_start)
);
CREATE INDEX waitlist_resource_status ON waitlist (resource_id, status, created_at);
CREATE INDEX waitlist_user ON waitlist (user_id, created_at);

CREATE TABLE approval_requests (
    id               BIGSERIAL PRIMARY KEY,
    reservation_id   BIGINT NOT NULL UNIQUE REFERENCES reservations (id) ON DELETE CASCADE,
    approver_id      BIGINT NOT NULL REFERENCES users (id),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    request_message  TEXT,
    response_message TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    responded_at     TIMESTAMPTZ
);
CREATE INDEX approval_requests_approver ON approval_requests (approver_id, status);
