-- Webhooks: users' subscriptions to business events, and the deliveries written for them in the
-- same transaction as the change they announce (an outbox, sent after commit; see src/webhooks/).

CREATE TABLE webhooks (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    -- The HMAC key of the signatures. Kept as it is (it must sign), never logged, shown only
    -- when created or regenerated.
    secret      TEXT NOT NULL,
    description TEXT,
    is_active   BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhooks_user ON webhooks (user_id);

-- The events a webhook subscribes to, in the order its owner listed them; indexed by event so
-- that a change finds its subscribers in one lookup.
CREATE TABLE webhook_events (
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event      TEXT NOT NULL,
    position   BIGINT NOT NULL,
    PRIMARY KEY (webhook_id, event)
);
CREATE INDEX webhook_events_event ON webhook_events (event, webhook_id);

CREATE TABLE webhook_deliveries (
    id            BIGSERIAL PRIMARY KEY,
    webhook_id    BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_type    TEXT NOT NULL,
    -- The exact request body: what is signed, and sent again byte for byte on every attempt.
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    status_code   BIGINT,
    response_body TEXT,
    error_message TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    delivered_at  TIMESTAMPTZ,
    next_retry_at TIMESTAMPTZ,
    retry_count   BIGINT NOT NULL DEFAULT 0,
    -- When a dispatcher may next take it: its first attempt or retry, or the end of the current
    -- claim (a dispatcher that died mid-send loses it then). NULL once delivered or failed.
    due_at        TIMESTAMPTZ,
    -- The claim of the dispatcher sending it now; only that claim may record the outcome.
    claim         TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
