//! The SQL of opening hours and blackout dates. Times are stored as `HH:MM:SS` text (`24:00:00`
//! closes at the end of the day), dates as `YYYY-MM-DD`, both local to the resource.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc, Weekday};
use reserver_actors::domain::{DayHours, OpeningHours, TimeOfDay};
use reserver_actors::resource::ResourceId;

use super::model::{BlackoutOut, BusinessHoursOut, DayInput};
use crate::events::{EventWriter, NewEvent, commit_with};
use crate::params;
use crate::storage::{Db, Row, StorageError};

const HOURS_COLUMNS: &str = "id, resource_id, day_of_week, open_time, close_time, is_closed";
const BLACKOUT_COLUMNS: &str = "id, resource_id, date, reason, created_at";

fn hours_row(row: &Row) -> Result<BusinessHoursOut, StorageError> {
    Ok(BusinessHoursOut {
        id: row.get("id")?,
        resource_id: row.get("resource_id")?,
        day_of_week: row.get("day_of_week")?,
        open_time: row.get("open_time")?,
        close_time: row.get("close_time")?,
        is_closed: row.get("is_closed")?,
    })
}

fn blackout_row(row: &Row) -> Result<BlackoutOut, StorageError> {
    Ok(BlackoutOut {
        id: row.get("id")?,
        resource_id: row.get("resource_id")?,
        date: row.get("date")?,
        reason: row.get("reason")?,
        created_at: row.get("created_at")?,
    })
}

/// `owner` as the `COALESCE(resource_id, 0)` of its rows: resource ids start at 1, so 0 is
/// "global" (also in the unique index on days).
fn owner_key(owner: Option<ResourceId>) -> i64 {
    owner.unwrap_or(0)
}

/// The hours rows of `owner` (`None`: the global rows), by day.
pub async fn rows_of(db: &Db, owner: Option<ResourceId>) -> Result<Vec<BusinessHoursOut>, StorageError> {
    let sql =
        format!("SELECT {HOURS_COLUMNS} FROM business_hours WHERE COALESCE(resource_id, 0) = $1 ORDER BY day_of_week");
    db.query(&sql, params![owner_key(owner)])
        .await?
        .iter()
        .map(hours_row)
        .collect()
}

/// The hours rows that apply to `resource`: its own if it has any, else the global ones.
pub async fn rows_in_force(db: &Db, resource: ResourceId) -> Result<Vec<BusinessHoursOut>, StorageError> {
    let own = rows_of(db, Some(resource)).await?;
    if own.is_empty() {
        rows_of(db, None).await
    } else {
        Ok(own)
    }
}

/// The blackout dates of `owner` (`None`: global), with the global ones too when `with_global`,
/// by date.
pub async fn blackouts_of(
    db: &Db,
    owner: Option<ResourceId>,
    with_global: bool,
) -> Result<Vec<BlackoutOut>, StorageError> {
    let sql = format!(
        "SELECT {BLACKOUT_COLUMNS} FROM blackout_dates
         WHERE COALESCE(resource_id, 0) = $1 OR (resource_id IS NULL AND $2)
         ORDER BY date, id"
    );
    db.query(&sql, params![owner_key(owner), with_global])
        .await?
        .iter()
        .map(blackout_row)
        .collect()
}

/// What the actor of `resource` enforces: the hours in force and every blackout date of the
/// resource or global (the resource's reason first when a date is both).
pub async fn in_force(db: &Db, resource: ResourceId) -> Result<OpeningHours, StorageError> {
    let hours = rows_in_force(db, resource).await?;
    let blackouts = blackouts_of(db, Some(resource), true).await?;
    assemble(&hours, blackouts)
}

/// Opening hours from hours rows (all of one owner) and blackout rows; a resource's blackout
/// reason wins over a global one for the same date.
fn assemble(hours: &[BusinessHoursOut], mut blackouts: Vec<BlackoutOut>) -> Result<OpeningHours, StorageError> {
    let mut days = Vec::new();
    for row in hours {
        let decode = |what: &str| StorageError::Decode(format!("business_hours {}: {what}", row.id));
        let day =
            Weekday::try_from(u8::try_from(row.day_of_week).map_err(|_| decode("day"))?).map_err(|_| decode("day"))?;
        let hours = if row.is_closed {
            DayHours::Closed
        } else {
            let open = TimeOfDay::parse(&row.open_time).ok_or_else(|| decode("open_time"))?;
            let close = TimeOfDay::parse(&row.close_time).ok_or_else(|| decode("close_time"))?;
            DayHours::open(open, close).map_err(|_| decode("close before open"))?
        };
        days.push((day, hours));
    }
    blackouts.sort_by_key(|b| b.resource_id.is_none());
    let mut hours = OpeningHours::weekly(days);
    for blackout in blackouts {
        let date = NaiveDate::parse_from_str(&blackout.date, "%Y-%m-%d")
            .map_err(|_| StorageError::Decode(format!("blackout_dates {}: date", blackout.id)))?;
        hours = hours.with_blackout(date, blackout.reason);
    }
    Ok(hours)
}

/// What is in force for every resource between two local dates, in a fixed number of queries
/// (for reads answered by SQL over many resources: search, summary).
#[derive(Debug, Clone, Default)]
pub struct InForce {
    /// The global hours with the global blackout dates.
    pub global: OpeningHours,
    /// Resources with hours or blackout dates of their own: what their actors enforce.
    pub own: HashMap<ResourceId, OpeningHours>,
}

/// [`in_force`] for every resource at once, blackout dates limited to `first..=last`.
pub async fn in_force_between(db: &Db, first: NaiveDate, last: NaiveDate) -> Result<InForce, StorageError> {
    let mut hours: HashMap<i64, Vec<BusinessHoursOut>> = HashMap::new();
    for row in db
        .query(&format!("SELECT {HOURS_COLUMNS} FROM business_hours"), vec![])
        .await?
    {
        let row = hours_row(&row)?;
        hours.entry(owner_key(row.resource_id)).or_default().push(row);
    }
    let sql = format!("SELECT {BLACKOUT_COLUMNS} FROM blackout_dates WHERE date >= $1 AND date <= $2");
    let mut blackouts: HashMap<i64, Vec<BlackoutOut>> = HashMap::new();
    for row in db.query(&sql, params![first.to_string(), last.to_string()]).await? {
        let row = blackout_row(&row)?;
        blackouts.entry(owner_key(row.resource_id)).or_default().push(row);
    }
    let global_hours = hours.remove(&0).unwrap_or_default();
    let global_blackouts = blackouts.remove(&0).unwrap_or_default();
    let owners: BTreeSet<i64> = hours.keys().chain(blackouts.keys()).copied().collect();
    let mut own = HashMap::with_capacity(owners.len());
    for owner in owners {
        let rows = hours.get(&owner).unwrap_or(&global_hours);
        let mut dates = blackouts.remove(&owner).unwrap_or_default();
        dates.extend(global_blackouts.iter().cloned());
        own.insert(owner, assemble(rows, dates)?);
    }
    Ok(InForce {
        global: assemble(&global_hours, global_blackouts)?,
        own,
    })
}

/// Replaces every hours row of `owner` (`None`: global) with `days`, with its event, in one
/// transaction; answers the new rows.
pub async fn replace(
    db: &Db,
    writer: &EventWriter,
    owner: Option<ResourceId>,
    days: &[DayInput],
    now: DateTime<Utc>,
) -> Result<Vec<BusinessHoursOut>, StorageError> {
    let mut tx = db.begin().await?;
    tx.execute(
        "DELETE FROM business_hours WHERE COALESCE(resource_id, 0) = $1",
        params![owner_key(owner)],
    )
    .await?;
    for day in days {
        tx.execute(
            "INSERT INTO business_hours (resource_id, day_of_week, open_time, close_time, is_closed)
             VALUES ($1, $2, $3, $4, $5)",
            params![
                owner,
                day.day_of_week,
                day.open.to_string(),
                day.close.to_string(),
                day.is_closed
            ],
        )
        .await?;
    }
    commit_with(tx, vec![NewEvent::business_hours_updated(owner)], now, writer).await?;
    rows_of(db, owner).await
}

/// Adds a blackout date to `owner` (`None`: global), with its event.
pub async fn add_blackout(
    db: &Db,
    writer: &EventWriter,
    owner: Option<ResourceId>,
    date: NaiveDate,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<BlackoutOut, StorageError> {
    let mut tx = db.begin().await?;
    let row = tx
        .query_opt(
            &format!(
                "INSERT INTO blackout_dates (resource_id, date, reason, created_at) VALUES ($1, $2, $3, $4)
                 RETURNING {BLACKOUT_COLUMNS}"
            ),
            params![owner, date.to_string(), reason, now],
        )
        .await?
        .ok_or_else(|| StorageError::Decode("the inserted blackout date was not returned".into()))?;
    let blackout = blackout_row(&row)?;
    let event = NewEvent::blackout_dates_updated(owner, blackout.id, &blackout.date, "added");
    commit_with(tx, vec![event], now, writer).await?;
    Ok(blackout)
}

/// Deletes a blackout date, with its event; answers its owner (`None`: it was global), or
/// `Err(None)` when there is no such blackout date.
pub async fn delete_blackout(
    db: &Db,
    writer: &EventWriter,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Option<ResourceId>>, StorageError> {
    let mut tx = db.begin().await?;
    let Some(row) = tx
        .query_opt(
            &format!("DELETE FROM blackout_dates WHERE id = $1 RETURNING {BLACKOUT_COLUMNS}"),
            params![id],
        )
        .await?
    else {
        return Ok(None);
    };
    let blackout = blackout_row(&row)?;
    let event = NewEvent::blackout_dates_updated(blackout.resource_id, id, &blackout.date, "deleted");
    commit_with(tx, vec![event], now, writer).await?;
    Ok(Some(blackout.resource_id))
}
