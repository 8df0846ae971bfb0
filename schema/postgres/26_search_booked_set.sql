-- A free-window search ("free between a and b" over a day or less, `src/resources/queries.rs`)
-- forms the set of resources booked in the window in one read of this index, instead of one
-- probe per candidate resource: over 10,000 resources and 1,000,000 reservations that is a few
-- hundred index entries instead of thousands of probes (issue 14). The exclusion constraint's
-- GiST index cannot serve it (it is keyed by resource first). `resource_id` is included so the
-- read touches the index only.
CREATE INDEX reservations_blocking_during ON reservations
    USING gist (tstzrange(start_time, end_time, '[)')) INCLUDE (resource_id)
    WHERE status IN ('active', 'pending_approval', 'held');
