//! The waitlist as the API shows it (`WaitlistOut`) and its database reads. Every
//! change goes through the resource's actor; these are reads only.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::ApiError;
use crate::pagination::{Page, Paged, SortKey, SortKind};
use crate::params;
use crate::resource_columns;
use crate::resources::model::{ResourceOut, live_status};
use crate::resources::queries::CURRENT_USER_SQL;
use crate::resources::record;
use crate::storage::{Binder, Db, Row, StorageError};
use crate::wire::time::utc;

pub const SORT_KEYS: &[SortKey] = &[
    SortKey {
        name: "id",
        sql: "w.id",
        kind: SortKind::Int,
    },
    SortKey {
        name: "created_at",
        sql: "w.created_at",
        kind: SortKind::Time,
    },
    // Positions follow the order of joining.
    SortKey {
        name: "position",
        sql: "w.created_at",
        kind: SortKind::Time,
    },
    SortKey {
        name: "desired_start",
        sql: "w.desired_start",
        kind: SortKind::Time,
    },
];

/// The place of an active entry in its resource's queue (0 for closed entries).
const POSITION_SQL: &str = "CASE WHEN w.status IN ('waiting', 'offered') THEN (SELECT COUNT(*) FROM waitlist q \
     WHERE q.resource_id = w.resource_id AND q.status IN ('waiting', 'offered') \
     AND (q.created_at < w.created_at OR (q.created_at = w.created_at AND q.id <= w.id))) ELSE 0 END";

/// The columns of entry `w` for [`WaitlistOut::decode`].
macro_rules! entry_columns {
    () => {
        "w.id AS entry_id, w.resource_id AS entry_resource_id, w.user_id AS entry_user_id, w.desired_start, \
         w.desired_end, w.flexible_time, w.status AS entry_status, w.created_at AS entry_created_at, w.offered_at, \
         w.offer_expires_at, w.offered_reservation_id, o.start_time AS offered_start, o.end_time AS offered_end"
    };
}

const FROM_ENTRY: &str = "FROM waitlist w LEFT JOIN reservations o ON o.id = w.offered_reservation_id";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WaitlistOut {
    pub id: i64,
    pub resource_id: i64,
    /// `None` when shown to someone other than its owner (a queue is public, its people are not).
    #[schema(required)]
    pub user_id: Option<i64>,
    #[schema(format = DateTime)]
    pub desired_start: String,
    #[schema(format = DateTime)]
    pub desired_end: String,
    pub flexible_time: bool,
    pub status: String,
    pub position: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(required, format = DateTime)]
    pub offered_at: Option<String>,
    #[schema(required, format = DateTime)]
    pub offer_expires_at: Option<String>,
    /// The slot held for the offer (for a flexible entry, the part of its window that was free).
    #[schema(required, format = DateTime)]
    pub offered_start: Option<String>,
    #[schema(required, format = DateTime)]
    pub offered_end: Option<String>,
    #[schema(required)]
    pub offered_reservation_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceOut>,
}

impl WaitlistOut {
    fn decode(row: &Row) -> Result<WaitlistOut, StorageError> {
        let time = |name: &str| -> Result<Option<String>, StorageError> {
            Ok(row.get::<Option<DateTime<Utc>>>(name)?.map(utc))
        };
        Ok(WaitlistOut {
            id: row.get("entry_id")?,
            resource_id: row.get("entry_resource_id")?,
            user_id: Some(row.get("entry_user_id")?),
            desired_start: utc(row.get("desired_start")?),
            desired_end: utc(row.get("desired_end")?),
            flexible_time: row.get("flexible_time")?,
            status: row.get("entry_status")?,
            position: row.get("position")?,
            created_at: utc(row.get("entry_created_at")?),
            offered_at: time("offered_at")?,
            offer_expires_at: time("offer_expires_at")?,
            offered_start: time("offered_start")?,
            offered_end: time("offered_end")?,
            offered_reservation_id: row.get("offered_reservation_id")?,
            resource: None,
        })
    }
}

/// One entry, as its owner sees it, and its owner.
pub async fn one(db: &Db, id: i64, now: DateTime<Utc>) -> Result<Option<WaitlistOut>, ApiError> {
    let sql = format!(
        "SELECT {}, {POSITION_SQL} AS position, {}, {CURRENT_USER_SQL} AS current_user_name {FROM_ENTRY} \
         JOIN resources r ON r.id = w.resource_id WHERE w.id = $2",
        entry_columns!(),
        resource_columns!()
    );
    let Some(row) = db.query_opt(&sql, params![now, id]).await? else {
        return Ok(None);
    };
    Ok(Some(with_resource(db, &row, now).await?))
}

async fn with_resource(db: &Db, row: &Row, now: DateTime<Utc>) -> Result<WaitlistOut, StorageError> {
    let id: i64 = row.get("id")?;
    let info = record::decode(row, record::tags(db, id).await?)?;
    let in_use = row.get::<Option<String>>("current_user_name")?.is_some();
    let mut entry = WaitlistOut::decode(row)?;
    entry.resource = Some(ResourceOut::embedded(&info, live_status(&info, in_use, now)));
    Ok(entry)
}

/// A page of `user`'s entries (active ones, or all with `include_completed`), resource embedded.
pub async fn page_of_user(
    db: &Db,
    user: i64,
    include_completed: bool,
    page: &Page,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, ApiError> {
    let status_filter = if include_completed {
        ""
    } else {
        " AND w.status IN ('waiting', 'offered')"
    };
    let total = db
        .query_one(
            &format!("SELECT COUNT(*) AS n FROM waitlist w WHERE w.user_id = $1{status_filter}"),
            params![user],
        )
        .await?
        .get::<i64>("n")?;
    let mut binder = Binder::new();
    binder.bind(now); // $1, used by the current-user expression
    let user = binder.bind(user);
    let keyset = page.condition("w.id", &mut binder);
    let limit = binder.bind(page.fetch_limit());
    let sql = format!(
        "SELECT {entry}, {POSITION_SQL} AS position, {resource}, {CURRENT_USER_SQL} AS current_user_name, \
         {sort} AS sort_value {FROM_ENTRY} JOIN resources r ON r.id = w.resource_id \
         WHERE w.user_id = {user}{status_filter} AND {keyset} ORDER BY {order} LIMIT {limit}",
        entry = entry_columns!(),
        resource = resource_columns!(),
        sort = page.key.sql,
        order = page.order_by("w.id"),
    );
    let rows = db.query(&sql, binder.into_values()).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let item = with_resource(db, row, now).await?;
        items.push(Paged {
            sort_value: page.sort_value(row)?,
            id: item.id,
            item,
        });
    }
    // The wire format always fills `total_count` for the waitlist.
    Ok(page.envelope(items, Some(total)))
}

/// The active queue of a resource, in order; other people's entries without their user id
/// unless `see_everyone`.
pub async fn queue(db: &Db, resource: i64, viewer: i64, see_everyone: bool) -> Result<Vec<WaitlistOut>, ApiError> {
    let sql = format!(
        "SELECT {}, {POSITION_SQL} AS position {FROM_ENTRY} WHERE w.resource_id = $1 \
         AND w.status IN ('waiting', 'offered') ORDER BY w.created_at, w.id",
        entry_columns!()
    );
    let mut entries = Vec::new();
    for row in db.query(&sql, params![resource]).await? {
        let mut entry = WaitlistOut::decode(&row)?;
        if !see_everyone && entry.user_id != Some(viewer) {
            entry.user_id = None;
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// Owner, resource and status of an entry.
pub async fn record(db: &Db, id: i64) -> Result<Option<(i64, i64, String)>, StorageError> {
    let row = db
        .query_opt(
            "SELECT user_id, resource_id, status FROM waitlist WHERE id = $1",
            params![id],
        )
        .await?;
    row.map(|row| Ok((row.get("user_id")?, row.get("resource_id")?, row.get("status")?)))
        .transpose()
}
