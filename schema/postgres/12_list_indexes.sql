-- Indexes for the resource list (`GET /api/v1/resources`), found by the load tests.
--
-- The first page sorted by name (the default) walks this index and stops after the page, instead
-- of computing every resource's row and sorting them all.
CREATE INDEX resources_name_lower ON resources (LOWER(name), id);

-- Who holds the booking in progress (`CURRENT_USER_SQL`, `STATUS_SQL`): active bookings of a
-- resource that have started. Ended bookings leave `active` (the actors expire them), so this
-- range holds at most the current booking; without it the planner read every active booking of
-- every resource through `reservations_status_end` for each listed resource.
CREATE INDEX reservations_active_resource ON reservations (resource_id, start_time) WHERE status = 'active';
