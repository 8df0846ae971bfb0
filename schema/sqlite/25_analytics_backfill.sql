-- SQLite twin of the PostgreSQL migration.
-- Fills the analytics rollups of migration 24 from the reservations (and rebuilds them from
-- scratch when run again: `analytics::rollup::rebuild` and `loadtests/analytics-seed` run this
-- text after writing reservations behind the server's back).
DELETE FROM analytics_counted;
DELETE FROM analytics_resource_hours;
DELETE FROM analytics_user_hours;
DELETE FROM analytics_longest;

INSERT INTO analytics_counted (reservation_id, resource_id, user_id, start_us, end_us, created_us, status)
SELECT id, resource_id, user_id, start_time, end_time, created_at, status
FROM reservations;

-- The rest is the same text on both backends.
INSERT INTO analytics_user_hours (user_id, hour, created, active, cancelled)
SELECT user_id, created_us / 3600000000, COUNT(*),
       SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END)
FROM analytics_counted
GROUP BY user_id, created_us / 3600000000;

INSERT INTO analytics_longest (resource_id, longest_us)
SELECT resource_id, MAX(end_us - start_us) FROM analytics_counted GROUP BY resource_id;

-- Each used booking cut into the UTC hours it touches.
WITH RECURSIVE spans (resource_id, start_us, end_us, hour) AS (
    SELECT resource_id, start_us, end_us, start_us / 3600000000
    FROM analytics_counted WHERE status IN ('active', 'expired')
    UNION ALL
    SELECT resource_id, start_us, end_us, hour + 1
    FROM spans WHERE (hour + 1) * 3600000000 < end_us
)
INSERT INTO analytics_resource_hours (resource_id, hour, started, booked_us)
SELECT resource_id, hour,
       SUM(CASE WHEN hour = start_us / 3600000000 THEN 1 ELSE 0 END),
       SUM((CASE WHEN end_us < (hour + 1) * 3600000000 THEN end_us ELSE (hour + 1) * 3600000000 END)
           - (CASE WHEN start_us > hour * 3600000000 THEN start_us ELSE hour * 3600000000 END))
FROM spans
GROUP BY resource_id, hour;
