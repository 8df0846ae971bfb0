-- SQLite twin of the PostgreSQL migration: labels and which resources carry them.
CREATE TABLE labels (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    category    TEXT NOT NULL,
    value       TEXT NOT NULL,
    color       TEXT NOT NULL DEFAULT '#6366f1',
    description TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER,
    CONSTRAINT labels_category_value UNIQUE (category, value)
);
-- Built with the server's Unicode-aware lower() (see migration 15).
CREATE INDEX labels_category_value_lower ON labels (LOWER(category), LOWER(value));

CREATE TABLE resource_labels (
    resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    label_id    INTEGER NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (resource_id, label_id)
);
CREATE INDEX resource_labels_label ON resource_labels (label_id, resource_id);
