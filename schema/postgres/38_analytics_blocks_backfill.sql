-- Fills the four-week rollup (migration 37) from the daily one (and rebuilds it from scratch
-- when run again: `analytics::rollup::rebuild` and `loadtests/analytics-seed` run this text
-- after migrations 25's and 28's). Days are after 1970 (≥ 0), where `/` and `%` are Rust's
-- `div_euclid` and `rem_euclid`. The same text on both backends.
DELETE FROM analytics_resource_blocks;

INSERT INTO analytics_resource_blocks (resource_id, block, weekday, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16, s17, s18, s19, s20, s21, s22, s23)
SELECT resource_id, day / 28, day % 7,
       SUM(s0),
       SUM(s1),
       SUM(s2),
       SUM(s3),
       SUM(s4),
       SUM(s5),
       SUM(s6),
       SUM(s7),
       SUM(s8),
       SUM(s9),
       SUM(s10),
       SUM(s11),
       SUM(s12),
       SUM(s13),
       SUM(s14),
       SUM(s15),
       SUM(s16),
       SUM(s17),
       SUM(s18),
       SUM(s19),
       SUM(s20),
       SUM(s21),
       SUM(s22),
       SUM(s23)
FROM analytics_resource_days
GROUP BY resource_id, day / 28, day % 7;
