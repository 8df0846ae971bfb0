-- SQLite twin of the PostgreSQL migration.
-- Analytics (`src/analytics/`): every figure is bounded by a window of `days` days, so each
-- query reads only the reservations of that window through one of these indexes.
-- Utilisation: per resource, the bookings that end after the window starts.
CREATE INDEX reservations_resource_end ON reservations (resource_id, end_time);
-- Popular resources and peak times: the bookings that start in the window, all resources.
CREATE INDEX reservations_start ON reservations (start_time);
-- Overview, user patterns and the reservations export: the bookings created in the window.
CREATE INDEX reservations_created ON reservations (created_at);
