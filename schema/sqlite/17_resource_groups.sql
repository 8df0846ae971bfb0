-- SQLite twin of the PostgreSQL migration: resource groups and the hierarchy of resources.
CREATE TABLE resource_groups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    description TEXT,
    parent_id   INTEGER REFERENCES resource_groups (id),
    building    TEXT,
    floor       TEXT,
    room        TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER
);
CREATE INDEX resource_groups_parent ON resource_groups (parent_id);
CREATE INDEX resource_groups_building ON resource_groups (building);

ALTER TABLE resources ADD COLUMN group_id INTEGER REFERENCES resource_groups (id) ON DELETE SET NULL;
ALTER TABLE resources ADD COLUMN parent_id INTEGER REFERENCES resources (id) ON DELETE SET NULL;
CREATE INDEX resources_group ON resources (group_id);
CREATE INDEX resources_parent ON resources (parent_id);

-- The lock row of the hierarchy (see the PostgreSQL migration); writers are serialised on
-- SQLite, so here it only keeps the tables alike.
CREATE TABLE hierarchy_lock (
    id      INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
);
INSERT INTO hierarchy_lock (id, version) VALUES (1, 0);
