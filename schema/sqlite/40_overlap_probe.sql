-- SQLite twin of the PostgreSQL migration: a booking's overlap check probes one index entry,
-- and writing a reservation builds no temporary table.
--
-- 1. Migration 1's triggers looked for any blocking reservation of the resource that starts
--    before the new one ends and ends after it starts. The index on (resource_id, start_time,
--    end_time) finds those that start before the end, and each was checked: every blocking
--    booking of the resource that starts earlier was read at every insert, so a booking cost
--    more the more the resource had been booked. The blocking reservations of a resource never
--    overlap (these triggers keep it so, and every booking is positive in length: migration
--    1's CHECK), so ordered by start they are also ordered by end. Of those that start before
--    the new one ends, the one that starts last therefore ends last: the new one overlaps some
--    blocking reservation if and only if it overlaps that one.
-- 2. "Blocking" is written as equalities joined by OR, not as `status IN (…)`: SQLite evaluates
--    an IN list of more than two constants by building a temporary b-tree at every run of the
--    statement, which for an INSERT meant one per partial index and one per trigger test,
--    each costing more than the index probe itself. The two partial indexes are rebuilt with
--    the new text, which the server's queries use too (`resources::blocking::blocking_sql`): SQLite
--    uses a partial index only for a query that carries its WHERE clause.
DROP TRIGGER reservations_no_overlap_insert;
DROP TRIGGER reservations_no_overlap_update;
DROP INDEX reservations_resource_blocking_end;
DROP INDEX reservations_resource_blocking_start;

CREATE INDEX reservations_resource_blocking_end ON reservations (resource_id, end_time)
    WHERE status = 'active' OR status = 'pending_approval' OR status = 'held';
CREATE INDEX reservations_resource_blocking_start ON reservations (resource_id, start_time, end_time)
    WHERE status = 'active' OR status = 'pending_approval' OR status = 'held';

CREATE TRIGGER reservations_no_overlap_insert
BEFORE INSERT ON reservations
WHEN NEW.status = 'active' OR NEW.status = 'pending_approval' OR NEW.status = 'held'
BEGIN
    SELECT RAISE(ABORT, 'reservations_no_overlap')
    WHERE (
        SELECT r.end_time FROM reservations r
        WHERE r.resource_id = NEW.resource_id
          AND (r.status = 'active' OR r.status = 'pending_approval' OR r.status = 'held')
          AND r.start_time < NEW.end_time
        ORDER BY r.start_time DESC
        LIMIT 1
    ) > NEW.start_time;
END;

-- The row being changed is left out: the others still never overlap one another.
CREATE TRIGGER reservations_no_overlap_update
BEFORE UPDATE OF status, start_time, end_time, resource_id ON reservations
WHEN NEW.status = 'active' OR NEW.status = 'pending_approval' OR NEW.status = 'held'
BEGIN
    SELECT RAISE(ABORT, 'reservations_no_overlap')
    WHERE (
        SELECT r.end_time FROM reservations r
        WHERE r.id <> NEW.id
          AND r.resource_id = NEW.resource_id
          AND (r.status = 'active' OR r.status = 'pending_approval' OR r.status = 'held')
          AND r.start_time < NEW.end_time
        ORDER BY r.start_time DESC
        LIMIT 1
    ) > NEW.start_time;
END;
