-- SQLite twin of the PostgreSQL migration.
-- The four-week level of the analytics rollup (`src/analytics/rollup.rs`), for year-long peak
-- times: per resource, block of 28 UTC days (`day / 28`, days since 1970-01-01) and weekday of
-- the UTC day (`day % 7`, 0 being a Thursday), the used bookings that start in each UTC hour
-- `h` of those four days (`s<h>`). Within a block in which a time zone's offset does not change,
-- a UTC weekday and hour is one local weekday and hour, so a year of peak times reads 7 rows
-- per resource and block (91 a year) instead of 364 day rows, and only the blocks in which a
-- zone changes its clocks, and the days at the window's ends, from the daily level. Kept in step by the rollup projection with the hours and
-- days (on PostgreSQL in the same statement); migration 38 fills it.
CREATE TABLE analytics_resource_blocks (
    resource_id BIGINT NOT NULL,
    block       BIGINT NOT NULL,
    weekday     BIGINT NOT NULL,
    s0   BIGINT NOT NULL DEFAULT 0,
    s1   BIGINT NOT NULL DEFAULT 0,
    s2   BIGINT NOT NULL DEFAULT 0,
    s3   BIGINT NOT NULL DEFAULT 0,
    s4   BIGINT NOT NULL DEFAULT 0,
    s5   BIGINT NOT NULL DEFAULT 0,
    s6   BIGINT NOT NULL DEFAULT 0,
    s7   BIGINT NOT NULL DEFAULT 0,
    s8   BIGINT NOT NULL DEFAULT 0,
    s9   BIGINT NOT NULL DEFAULT 0,
    s10  BIGINT NOT NULL DEFAULT 0,
    s11  BIGINT NOT NULL DEFAULT 0,
    s12  BIGINT NOT NULL DEFAULT 0,
    s13  BIGINT NOT NULL DEFAULT 0,
    s14  BIGINT NOT NULL DEFAULT 0,
    s15  BIGINT NOT NULL DEFAULT 0,
    s16  BIGINT NOT NULL DEFAULT 0,
    s17  BIGINT NOT NULL DEFAULT 0,
    s18  BIGINT NOT NULL DEFAULT 0,
    s19  BIGINT NOT NULL DEFAULT 0,
    s20  BIGINT NOT NULL DEFAULT 0,
    s21  BIGINT NOT NULL DEFAULT 0,
    s22  BIGINT NOT NULL DEFAULT 0,
    s23  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (resource_id, block, weekday)
);
