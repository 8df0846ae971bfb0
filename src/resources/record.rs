//! Reading a resource row (with its tags) into the actors' `ResourceInfo`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use reserver_actors::resource::{Maintenance, ResourceInfo};

use crate::events::{EventWriter, NewEvent};
use crate::params;
use crate::storage::{Db, Row, StorageError, Transaction, Value};
use crate::time_zone::zone_named;

/// The columns [`decode`] needs, for `SELECT … FROM resources r` (a macro so that queries can
/// `concat!` it into constant SQL).
#[macro_export]
macro_rules! resource_columns {
    () => {
        "r.id, r.name, r.description, r.available, r.status, r.unavailable_since, r.maintenance_until, \
         r.timezone, r.created_at, r.requires_approval, r.default_approver_id, r.checkin_window_minutes"
    };
}

/// Decodes a row selected with [`resource_columns!`]; `tags` come from `resource_tags`.
pub fn decode(row: &Row, tags: Vec<String>) -> Result<ResourceInfo, StorageError> {
    let status: String = row.get("status")?;
    let maintenance = (status == "unavailable").then(|| -> Result<Maintenance, StorageError> {
        Ok(Maintenance {
            since: row
                .get::<Option<DateTime<Utc>>>("unavailable_since")?
                .unwrap_or(DateTime::UNIX_EPOCH),
            until: row.get("maintenance_until")?,
        })
    });
    let timezone: String = row.get("timezone")?;
    Ok(ResourceInfo {
        id: row.get("id")?,
        name: row.get("name")?,
        description: row.get("description")?,
        tags,
        enabled: row.get("available")?,
        maintenance: maintenance.transpose()?,
        timezone: zone_named(&timezone),
        created_at: row.get("created_at")?,
        requires_approval: row.get("requires_approval")?,
        approver: row.get("default_approver_id")?,
        checkin_window: row
            .get::<Option<i64>>("checkin_window_minutes")?
            .map(chrono::Duration::minutes),
    })
}

const SELECT_ONE: &str = concat!("SELECT ", resource_columns!(), " FROM resources r WHERE r.id = $1");
/// Tags come back in the order they were given (`position`; rows older than that column tie
/// at 0 and keep the alphabetical order they used to have).
const SELECT_TAGS: &str = "SELECT tag FROM resource_tags WHERE resource_id = $1 ORDER BY position, tag";

fn tags_of(rows: Vec<Row>) -> Result<Vec<String>, StorageError> {
    rows.iter().map(|row| row.get("tag")).collect()
}

/// The tags of one resource, in order.
pub async fn tags(db: &Db, id: i64) -> Result<Vec<String>, StorageError> {
    tags_of(db.query(SELECT_TAGS, params![id]).await?)
}

/// The tags of several resources at once, each in order.
pub async fn tags_of_many(db: &Db, ids: &[i64]) -> Result<HashMap<i64, Vec<String>>, StorageError> {
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(tags);
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT resource_id, tag FROM resource_tags WHERE resource_id IN ({}) ORDER BY position, tag",
        placeholders.join(", ")
    );
    for row in db.query(&sql, ids.iter().map(|id| Value::Int(*id)).collect()).await? {
        tags.entry(row.get("resource_id")?).or_default().push(row.get("tag")?);
    }
    Ok(tags)
}

/// One resource, or `None`.
pub async fn fetch(db: &Db, id: i64) -> Result<Option<ResourceInfo>, StorageError> {
    let Some(row) = db.query_opt(SELECT_ONE, params![id]).await? else {
        return Ok(None);
    };
    decode(&row, tags(db, id).await?).map(Some)
}

/// One resource, read inside a transaction.
pub async fn fetch_in(tx: &mut Box<dyn Transaction>, id: i64) -> Result<Option<ResourceInfo>, StorageError> {
    let Some(row) = tx.query_opt(SELECT_ONE, params![id]).await? else {
        return Ok(None);
    };
    let tags = tags_of(tx.query(SELECT_TAGS, params![id]).await?)?;
    decode(&row, tags).map(Some)
}

/// Replaces the tags of a resource (trimmed, empty ones dropped, duplicates removed
/// case-insensitively), keeping their order.
pub async fn write_tags(tx: &mut Box<dyn Transaction>, id: i64, tags: &[String]) -> Result<(), StorageError> {
    tx.execute("DELETE FROM resource_tags WHERE resource_id = $1", params![id])
        .await?;
    let mut seen = std::collections::HashSet::new();
    let fresh = tags
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty() && seen.insert(t.to_lowercase()));
    for (position, tag) in fresh.enumerate() {
        tx.execute(
            "INSERT INTO resource_tags (resource_id, tag, position) VALUES ($1, $2, $3)",
            params![id, tag, position as i64],
        )
        .await?;
    }
    Ok(())
}

/// A resource to create.
#[derive(Debug, Clone)]
pub struct NewResource {
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub timezone: Tz,
    /// Bookings must be checked in within this many minutes of their start.
    pub checkin_window_minutes: Option<i64>,
}

/// Inserts a resource with its tags and its `resource_created` event (in one transaction) and
/// returns its id.
pub async fn insert(db: &Db, events: &EventWriter, new: &NewResource, now: DateTime<Utc>) -> Result<i64, StorageError> {
    let mut tx = db.begin().await?;
    let id = insert_in(&mut tx, events, new, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`insert`] inside a caller's transaction (bulk imports).
pub async fn insert_in(
    tx: &mut Box<dyn Transaction>,
    events: &EventWriter,
    new: &NewResource,
    now: DateTime<Utc>,
) -> Result<i64, StorageError> {
    let row = tx
        .query_opt(
            "INSERT INTO resources (name, description, available, timezone, checkin_window_minutes, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            params![
                new.name.as_str(),
                new.description.clone(),
                new.enabled,
                new.timezone.name(),
                new.checkin_window_minutes,
                now
            ],
        )
        .await?
        .ok_or_else(|| StorageError::Decode("INSERT returned no id".into()))?;
    let id: i64 = row.get("id")?;
    write_tags(tx, id, &new.tags).await?;
    let event = NewEvent::resource_created(
        id,
        &new.name,
        new.description.as_deref(),
        &new.tags,
        new.enabled,
        new.timezone.name(),
    );
    events.record_unattributed(tx, vec![event], now).await?;
    Ok(id)
}

/// How many resources there are (the health check's probe of the database).
pub async fn count(db: &Db) -> Result<i64, StorageError> {
    db.query_one("SELECT COUNT(*) AS n FROM resources", vec![])
        .await?
        .get("n")
}
