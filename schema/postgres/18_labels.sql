-- Labels ("equipment:projector") and which resources carry them.
CREATE TABLE labels (
    id          BIGSERIAL PRIMARY KEY,
    category    TEXT NOT NULL,
    value       TEXT NOT NULL,
    color       TEXT NOT NULL DEFAULT '#6366f1',
    description TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ,
    CONSTRAINT labels_category_value UNIQUE (category, value)
);
-- The label filter of searches matches category and value case-insensitively.
CREATE INDEX labels_category_value_lower ON labels (LOWER(category), LOWER(value));

CREATE TABLE resource_labels (
    resource_id BIGINT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    label_id    BIGINT NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (resource_id, label_id)
);
CREATE INDEX resource_labels_label ON resource_labels (label_id, resource_id);
