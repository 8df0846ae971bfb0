//! Renaming and deleting a tag across every resource. Matching is case-insensitive; each change is
//! announced to everyone (`tag_renamed`, `tag_deleted`) in its own transaction. The caller
//! refreshes the actors of the resources returned.

use chrono::{DateTime, Utc};

use crate::error::ApiError;
use crate::events::{EventWriter, NewEvent, commit_with};
use crate::params;
use crate::storage::Db;

async fn resources_with(tx: &mut Box<dyn crate::storage::Transaction>, tag: &str) -> Result<Vec<i64>, ApiError> {
    let rows = tx
        .query(
            "SELECT DISTINCT resource_id FROM resource_tags WHERE LOWER(tag) = $1 ORDER BY resource_id",
            params![tag.to_lowercase()],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| row.get("resource_id"))
        .collect::<Result<_, _>>()?)
}

/// Renames `old` to `new` on every resource; returns the resources changed.
pub async fn rename(
    db: &Db,
    writer: &EventWriter,
    old: &str,
    new: &str,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, ApiError> {
    let mut tx = db.begin().await?;
    let resources = resources_with(&mut tx, old).await?;
    if resources.is_empty() {
        return Err(ApiError::BadRequest(format!("Tag '{old}' does not exist")));
    }
    if old.to_lowercase() != new.to_lowercase() && !resources_with(&mut tx, new).await?.is_empty() {
        return Err(ApiError::BadRequest(format!("Tag '{new}' already exists")));
    }
    // The new tag takes the old one's place in each resource's order (older data may carry
    // several spellings of it: the first place wins).
    let places = tx
        .query(
            "SELECT resource_id, MIN(position) AS position FROM resource_tags WHERE LOWER(tag) = $1 \
             GROUP BY resource_id",
            params![old.to_lowercase()],
        )
        .await?;
    tx.execute(
        "DELETE FROM resource_tags WHERE LOWER(tag) = $1",
        params![old.to_lowercase()],
    )
    .await?;
    for place in &places {
        tx.execute(
            "INSERT INTO resource_tags (resource_id, tag, position) VALUES ($1, $2, $3)",
            params![place.get::<i64>("resource_id")?, new, place.get::<i64>("position")?],
        )
        .await?;
    }
    commit_with(tx, vec![NewEvent::tag_renamed(old, new, resources.len())], now, writer).await?;
    Ok(resources)
}

/// Removes `tag` from every resource; returns the resources changed.
pub async fn delete(db: &Db, writer: &EventWriter, tag: &str, now: DateTime<Utc>) -> Result<Vec<i64>, ApiError> {
    let mut tx = db.begin().await?;
    let resources = resources_with(&mut tx, tag).await?;
    if resources.is_empty() {
        return Err(ApiError::BadRequest(format!("Tag '{tag}' does not exist")));
    }
    tx.execute(
        "DELETE FROM resource_tags WHERE LOWER(tag) = $1",
        params![tag.to_lowercase()],
    )
    .await?;
    commit_with(tx, vec![NewEvent::tag_deleted(tag, resources.len())], now, writer).await?;
    Ok(resources)
}
