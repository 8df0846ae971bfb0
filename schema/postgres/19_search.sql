-- Saved searches (one name per user: saving again under a name replaces it), and the indexes
-- the search API answers from.
CREATE TABLE saved_searches (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    search_type TEXT NOT NULL CHECK (search_type IN ('resources', 'reservations')),
    filters     JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT saved_searches_user_name UNIQUE (user_id, name)
);

-- "Is this resource free between a and b": the blocking reservations of one resource that end
-- after a, in end order (the free-window search probes this once per candidate resource).
CREATE INDEX reservations_resource_blocking_end ON reservations (resource_id, end_time)
    WHERE status IN ('active', 'pending_approval', 'held');
-- Reservation search by resource and by creation time.
CREATE INDEX reservations_resource_start ON reservations (resource_id, start_time DESC);
CREATE INDEX reservations_created_at ON reservations (created_at);
-- Lower-cased tags, for tag filters and suggestions.
CREATE INDEX resource_tags_lower ON resource_tags (LOWER(tag), resource_id);
