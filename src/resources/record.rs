//! Reading a resource row (with its tags) into the actors' `ResourceInfo`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use reserver_actors::resource::{Maintenance, ResourceInfo};

use crate::events::{NewEvent, outbox};
use crate::params;
use crate::storage::{Db, Row, StorageError, Transaction};

/// The columns [`decode`] needs, for `SELECT … FROM resources r` (a macro so that queries can
/// `concat!` it into constant SQL).
#[macro_export]
macro_rules! resource_columns {
    () => {
        "r.id, r.name, r.description, r.available, r.status, r.unavailable_since, r.maintenance_until, \
         r.timezone, r.created_at"
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
        timezone: timezone.parse::<Tz>().unwrap_or(Tz::UTC),
        created_at: row.get("created_at")?,
    })
}

const SELECT_ONE: &str = concat!("SELECT ", resource_columns!(), " FROM resources r WHERE r.id = $1");
const SELECT_TAGS: &str = "SELECT tag FROM resource_tags WHERE resource_id = $1 ORDER BY tag";

fn tags_of(rows: Vec<Row>) -> Result<Vec<String>, StorageError> {
    rows.iter().map(|row| row.get("tag")).collect()
}

/// One resource, or `None`.
pub async fn fetch(db: &Db, id: i64) -> Result<Option<ResourceInfo>, StorageError> {
    let Some(row) = db.query_opt(SELECT_ONE, params![id]).await? else {
        return Ok(None);
    };
    let tags = tags_of(db.query(SELECT_TAGS, params![id]).await?)?;
    decode(&row, tags).map(Some)
}

/// One resource, read inside a transaction.
pub async fn fetch_in(tx: &mut Box<dyn Transaction>, id: i64) -> Result<Option<ResourceInfo>, StorageError> {
    let Some(row) = tx.query_opt(SELECT_ONE, params![id]).await? else {
        return Ok(None);
    };
    let tags = tags_of(tx.query(SELECT_TAGS, params![id]).await?)?;
    decode(&row, tags).map(Some)
}

/// Replaces the tags of a resource (trimmed, empty ones dropped, duplicates removed).
pub async fn write_tags(tx: &mut Box<dyn Transaction>, id: i64, tags: &[String]) -> Result<(), StorageError> {
    tx.execute("DELETE FROM resource_tags WHERE resource_id = $1", params![id])
        .await?;
    let mut seen = std::collections::BTreeSet::new();
    for tag in tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if seen.insert(tag.to_owned()) {
            tx.execute(
                "INSERT INTO resource_tags (resource_id, tag) VALUES ($1, $2)",
                params![id, tag],
            )
            .await?;
        }
    }
    Ok(())
}

/// Inserts a resource with its tags and its `resource_created` event (in one transaction) and
/// returns its id.
pub async fn insert(
    db: &Db,
    name: &str,
    description: Option<&str>,
    tags: &[String],
    enabled: bool,
    timezone: Tz,
    now: DateTime<Utc>,
) -> Result<i64, StorageError> {
    let mut tx = db.begin().await?;
    let id = insert_in(&mut tx, name, description, tags, enabled, timezone, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`insert`] inside a caller's transaction (bulk imports).
pub async fn insert_in(
    tx: &mut Box<dyn Transaction>,
    name: &str,
    description: Option<&str>,
    tags: &[String],
    enabled: bool,
    timezone: Tz,
    now: DateTime<Utc>,
) -> Result<i64, StorageError> {
    let row = tx
        .query_opt(
            "INSERT INTO resources (name, description, available, timezone, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            params![name, description, enabled, timezone.name(), now],
        )
        .await?
        .ok_or_else(|| StorageError::Decode("INSERT returned no id".into()))?;
    let id: i64 = row.get("id")?;
    write_tags(tx, id, tags).await?;
    let event = NewEvent::resource_created(id, name, description, tags, enabled, timezone.name());
    outbox::append(tx, event, now).await?;
    Ok(id)
}
