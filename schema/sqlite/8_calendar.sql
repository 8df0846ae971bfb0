-- Calendar feeds: one secret feed URL per user (`/api/v1/calendar/feed/<token>.ics`).
-- The token itself is never stored. It is derived from `nonce` with a key derived from the
-- server's SECRET_KEY (so the subscription URL can be shown again), and found by its SHA-256:
-- reading this table alone gives no working feed URL.
CREATE TABLE calendar_feeds (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    nonce      TEXT NOT NULL,                    -- 32 random bytes, hex; replaced on regeneration
    token_hash TEXT NOT NULL UNIQUE,             -- SHA-256 hex of the token
    created_at INTEGER NOT NULL
);
