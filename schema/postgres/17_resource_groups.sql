-- Resource groups (building, floor, room …) and the hierarchy of resources (a desk inside a room).
CREATE TABLE resource_groups (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT,
    parent_id   BIGINT REFERENCES resource_groups (id),
    building    TEXT,
    floor       TEXT,
    room        TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ
);
CREATE INDEX resource_groups_parent ON resource_groups (parent_id);
CREATE INDEX resource_groups_building ON resource_groups (building);

ALTER TABLE resources ADD COLUMN group_id BIGINT REFERENCES resource_groups (id) ON DELETE SET NULL;
ALTER TABLE resources ADD COLUMN parent_id BIGINT REFERENCES resources (id) ON DELETE SET NULL;
CREATE INDEX resources_group ON resources (group_id);
CREATE INDEX resources_parent ON resources (parent_id);

-- One row that every change of a parent (of a group or of a resource) locks first, so that the
-- cycle check and the write are atomic: two concurrent re-parentings run one after the other,
-- and the second sees the first's result (SQLite serialises writers anyway).
CREATE TABLE hierarchy_lock (
    id      BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO hierarchy_lock (id, version) VALUES (1, 0);
