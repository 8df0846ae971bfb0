-- Waitlist, temporary holds, check-in and approvals: the resource actors' timers.
-- See the PostgreSQL migration for the meaning of each column.

ALTER TABLE resources ADD COLUMN requires_approval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE resources ADD COLUMN default_approver_id INTEGER REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE resources ADD COLUMN checkin_window_minutes INTEGER;

ALTER TABLE reservations ADD COLUMN hold_expires_at INTEGER;
ALTER TABLE reservations ADD COLUMN checkin_deadline INTEGER;
ALTER TABLE reservations ADD COLUMN checked_in_at INTEGER;

CREATE TABLE waitlist (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id      INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    desired_start    INTEGER NOT NULL,
    desired_end      INTEGER NOT NULL,
    flexible_time    INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'fulfilled', 'expired', 'cancelled')),
    created_at       INTEGER NOT NULL,
    offered_at       INTEGER,
    offer_expires_at INTEGER,
    offered_reservation_id INTEGER REFERENCES reservations (id) ON DELETE SET NULL,
    CHECK (desired_end > desired_start)
);
CREATE INDEX waitlist_resource_status ON waitlist (resource_id, status, created_at);
CREATE INDEX waitlist_user ON waitlist (user_id, created_at);

CREATE TABLE approval_requests (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    reservation_id   INTEGER NOT NULL UNIQUE REFERENCES reservations (id) ON DELETE CASCADE,
    approver_id      INTEGER NOT NULL REFERENCES users (id),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    request_message  TEXT,
    response_message TEXT,
    created_at       INTEGER NOT NULL,
    responded_at     INTEGER
);
CREATE INDEX approval_requests_approver ON approval_requests (approver_id, status);
