-- Opening hours and blackout dates (the original's §2.20), enforced at booking time by the
-- resource actors (the original only stored them). Rows with `resource_id` NULL are global.
-- Which rows apply: a resource's own hours if it has any (they replace the global rows
-- entirely), else the global hours, else none (always open). Blackout dates of the resource and
-- global ones both apply. Times and dates are read in the resource's own time zone.

-- One row per day of the week and owner; a day without a row is closed when the owner has rows.
CREATE TABLE business_hours (
    id          BIGSERIAL PRIMARY KEY,
    resource_id BIGINT REFERENCES resources (id) ON DELETE CASCADE,
    day_of_week INTEGER NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),   -- 0 = Monday
    open_time   TEXT NOT NULL,                    -- 'HH:MM:SS', local wall-clock time
    close_time  TEXT NOT NULL,                    -- 'HH:MM:SS' after open_time, or '24:00:00'
    is_closed   BOOLEAN NOT NULL DEFAULT FALSE
);
-- Resource ids start at 1, so 0 stands for "global" in the uniqueness of days.
CREATE UNIQUE INDEX business_hours_day ON business_hours ((COALESCE(resource_id, 0)), day_of_week);

CREATE TABLE blackout_dates (
    id          BIGSERIAL PRIMARY KEY,
    resource_id BIGINT REFERENCES resources (id) ON DELETE CASCADE,
    date        TEXT NOT NULL,                    -- 'YYYY-MM-DD', a local date of the resource
    reason      TEXT,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX blackout_dates_owner ON blackout_dates (resource_id, date);
