//! `GET /api/v1/bulk/reservations/export`: reservations as CSV, of what the caller may read.
//!
//! Invariant: a caller without `reservation:read_any` gets only their own reservations (asking
//! for another user's is a 403); the text cells are neutralised against formula injection by the
//! one CSV writer ([`crate::http::csv`]).

use chrono::{DateTime, Utc};
use reserver_actors::resource::ReservationStatus;

use crate::error::ApiError;
use crate::http::csv::{Cell, CsvWriter};
use crate::reservations::status;
use crate::storage::{Binder, Db};

/// The most rows one export holds; narrow the filters for more.
pub const MAX_ROWS: i64 = 50_000;

pub const COLUMNS: [&str; 9] = [
    "reservation_id",
    "resource_id",
    "resource_name",
    "user_id",
    "username",
    "start_time",
    "end_time",
    "status",
    "created_at",
];

/// Which reservations to export; `user` is already limited to what the caller may read.
#[derive(Debug, Default)]
pub struct ExportFilter {
    pub user: Option<i64>,
    pub resource: Option<i64>,
    pub start_from: Option<DateTime<Utc>>,
    pub start_until: Option<DateTime<Utc>>,
    pub status: Option<ReservationStatus>,
}

/// The CSV file of the reservations `filter` selects, ordered by start time.
pub async fn csv(db: &Db, filter: &ExportFilter) -> Result<CsvWriter, ApiError> {
    let mut binder = Binder::new();
    let mut conditions = vec!["1 = 1".to_owned()];
    if let Some(user) = filter.user {
        conditions.push(format!("r.user_id = {}", binder.bind(user)));
    }
    if let Some(resource) = filter.resource {
        conditions.push(format!("r.resource_id = {}", binder.bind(resource)));
    }
    if let Some(from) = filter.start_from {
        conditions.push(format!("r.start_time >= {}", binder.bind(from)));
    }
    if let Some(until) = filter.start_until {
        conditions.push(format!("r.start_time <= {}", binder.bind(until)));
    }
    if let Some(status) = filter.status {
        conditions.push(format!("r.status = {}", binder.bind(status.as_str())));
    }
    let sql = format!(
        "SELECT r.id, r.resource_id, s.name AS resource_name, r.user_id, u.username,
                r.start_time, r.end_time, r.status, r.created_at
         FROM reservations r
         JOIN resources s ON s.id = r.resource_id
         JOIN users u ON u.id = r.user_id
         WHERE {}
         ORDER BY r.start_time, r.id
         LIMIT {MAX_ROWS}",
        conditions.join(" AND ")
    );
    let rows = db.query(&sql, binder.into_values()).await?;
    let mut csv = CsvWriter::new(&COLUMNS)?;
    for row in &rows {
        csv.row([
            Cell::Number(row.get::<i64>("id")?.into()),
            Cell::Number(row.get::<i64>("resource_id")?.into()),
            Cell::Text(row.text("resource_name")?.into()),
            Cell::Number(row.get::<i64>("user_id")?.into()),
            Cell::Text(row.text("username")?.into()),
            Cell::Time(row.get("start_time")?),
            Cell::Time(row.get("end_time")?),
            Cell::Text(status(row, "status")?.as_str().into()),
            Cell::Time(row.get("created_at")?),
        ])?;
    }
    Ok(csv)
}
