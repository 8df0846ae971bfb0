-- SQLite twin of the PostgreSQL migration: times are INTEGER microseconds.
-- API quotas and usage, fed by the rate limiter (which counts in memory and flushes in batches,
-- never a write per request).

-- One row per user who has made counted requests or whose limits an administrator set.
-- `tier` NULL means "derived from the roles" (admin for admins, else authenticated).
-- `daily_request_count` counts the UTC day starting at `last_request_date`; on a later day the
-- user's count is 0 whatever the column holds.
CREATE TABLE api_quotas (
    user_id             INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tier                TEXT CHECK (tier IN ('anonymous', 'authenticated', 'premium', 'admin')),
    custom_rate_limit   INTEGER CHECK (custom_rate_limit BETWEEN 1 AND 10000),
    custom_daily_quota  INTEGER CHECK (custom_daily_quota BETWEEN 1 AND 1000000),
    daily_request_count INTEGER NOT NULL DEFAULT 0,
    last_request_date   INTEGER,
    total_requests      INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX api_quotas_day ON api_quotas (last_request_date);

-- Requests per hour and route pattern (bounded cardinality: patterns, never raw paths).
-- `limited` counts the 429s among `requests`; `duration_us` sums their handling times.
CREATE TABLE api_usage (
    hour        INTEGER NOT NULL,
    route       TEXT NOT NULL,
    requests    INTEGER NOT NULL DEFAULT 0,
    limited     INTEGER NOT NULL DEFAULT 0,
    duration_us INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, route)
);
