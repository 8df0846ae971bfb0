-- SQLite twin of the PostgreSQL migration.
-- The free-window search ("free between a and b", `src/resources/queries.rs`) probes, for each
-- candidate resource, its blocking reservations that start before the window ends and keeps
-- those that end after it starts. With the end in the index that probe reads the index only
-- (issue 14).
CREATE INDEX reservations_resource_blocking_start ON reservations (resource_id, start_time, end_time)
    WHERE status IN ('active', 'pending_approval', 'held');
