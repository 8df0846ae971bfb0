-- Per-minute rate-limit buckets shared by server processes (src/rate_limit/shared.rs). A server
-- on SQLite is alone on its database and keeps its buckets in memory, so this table stays empty;
-- it exists so that both schemas have the same tables.
CREATE TABLE rate_limit_buckets (
    bucket TEXT PRIMARY KEY,
    tat_us INTEGER NOT NULL
);
CREATE INDEX rate_limit_buckets_tat ON rate_limit_buckets (tat_us);
