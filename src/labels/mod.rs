//! Labels (`/api/v1/labels`): a category and a value ("equipment:projector") with a colour,
//! put on resources.
//!
//! Guarantees:
//! - A category and a value are unique together (case-sensitively, as the original; the label
//!   filter of searches matches them case-insensitively, Unicode-correctly on both backends).
//! - A merge is one transaction: every assignment of the sources moves to the target and the
//!   sources go, or nothing changes at all.
//! - Replacing a resource's labels is one transaction; unknown label ids change nothing.
//! - Lists sort only by a fixed set of keys ([`SORT_KEYS`]); their cursors are keyset cursors of
//!   that key (the original's id cursor was wrong for every other sort).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::ApiError;
use crate::pagination::{Page, Paged, SortKey, SortKind};
use crate::params;
use crate::storage::{Binder, Db, Row, StorageError, Transaction, Value};
use crate::wire::time::utc;

/// The colour of a label created without one.
pub const DEFAULT_COLOR: &str = "#6366f1";

/// Why a label operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("Label not found")]
    NotFound,
    #[error("Label '{0}:{1}' already exists")]
    Duplicate(String, String),
    #[error("Target label cannot be in source labels list")]
    TargetInSources,
    #[error("Target label not found")]
    TargetNotFound,
    #[error("One or more source labels not found")]
    SourceNotFound,
    #[error("All labels must be in the same category to merge")]
    MixedCategories,
    #[error("Resource not found")]
    ResourceNotFound,
    #[error("One or more label IDs are invalid")]
    InvalidIds,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<LabelError> for ApiError {
    fn from(error: LabelError) -> ApiError {
        match error {
            LabelError::NotFound
            | LabelError::TargetNotFound
            | LabelError::SourceNotFound
            | LabelError::ResourceNotFound => ApiError::NotFound(error.to_string()),
            LabelError::Duplicate(..) => ApiError::Conflict(error.to_string()),
            LabelError::TargetInSources | LabelError::MixedCategories | LabelError::InvalidIds => {
                ApiError::BadRequest(error.to_string())
            }
            LabelError::Storage(storage) => storage.into(),
        }
    }
}

/// `LabelOut` of the wire format.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LabelOut {
    pub id: i64,
    pub category: String,
    pub value: String,
    pub color: String,
    #[schema(required)]
    pub description: Option<String>,
    pub full_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(required, format = DateTime)]
    pub updated_at: Option<String>,
    pub resource_count: i64,
}

/// A label as a resource's answer shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct LabelRef {
    pub id: i64,
    pub category: String,
    pub value: String,
    pub color: String,
    pub full_name: String,
}

const COUNT_SQL: &str = "(SELECT COUNT(*) FROM resource_labels rl WHERE rl.label_id = l.id)";

/// The keys `sort_by` accepts.
pub const SORT_KEYS: &[SortKey] = &[
    SortKey {
        name: "category",
        sql: "LOWER(l.category)",
        kind: SortKind::Text,
    },
    SortKey {
        name: "value",
        sql: "LOWER(l.value)",
        kind: SortKind::Text,
    },
    SortKey {
        name: "id",
        sql: "l.id",
        kind: SortKind::Int,
    },
    SortKey {
        name: "created_at",
        sql: "l.created_at",
        kind: SortKind::Time,
    },
    SortKey {
        name: "resource_count",
        sql: COUNT_SQL,
        kind: SortKind::Int,
    },
];

fn select() -> String {
    format!(
        "SELECT l.id, l.category, l.value, l.color, l.description, l.created_at, l.updated_at, {COUNT_SQL} AS resource_count \
         FROM labels l"
    )
}

fn decode(row: &Row) -> Result<LabelOut, StorageError> {
    let (category, value): (String, String) = (row.get("category")?, row.get("value")?);
    Ok(LabelOut {
        id: row.get("id")?,
        full_name: format!("{category}:{value}"),
        category,
        value,
        color: row.get("color")?,
        description: row.get("description")?,
        created_at: utc(row.get("created_at")?),
        updated_at: row.get::<Option<DateTime<Utc>>>("updated_at")?.map(utc),
        resource_count: row.get("resource_count")?,
    })
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// One page of labels, optionally of one category and matching `search` (a case-insensitive
/// substring of the category, value or description, wildcards taken literally); `total_count`
/// is always filled, as the original did.
pub async fn page(
    db: &Db,
    category: Option<&str>,
    search: Option<&str>,
    page: &Page,
) -> Result<serde_json::Value, ApiError> {
    let filter = |binder: &mut Binder| {
        let mut conditions = vec!["1 = 1".to_owned()];
        if let Some(category) = category {
            conditions.push(format!("l.category = {}", binder.bind(category)));
        }
        if let Some(search) = search {
            let pattern = binder.bind(format!("%{}%", escape_like(&search.to_lowercase())));
            conditions.push(format!(
                "(LOWER(l.category) LIKE {pattern} ESCAPE '\\' OR LOWER(l.value) LIKE {pattern} ESCAPE '\\' \
                 OR LOWER(COALESCE(l.description, '')) LIKE {pattern} ESCAPE '\\')"
            ));
        }
        conditions.join(" AND ")
    };
    let mut binder = Binder::new();
    let sql = format!("SELECT COUNT(*) AS n FROM labels l WHERE {}", filter(&mut binder));
    let total: i64 = db.query_one(&sql, binder.into_values()).await?.get("n")?;
    let mut binder = Binder::new();
    let condition = filter(&mut binder);
    let keyset = page.condition("l.id", &mut binder);
    let limit = binder.bind(page.fetch_limit());
    let sql = format!(
        "SELECT l.id, l.category, l.value, l.color, l.description, l.created_at, l.updated_at, \
         {COUNT_SQL} AS resource_count, {sort} AS sort_value FROM labels l \
         WHERE {condition} AND {keyset} ORDER BY {order} LIMIT {limit}",
        sort = page.key.sql,
        order = page.order_by("l.id"),
    );
    let rows = db.query(&sql, binder.into_values()).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let item = decode(row)?;
        items.push(Paged {
            id: item.id,
            sort_value: page.sort_value(row)?,
            item,
        });
    }
    Ok(page.envelope(items, Some(total)))
}

/// A label to create or the new fields of one (validated by the route).
#[derive(Debug, Clone)]
pub struct LabelFields {
    pub category: String,
    pub value: String,
    pub color: String,
    pub description: Option<String>,
}

/// A partial change: `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct LabelPatch {
    pub category: Option<String>,
    pub value: Option<String>,
    pub color: Option<String>,
    pub description: Option<Option<String>>,
}

fn duplicate(error: StorageError, category: &str, value: &str) -> LabelError {
    if matches!(error, StorageError::UniqueViolation { .. }) {
        LabelError::Duplicate(category.to_owned(), value.to_owned())
    } else {
        error.into()
    }
}

/// One label, or `None`.
pub async fn get(db: &Db, id: i64) -> Result<Option<LabelOut>, StorageError> {
    let sql = format!("{} WHERE l.id = $1", select());
    db.query_opt(&sql, params![id]).await?.as_ref().map(decode).transpose()
}

async fn get_in(tx: &mut Box<dyn Transaction>, id: i64) -> Result<Option<LabelOut>, StorageError> {
    let sql = format!("{} WHERE l.id = $1", select());
    tx.query_opt(&sql, params![id]).await?.as_ref().map(decode).transpose()
}

pub async fn create(db: &Db, new: LabelFields, now: DateTime<Utc>) -> Result<LabelOut, LabelError> {
    let rows = db
        .query_write(
            "INSERT INTO labels (category, value, color, description, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            params![new.category.as_str(), new.value.as_str(), new.color.as_str(), new.description.clone(), now],
        )
        .await
        .map_err(|error| duplicate(error, &new.category, &new.value))?;
    let id: i64 = rows
        .first()
        .ok_or_else(|| StorageError::Decode("INSERT returned no id".into()))?
        .get("id")?;
    get(db, id).await?.ok_or(LabelError::NotFound)
}

/// `GET /categories`: each category with its number of labels, by category.
pub async fn categories(db: &Db) -> Result<Vec<serde_json::Value>, StorageError> {
    let rows = db
        .query(
            "SELECT category, COUNT(*) AS n FROM labels GROUP BY category ORDER BY category",
            vec![],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(serde_json::json!({
                "category": row.get::<String>("category")?,
                "label_count": row.get::<i64>("n")?,
            }))
        })
        .collect()
}

pub async fn update(db: &Db, id: i64, patch: LabelPatch, now: DateTime<Utc>) -> Result<LabelOut, LabelError> {
    let mut tx = db.begin().await?;
    let mut label = get_in(&mut tx, id).await?.ok_or(LabelError::NotFound)?;
    if let Some(category) = patch.category {
        label.category = category;
    }
    if let Some(value) = patch.value {
        label.value = value;
    }
    if let Some(color) = patch.color {
        label.color = color;
    }
    if let Some(description) = patch.description {
        label.description = description;
    }
    tx.execute(
        "UPDATE labels SET category = $1, value = $2, color = $3, description = $4, updated_at = $5 WHERE id = $6",
        params![
            label.category.as_str(),
            label.value.as_str(),
            label.color.as_str(),
            label.description.clone(),
            now,
            id
        ],
    )
    .await
    .map_err(|error| duplicate(error, &label.category, &label.value))?;
    let label = get_in(&mut tx, id).await?.ok_or(LabelError::NotFound)?;
    tx.commit().await?;
    Ok(label)
}

/// Deletes a label (and its assignments); answers its full name.
pub async fn delete(db: &Db, id: i64) -> Result<String, LabelError> {
    let mut tx = db.begin().await?;
    let label = get_in(&mut tx, id).await?.ok_or(LabelError::NotFound)?;
    tx.execute("DELETE FROM resource_labels WHERE label_id = $1", params![id])
        .await?;
    tx.execute("DELETE FROM labels WHERE id = $1", params![id]).await?;
    tx.commit().await?;
    Ok(label.full_name)
}

fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Moves every assignment of `sources` to `target` and deletes the sources, in one
/// transaction (see the module's guarantees). Answers the target with its new count.
pub async fn merge(db: &Db, sources: &BTreeSet<i64>, target: i64, now: DateTime<Utc>) -> Result<LabelOut, LabelError> {
    if sources.contains(&target) {
        return Err(LabelError::TargetInSources);
    }
    let mut tx = db.begin().await?;
    let target_label = get_in(&mut tx, target).await?.ok_or(LabelError::TargetNotFound)?;
    let ids: Vec<Value> = sources.iter().map(|id| Value::Int(*id)).collect();
    let sql = format!(
        "SELECT id, category FROM labels WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    let found = tx.query(&sql, ids.clone()).await?;
    if found.len() != sources.len() {
        return Err(LabelError::SourceNotFound);
    }
    for row in &found {
        if row.get::<String>("category")? != target_label.category {
            return Err(LabelError::MixedCategories);
        }
    }
    let mut values = vec![Value::Int(target)];
    values.extend(ids.iter().cloned());
    let sql = format!(
        "SELECT DISTINCT s.resource_id FROM resource_labels s
         WHERE s.label_id IN ({}) AND NOT EXISTS
             (SELECT 1 FROM resource_labels t WHERE t.resource_id = s.resource_id AND t.label_id = $1)",
        placeholders(2, ids.len())
    );
    let moving = tx.query(&sql, values).await?;
    for row in &moving {
        let resource: i64 = row.get("resource_id")?;
        tx.execute(
            "INSERT INTO resource_labels (resource_id, label_id, created_at) VALUES ($1, $2, $3)",
            params![resource, target, now],
        )
        .await?;
    }
    let sql = format!(
        "DELETE FROM resource_labels WHERE label_id IN ({})",
        placeholders(1, ids.len())
    );
    tx.execute(&sql, ids.clone()).await?;
    let sql = format!("DELETE FROM labels WHERE id IN ({})", placeholders(1, ids.len()));
    tx.execute(&sql, ids).await?;
    let merged = get_in(&mut tx, target).await?.ok_or(LabelError::TargetNotFound)?;
    tx.commit().await?;
    Ok(merged)
}

async fn resource_exists(db: &Db, id: i64) -> Result<bool, StorageError> {
    Ok(db
        .query_opt("SELECT id FROM resources WHERE id = $1", params![id])
        .await?
        .is_some())
}

/// The labels of a resource, by category and value.
pub async fn of_resource(db: &Db, resource: i64) -> Result<Vec<LabelOut>, LabelError> {
    if !resource_exists(db, resource).await? {
        return Err(LabelError::ResourceNotFound);
    }
    let sql = format!(
        "{} JOIN resource_labels a ON a.label_id = l.id WHERE a.resource_id = $1 ORDER BY l.category, l.value, l.id",
        select()
    );
    Ok(db
        .query(&sql, params![resource])
        .await?
        .iter()
        .map(decode)
        .collect::<Result<_, _>>()?)
}

/// Replaces the labels of a resource with `labels` (one transaction).
pub async fn replace(
    db: &Db,
    resource: i64,
    labels: &BTreeSet<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<LabelOut>, LabelError> {
    let mut tx = db.begin().await?;
    if tx
        .query_opt("SELECT id FROM resources WHERE id = $1", params![resource])
        .await?
        .is_none()
    {
        return Err(LabelError::ResourceNotFound);
    }
    if !labels.is_empty() {
        let ids: Vec<Value> = labels.iter().map(|id| Value::Int(*id)).collect();
        let sql = format!(
            "SELECT COUNT(*) AS n FROM labels WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let found: i64 = tx
            .query_opt(&sql, ids)
            .await?
            .map(|row| row.get("n"))
            .transpose()?
            .unwrap_or(0);
        if found != labels.len() as i64 {
            return Err(LabelError::InvalidIds);
        }
    }
    tx.execute("DELETE FROM resource_labels WHERE resource_id = $1", params![resource])
        .await?;
    for label in labels {
        tx.execute(
            "INSERT INTO resource_labels (resource_id, label_id, created_at) VALUES ($1, $2, $3)",
            params![resource, *label, now],
        )
        .await?;
    }
    tx.commit().await?;
    of_resource(db, resource).await
}

/// The labels of several resources at once (for resource answers), each by category and value.
pub async fn refs_of_many(db: &Db, resources: &[i64]) -> Result<HashMap<i64, Vec<LabelRef>>, StorageError> {
    let mut labels: HashMap<i64, Vec<LabelRef>> = HashMap::new();
    if resources.is_empty() {
        return Ok(labels);
    }
    let sql = format!(
        "SELECT a.resource_id, l.id, l.category, l.value, l.color FROM resource_labels a JOIN labels l ON l.id = a.label_id
         WHERE a.resource_id IN ({}) ORDER BY l.category, l.value, l.id",
        placeholders(1, resources.len())
    );
    let rows = db
        .query(&sql, resources.iter().map(|id| Value::Int(*id)).collect())
        .await?;
    for row in &rows {
        let (category, value): (String, String) = (row.get("category")?, row.get("value")?);
        labels.entry(row.get("resource_id")?).or_default().push(LabelRef {
            id: row.get("id")?,
            full_name: format!("{category}:{value}"),
            category,
            value,
            color: row.get("color")?,
        });
    }
    Ok(labels)
}

/// `category:value` as the label filter takes it: split at the first `:`, both sides trimmed
/// and non-empty.
pub fn parse_filter(raw: &str) -> Option<(String, String)> {
    let (category, value) = raw.split_once(':')?;
    let (category, value) = (category.trim(), value.trim());
    (!category.is_empty() && !value.is_empty()).then(|| (category.to_owned(), value.to_owned()))
}

/// Most labels one search may require.
pub const MAX_LABEL_FILTERS: usize = 20;

/// The `label` query parameter, repeatable (`label=a:b&label=c:d`).
pub type LabelFilterList = crate::wire::bounded::Bounded<String, MAX_LABEL_FILTERS>;

/// The label filters of a query (each `category:value`; a malformed one is a 422).
pub fn parse_filters(raw: Option<LabelFilterList>) -> Result<Vec<(String, String)>, ApiError> {
    raw.map(|list| list.into_inner())
        .unwrap_or_default()
        .into_iter()
        .map(|text| {
            parse_filter(&text)
                .ok_or_else(|| ApiError::invalid(&["query", "label"], "a label filter is category:value", text))
        })
        .collect()
}

/// A predicate on `r.id`: the resource carries every one of `wanted` (`category:value`,
/// case-insensitively). One semi-join per distinct pair (at most [`MAX_LABEL_FILTERS`]), each
/// the assignments of the few labels of that pair, read from `resource_labels_label`: the
/// planner hashes the smaller sets and probes with the others, so over 10,000 resources two
/// labels cost a few milliseconds, about a third of grouping every matching assignment and
/// counting pairs per resource (issue 14). A pair may name several labels (`Equipment:Projector`
/// and `equipment:projector` are two labels): any of them counts.
pub fn every_label_sql(wanted: &[(String, String)], binder: &mut Binder) -> String {
    let mut distinct = BTreeSet::new();
    let mut semi_joins = Vec::with_capacity(wanted.len());
    for (category, value) in wanted {
        let (category, value) = (category.to_lowercase(), value.to_lowercase());
        if distinct.insert((category.clone(), value.clone())) {
            let (c, v) = (binder.bind(category), binder.bind(value));
            semi_joins.push(format!(
                "r.id IN (SELECT a.resource_id FROM resource_labels a JOIN labels l ON l.id = a.label_id \
                 WHERE LOWER(l.category) = {c} AND LOWER(l.value) = {v})"
            ));
        }
    }
    format!("({})", semi_joins.join(" AND "))
}
