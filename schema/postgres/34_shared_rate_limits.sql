-- Per-minute rate-limit buckets shared by every server process on this database
-- (src/rate_limit/shared.rs): one GCRA instant per bucket, in microseconds since the epoch.
-- UNLOGGED: a crash forgets them, which only refills every bucket; no WAL per request.
CREATE UNLOGGED TABLE rate_limit_buckets (
    bucket TEXT PRIMARY KEY,
    tat_us BIGINT NOT NULL
);
CREATE INDEX rate_limit_buckets_tat ON rate_limit_buckets (tat_us);
