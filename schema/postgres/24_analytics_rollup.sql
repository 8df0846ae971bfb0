-- Analytics rollups (`src/analytics/rollup.rs`): what the analytics reads sum instead of reading
-- every reservation of their window. Written by the rollup projection in the transaction of
-- every booking change, so they never disagree with `reservations`; migration 25 fills them.
-- Times are microseconds since the Unix epoch and `hour` is whole UTC hours since the epoch
-- (`time / 3600000000`), so both backends compute the same keys without a time-zone database.

-- Each reservation as last counted (the rollups hold the sum of these rows' contributions):
-- a change subtracts the old row's contribution and adds the new one. No foreign keys: a row
-- outlives its reservation until the projection has subtracted it.
CREATE TABLE analytics_counted (
    reservation_id BIGINT PRIMARY KEY,
    resource_id    BIGINT NOT NULL,
    user_id        BIGINT NOT NULL,
    start_us       BIGINT NOT NULL,
    end_us         BIGINT NOT NULL,
    created_us     BIGINT NOT NULL,
    status         TEXT NOT NULL
);
CREATE INDEX analytics_counted_resource ON analytics_counted (resource_id);

-- Per resource and UTC hour: used bookings (active, expired) starting in it, and the
-- microseconds of used bookings inside it.
CREATE TABLE analytics_resource_hours (
    resource_id BIGINT NOT NULL,
    hour        BIGINT NOT NULL,
    started     BIGINT NOT NULL,
    booked_us   BIGINT NOT NULL,
    PRIMARY KEY (resource_id, hour)
);
-- Covering indexes, so the reads sum without visiting the table: all resources over a range
-- of hours (popularity, peak times), and some resources' booked time (utilisation, heatmap).
CREATE INDEX analytics_resource_hours_hour ON analytics_resource_hours (hour, resource_id, started);
CREATE INDEX analytics_resource_hours_booked ON analytics_resource_hours (resource_id, hour, booked_us);

-- Per user and UTC hour of creation: bookings created, and how many of them are now active
-- or cancelled.
CREATE TABLE analytics_user_hours (
    user_id   BIGINT NOT NULL,
    hour      BIGINT NOT NULL,
    created   BIGINT NOT NULL,
    active    BIGINT NOT NULL,
    cancelled BIGINT NOT NULL,
    PRIMARY KEY (user_id, hour)
);
CREATE INDEX analytics_user_hours_hour ON analytics_user_hours (hour);

-- Per resource, the longest booking ever counted: bounds the scan of the bookings that overlap
-- an instant (`start_time` from the instant minus this).
CREATE TABLE analytics_longest (
    resource_id BIGINT PRIMARY KEY,
    longest_us  BIGINT NOT NULL
);
-- The bookings of a resource overlapping a short interval are found through
-- `reservations_resource_start` (migration 19).
