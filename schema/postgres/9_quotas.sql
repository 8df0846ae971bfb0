-- API quotas and usage, fed by the rate limiter (which counts in memory and flushes in batches,
-- never a write per request).

-- One row per user who has made counted requests or whose limits an administrator set.
-- `tier` NULL means "derived from the roles" (admin for admins, else authenticated).
-- `daily_request_count` counts the UTC day starting at `last_request_date`; on a later day the
-- user's count is 0 whatever the column holds.
CREATE TABLE api_quotas (
    user_id             BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tier                TEXT CHECK (tier IN ('anonymous', 'authenticated', 'premium', 'admin')),
    custom_rate_limit   BIGINT CHECK (custom_rate_limit BETWEEN 1 AND 10000),
    custom_daily_quota  BIGINT CHECK (custom_daily_quota BETWEEN 1 AND 1000000),
    daily_request_count BIGINT NOT NULL DEFAULT 0,
    last_request_date   TIMESTAMPTZ,
    total_requests      BIGINT NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX api_quotas_day ON api_quotas (last_request_date);

-- Requests per hour and route pattern (bounded cardinality: patterns, never raw paths).
-- `limited` counts the 429s among `requests`; `duration_us` sums their handling times.
CREATE TABLE api_usage (
    hour        TIMESTAMPTZ NOT NULL,
    route       TEXT NOT NULL,
    requests    BIGINT NOT NULL DEFAULT 0,
    limited     BIGINT NOT NULL DEFAULT 0,
    duration_us BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, route)
);
