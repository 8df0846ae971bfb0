//! Reads of reservations from the database: a user's list, one reservation, its history, and
//! the same rows as calendars show them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use reserver_actors::resource::{ReservationStatus, ResourceInfo};

use super::model::{ReservationOut, utc};
use crate::error::ApiError;
use crate::http::pagination::{Page, Paged, SortKey, SortKind};
use crate::params;
use crate::resource_columns;
use crate::resources::model::ResourceOut;
use crate::resources::queries::CURRENT_USER_SQL;
use crate::resources::record;
use crate::storage::{Binder, Db, Row, StorageError};
use crate::time_zone::OutputZone;

pub const SORT_KEYS: &[SortKey] = &[
    SortKey {
        name: "id",
        sql: "b.id",
        kind: SortKind::Int,
    },
    SortKey {
        name: "start_time",
        sql: "b.start_time",
        kind: SortKind::Time,
    },
    SortKey {
        name: "end_time",
        sql: "b.end_time",
        kind: SortKind::Time,
    },
    SortKey {
        name: "created_at",
        sql: "b.created_at",
        kind: SortKind::Time,
    },
];

/// Columns of reservation `b` and its resource `r`, for [`decode`] (with [`FROM_JOINED`]).
macro_rules! reservation_columns {
    () => {
        concat!(
            "b.id AS reservation_id, b.user_id, b.start_time, b.end_time, b.status AS reservation_status, ",
            "b.created_at AS reservation_created_at, b.cancelled_at, b.cancellation_reason, b.recurrence_rule_id, ",
            "b.parent_reservation_id, b.is_recurring_instance, ",
            resource_columns!()
        )
    };
}

const FROM_JOINED: &str = "FROM reservations b JOIN resources r ON r.id = b.resource_id";

/// The essentials of a stored reservation, for authorisation and state checks.
#[derive(Debug, Clone)]
pub struct ReservationRecord {
    pub id: i64,
    pub user_id: i64,
    pub resource_id: i64,
    pub status: ReservationStatus,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
}

pub async fn record(db: &Db, id: i64) -> Result<Option<ReservationRecord>, StorageError> {
    let Some(row) = db
        .query_opt(
            "SELECT id, user_id, resource_id, status, start_time, end_time FROM reservations WHERE id = $1",
            params![id],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(ReservationRecord {
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        resource_id: row.get("resource_id")?,
        status: super::status(&row, "status")?,
        start_time: row.get("start_time")?,
        end_time: row.get("end_time")?,
    }))
}

async fn tags_by_resource(db: &Db, rows: &[Row]) -> Result<HashMap<i64, Vec<String>>, StorageError> {
    let mut ids: Vec<i64> = rows.iter().map(|r| r.get("id")).collect::<Result<_, _>>()?;
    ids.sort_unstable();
    ids.dedup();
    crate::resources::record::tags_of_many(db, &ids).await
}

fn decode(
    row: &Row,
    tags: &HashMap<i64, Vec<String>>,
    now: DateTime<Utc>,
    zone: OutputZone,
) -> Result<ReservationOut, StorageError> {
    let resource_id: i64 = row.get("id")?;
    let info = record::decode(row, tags.get(&resource_id).cloned().unwrap_or_default())?;
    let in_use = row.get::<Option<String>>("current_user_name")?.is_some();
    let resource = ResourceOut::embedded(&info, crate::resources::model::live_status(&info, in_use, now));
    let time = |name: &str| -> Result<String, StorageError> { Ok(zone.format(row.get(name)?)) };
    Ok(ReservationOut {
        id: row.get("reservation_id")?,
        user_id: row.get("user_id")?,
        resource_id,
        resource,
        start_time: time("start_time")?,
        end_time: time("end_time")?,
        status: super::status(row, "reservation_status")?,
        created_at: time("reservation_created_at")?,
        cancelled_at: row
            .get::<Option<DateTime<Utc>>>("cancelled_at")?
            .map(|t| zone.format(t)),
        cancellation_reason: row.get("cancellation_reason")?,
        recurrence_rule_id: row.get("recurrence_rule_id")?,
        parent_reservation_id: row.get("parent_reservation_id")?,
        is_recurring_instance: row.get("is_recurring_instance")?,
    })
}

/// Which of a user's reservations to list.
#[derive(Debug, Clone, Copy)]
pub struct MyFilter {
    /// Every status, not only active ones.
    pub include_cancelled: bool,
    /// Only those that have not ended.
    pub upcoming: bool,
}

impl MyFilter {
    fn clause(&self, binder: &mut Binder, user: i64, now: DateTime<Utc>) -> String {
        let mut conditions = vec![format!("b.user_id = {}", binder.bind(user))];
        if !self.include_cancelled {
            conditions.push("b.status = 'active'".into());
        }
        if self.upcoming {
            conditions.push(format!("b.end_time > {}", binder.bind(now)));
        }
        conditions.join(" AND ")
    }
}

/// One page of `user`'s reservations.
pub async fn page_of_user(
    db: &Db,
    user: i64,
    filter: MyFilter,
    page: &Page,
    now: DateTime<Utc>,
    zone: OutputZone,
) -> Result<serde_json::Value, ApiError> {
    let total = if page.include_total {
        let mut binder = Binder::new();
        let sql = format!(
            "SELECT COUNT(*) AS n FROM reservations b WHERE {}",
            filter.clause(&mut binder, user, now)
        );
        Some(db.query_one(&sql, binder.into_values()).await?.get::<i64>("n")?)
    } else {
        None
    };
    let mut binder = Binder::new();
    binder.bind(now); // $1, used by the current-user expression
    let filter_sql = filter.clause(&mut binder, user, now);
    let keyset = page.condition("b.id", &mut binder);
    let limit = binder.bind(page.fetch_limit());
    let sql = format!(
        "SELECT {columns}, {CURRENT_USER_SQL} AS current_user_name, {sort} AS sort_value {FROM_JOINED}
         WHERE {filter_sql} AND {keyset} ORDER BY {order} LIMIT {limit}",
        columns = reservation_columns!(),
        sort = page.key.sql,
        order = page.order_by("b.id"),
    );
    let rows = db.query(&sql, binder.into_values()).await?;
    let tags = tags_by_resource(db, &rows).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let item = decode(row, &tags, now, zone)?;
        items.push(Paged {
            sort_value: page.sort_value(row)?,
            id: item.id,
            item,
        });
    }
    Ok(page.envelope(items, total))
}

/// One reservation as the API shows it.
pub async fn one(
    db: &Db,
    id: i64,
    now: DateTime<Utc>,
    zone: OutputZone,
) -> Result<Option<ReservationOut>, StorageError> {
    let sql = format!(
        "SELECT {}, {CURRENT_USER_SQL} AS current_user_name {FROM_JOINED} WHERE b.id = $2",
        reservation_columns!()
    );
    let rows = db.query(&sql, params![now, id]).await?;
    let tags = tags_by_resource(db, &rows).await?;
    rows.first().map(|row| decode(row, &tags, now, zone)).transpose()
}

/// A reservation as a calendar shows it: times as instants, its resource, its owner's name.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub id: i64,
    pub user_id: i64,
    pub owner: String,
    pub status: ReservationStatus,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub resource: ResourceInfo,
}

/// Reservations (with their resource and owner) matching `filter`, which binds its values with
/// `binder`; ordered by start.
async fn scheduled(db: &Db, filter: &str, binder: Binder) -> Result<Vec<Scheduled>, StorageError> {
    let sql = format!(
        "SELECT {}, u.username AS owner {FROM_JOINED} JOIN users u ON u.id = b.user_id
         WHERE {filter} ORDER BY b.start_time, b.id",
        reservation_columns!()
    );
    let rows = db.query(&sql, binder.into_values()).await?;
    let tags = tags_by_resource(db, &rows).await?;
    rows.iter()
        .map(|row| {
            let resource_id: i64 = row.get("id")?;
            Ok(Scheduled {
                id: row.get("reservation_id")?,
                user_id: row.get("user_id")?,
                owner: row.get("owner")?,
                status: super::status(row, "reservation_status")?,
                start_time: row.get("start_time")?,
                end_time: row.get("end_time")?,
                created_at: row.get("reservation_created_at")?,
                resource: record::decode(row, tags.get(&resource_id).cloned().unwrap_or_default())?,
            })
        })
        .collect()
}

/// One reservation, for a calendar.
pub async fn scheduled_one(db: &Db, id: i64) -> Result<Option<Scheduled>, StorageError> {
    let mut binder = Binder::new();
    let filter = format!("b.id = {}", binder.bind(id));
    Ok(scheduled(db, &filter, binder).await?.into_iter().next())
}

/// `user`'s reservations in one of `statuses` that start within `[from, to]`, for a calendar.
pub async fn scheduled_of_user(
    db: &Db,
    user: i64,
    statuses: &[ReservationStatus],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Scheduled>, StorageError> {
    let mut binder = Binder::new();
    let owner = binder.bind(user);
    let statuses: Vec<String> = statuses.iter().map(|status| binder.bind(status.as_str())).collect();
    let (from, to) = (binder.bind(from), binder.bind(to));
    let filter = format!(
        "b.user_id = {owner} AND b.status IN ({}) AND b.start_time >= {from} AND b.start_time <= {to}",
        statuses.join(", ")
    );
    scheduled(db, &filter, binder).await
}

/// The history of a reservation, newest first.
pub async fn history(db: &Db, reservation: i64) -> Result<Vec<serde_json::Value>, StorageError> {
    let rows = db
        .query(
            "SELECT id, action, created_at, user_id, reservation_id, details FROM reservation_history
             WHERE reservation_id = $1 ORDER BY created_at DESC, id DESC",
            params![reservation],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(serde_json::json!({
                "id": row.get::<i64>("id")?,
                "action": row.get::<String>("action")?,
                "timestamp": utc(row.get("created_at")?),
                "user_id": row.get::<Option<i64>>("user_id")?,
                "reservation_id": row.get::<i64>("reservation_id")?,
                "details": row.get::<Option<String>>("details")?,
            }))
        })
        .collect()
}

/// Resources that have active reservations which have ended by `now`.
pub async fn resources_with_ended_bookings(db: &Db, now: DateTime<Utc>) -> Result<Vec<i64>, StorageError> {
    let rows = db
        .query(
            "SELECT DISTINCT resource_id FROM reservations WHERE status = 'active' AND end_time <= $1 ORDER BY resource_id",
            params![now],
        )
        .await?;
    rows.iter().map(|row| row.get("resource_id")).collect()
}
