-- E-mail: addresses waiting for their owner to prove them, and the outbox of messages written in
-- the transaction of the change they tell of (sent after commit; see src/email/).

-- One pending verification per user: setting another address replaces it. Only the SHA-256 of
-- the code is kept.
CREATE TABLE email_verifications (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE email_outbox (
    id              BIGSERIAL PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    -- Failed attempts so far.
    attempts        BIGINT NOT NULL DEFAULT 0,
    -- When a pending message may be taken next: due now, a retry, or the end of a claim.
    next_attempt_at TIMESTAMPTZ,
    -- The claim that holds it; only that claim records the outcome.
    claim           TEXT,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE status = 'pending';

-- When a booking's reminder was written: at most one per booking (NULL until then).
ALTER TABLE reservations ADD COLUMN reminded_at TIMESTAMPTZ;
