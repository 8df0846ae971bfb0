-- Live updates: the outbox of events, written in the same transaction as the change they
-- describe and read after commit by every server process (see src/events/).

CREATE TABLE events (
    -- The inserting transaction, so a reader can tell a sequence gap left by a transaction still
    -- in flight from one left by a rollback. Declared before `id` so that, when defaults are
    -- evaluated, the transaction id is assigned before the sequence value is taken.
    tx           XID8 NOT NULL DEFAULT pg_current_xact_id(),
    -- The global sequence number clients see (`seq`) and resume from (`?since=`).
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    -- Who receives it: the user it concerns, the subscribers of its resource, everyone
    -- (`broadcast`), and subscribers of all availability changes (`availability`).
    user_id      BIGINT,
    resource_id  BIGINT,
    broadcast    BOOLEAN NOT NULL,
    availability BOOLEAN NOT NULL,
    -- The message's own fields (without `type`, `seq` and `timestamp`, which are added on the way out).
    payload      JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    -- The server process that made the change (its actors already know it; others reload).
    origin       TEXT
);

-- Retention: rows older than the retention period are deleted in batches.
CREATE INDEX events_created_at ON events (created_at);
