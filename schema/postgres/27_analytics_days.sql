-- The daily level of the analytics rollup (`src/analytics/rollup.rs`): per resource and UTC day
-- (`hour / 24`), the day's `analytics_resource_hours` side by side: `s<h>` and `b<h>` are the
-- `started` and `booked_us` of its UTC hour `h` (0-23), `started` and `booked_us` their sums.
-- A long window reads a row per day instead of 24 (a year over 100 resources: 36,500 rows, not
-- 876,000), and still knows every UTC hour, so the reads put each hour on its resource's local
-- clock exactly as with the hourly rows. Kept in step by the rollup projection in the same
-- statement (PostgreSQL) or transaction (SQLite) as the hours; migration 28 fills it.
CREATE TABLE analytics_resource_days (
    resource_id BIGINT NOT NULL,
    day         BIGINT NOT NULL,
    started     BIGINT NOT NULL DEFAULT 0,
    booked_us   BIGINT NOT NULL DEFAULT 0,
    s0  BIGINT NOT NULL DEFAULT 0,
    s1  BIGINT NOT NULL DEFAULT 0,
    s2  BIGINT NOT NULL DEFAULT 0,
    s3  BIGINT NOT NULL DEFAULT 0,
    s4  BIGINT NOT NULL DEFAULT 0,
    s5  BIGINT NOT NULL DEFAULT 0,
    s6  BIGINT NOT NULL DEFAULT 0,
    s7  BIGINT NOT NULL DEFAULT 0,
    s8  BIGINT NOT NULL DEFAULT 0,
    s9  BIGINT NOT NULL DEFAULT 0,
    s10 BIGINT NOT NULL DEFAULT 0,
    s11 BIGINT NOT NULL DEFAULT 0,
    s12 BIGINT NOT NULL DEFAULT 0,
    s13 BIGINT NOT NULL DEFAULT 0,
    s14 BIGINT NOT NULL DEFAULT 0,
    s15 BIGINT NOT NULL DEFAULT 0,
    s16 BIGINT NOT NULL DEFAULT 0,
    s17 BIGINT NOT NULL DEFAULT 0,
    s18 BIGINT NOT NULL DEFAULT 0,
    s19 BIGINT NOT NULL DEFAULT 0,
    s20 BIGINT NOT NULL DEFAULT 0,
    s21 BIGINT NOT NULL DEFAULT 0,
    s22 BIGINT NOT NULL DEFAULT 0,
    s23 BIGINT NOT NULL DEFAULT 0,
    b0  BIGINT NOT NULL DEFAULT 0,
    b1  BIGINT NOT NULL DEFAULT 0,
    b2  BIGINT NOT NULL DEFAULT 0,
    b3  BIGINT NOT NULL DEFAULT 0,
    b4  BIGINT NOT NULL DEFAULT 0,
    b5  BIGINT NOT NULL DEFAULT 0,
    b6  BIGINT NOT NULL DEFAULT 0,
    b7  BIGINT NOT NULL DEFAULT 0,
    b8  BIGINT NOT NULL DEFAULT 0,
    b9  BIGINT NOT NULL DEFAULT 0,
    b10 BIGINT NOT NULL DEFAULT 0,
    b11 BIGINT NOT NULL DEFAULT 0,
    b12 BIGINT NOT NULL DEFAULT 0,
    b13 BIGINT NOT NULL DEFAULT 0,
    b14 BIGINT NOT NULL DEFAULT 0,
    b15 BIGINT NOT NULL DEFAULT 0,
    b16 BIGINT NOT NULL DEFAULT 0,
    b17 BIGINT NOT NULL DEFAULT 0,
    b18 BIGINT NOT NULL DEFAULT 0,
    b19 BIGINT NOT NULL DEFAULT 0,
    b20 BIGINT NOT NULL DEFAULT 0,
    b21 BIGINT NOT NULL DEFAULT 0,
    b22 BIGINT NOT NULL DEFAULT 0,
    b23 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (resource_id, day)
);
-- Every resource over a range of days (popularity, peak times).
CREATE INDEX analytics_resource_days_day ON analytics_resource_days (day, resource_id, started);
