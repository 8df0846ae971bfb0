//! The analytics rollups (migration 24): what the analytics reads sum instead of reading every
//! reservation of their window.
//!
//! - `analytics_resource_hours`: per resource and UTC hour, the used bookings (`active`,
//!   `expired`) that start in it and the microseconds of used bookings inside it;
//! - `analytics_resource_days` (migration 27): the same per UTC day (`hour / 24`), each of its
//!   hours in a column of its own, so long windows read a row per day and still know every
//!   hour. Written with the hours from the same deltas (on PostgreSQL in the same statement), so
//!   each day row is the sum of its 24 hour rows; hours are after 1970 (≥ 0), where SQL's
//!   `hour / 24` and Rust's `div_euclid` agree;
//! - `analytics_resource_blocks` (migration 37): per resource, block of 28 UTC days (`day / 28`)
//!   and UTC weekday (`day % 7`), the used bookings starting in each UTC hour of those four
//!   days, for year-long peak times. Written with the days from the same deltas (on PostgreSQL in
//!   the same statement), so each block row is the sum of the `s<h>` of its four day rows;
//! - `analytics_user_hours`: per user and UTC hour of creation, the bookings created and how many
//!   of them are now `active` or `cancelled`;
//! - `analytics_longest`: per resource, the longest booking counted (bounds the scan of the
//!   bookings that overlap a short interval, see `super::cells`);
//! - `analytics_counted`: each reservation as last counted.
//!
//! **Invariant: the rollups are the sum of the contributions of the rows of
//! `analytics_counted`, and each of those rows equals its reservation once a transaction that
//! changed the reservation commits.** The [`project`]ion guarantees it: it runs in the
//! transaction of every change that appends events (the event writer's projections), and for
//! each reservation an event names it subtracts the old row's contribution and adds the
//! current one; a deleted resource's rows are subtracted with it. Every path that changes a
//! booking announces it with an event (the outbox invariant), so every path keeps the rollups in
//! step, and a change that rolls back takes its rollup change with it. Hours are UTC hours
//! since the epoch, so both backends compute the keys without a time-zone database, and the
//! local reading is done by the reads. Reservations written behind the server's back (tests'
//! fixtures, `loadtests/analytics-seed`) are counted by [`rebuild`], which runs migrations 25,
//! 28 and 38.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};

use crate::events::{Event, NewEvent};
use crate::storage::{BackendKind, Binder, Db, Row, StorageError, Transaction, Value, push_placeholder};

/// Microseconds in an hour: a rollup hour is `micros / HOUR_US`.
pub const HOUR_US: i64 = 3_600_000_000;

/// The rollup hour of an instant.
pub fn hour_of(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros().div_euclid(HOUR_US)
}

/// Most rows written by one statement (keeps within every backend's parameter limit).
const CHUNK: usize = 500;

/// A reservation as the rollups count it.
#[derive(Debug, Clone, PartialEq)]
struct Counted {
    resource: i64,
    user: i64,
    start_us: i64,
    end_us: i64,
    created_us: i64,
    status: String,
}

impl Counted {
    fn used(&self) -> bool {
        matches!(self.status.as_str(), "active" | "expired")
    }
}

/// What an event asks of the rollups.
enum Touch {
    Reservation(i64),
    ResourceGone(i64),
    Nothing,
}

/// Exhaustive on purpose: a new kind of event must say whether it changes a booking.
fn touch(event: &Event) -> Touch {
    match event {
        Event::ReservationCreated(e) => Touch::Reservation(e.slot.reservation_id),
        Event::ReservationCancelled(e) => Touch::Reservation(e.slot.reservation_id),
        Event::ReservationUpdated(e) => Touch::Reservation(e.slot.reservation_id),
        Event::ReservationExpired(e) => Touch::Reservation(e.slot.reservation_id),
        Event::ReservationReleased(e) => Touch::Reservation(e.slot.reservation_id),
        Event::ReservationCheckedIn(e) => Touch::Reservation(e.slot.reservation_id),
        Event::ReservationApproved(e) => Touch::Reservation(e.slot.reservation_id),
        Event::ReservationRejected(e) => Touch::Reservation(e.slot.reservation_id),
        Event::HoldCreated(e) | Event::HoldExpired(e) | Event::HoldReleased(e) => {
            Touch::Reservation(e.slot.reservation_id)
        }
        Event::ApprovalRequest(e) => Touch::Reservation(e.reservation_id),
        Event::WaitlistAccepted(e) => e.reservation_id.map_or(Touch::Nothing, Touch::Reservation),
        Event::ResourceDeleted(e) => Touch::ResourceGone(e.resource_id),
        Event::WaitlistOffer(_)
        | Event::WaitlistOfferExpired(_)
        | Event::ResourceStatusChanged(_)
        | Event::ResourceUpdated(_)
        | Event::ResourceCreated(_)
        | Event::BusinessHoursUpdated(_)
        | Event::BlackoutDatesUpdated(_)
        | Event::TagRenamed(_)
        | Event::TagDeleted(_)
        | Event::ResourceGroupChanged(_)
        | Event::ResourceHierarchyChanged(_)
        | Event::UserCreated(_)
        | Event::SignInRevoked(_)
        | Event::WaitlistChanged(_) => Touch::Nothing,
    }
}

/// Brings the rollups in step with the reservations `events` name, in `tx` (the transaction of
/// the change). Called last among the projections, so the rows it locks are held only until
/// the commit; rows are written in key order, so concurrent changes never deadlock on them.
pub async fn project(tx: &mut Box<dyn Transaction>, events: &[NewEvent]) -> Result<(), StorageError> {
    // Reservation → how it stands now, when the last event naming it carries that (else read).
    let mut reservations: BTreeMap<i64, Option<Counted>> = BTreeMap::new();
    let mut gone = BTreeSet::new();
    for event in events {
        match touch(&event.event) {
            Touch::Reservation(id) => {
                reservations.insert(id, carried(event));
            }
            Touch::ResourceGone(id) => {
                gone.insert(id);
            }
            Touch::Nothing => {}
        }
    }
    if reservations.is_empty() && gone.is_empty() {
        return Ok(());
    }
    let mut deltas = Deltas::default();
    for resource in gone {
        forget_resource(tx, resource, &mut deltas).await?;
    }
    let reservations: Vec<(i64, Option<Counted>)> = reservations.into_iter().collect();
    resync_all(tx, &reservations, &mut deltas).await?;
    deltas.write(tx).await
}

/// The reservation as `event`'s change left it, when the event carries the booking it made (a
/// booking made or requested, a hold: [`NewEvent::booking`]), so the rollups need not read back
/// the row the change has just written. Every later change of the reservation appends an event
/// of its own, so the copy of the *last* event naming a reservation is how it stands.
fn carried(event: &NewEvent) -> Option<Counted> {
    let booking = event.booking.as_ref()?;
    let resource = match &event.event {
        Event::ReservationCreated(e) => e.slot.resource_id,
        Event::HoldCreated(e) => e.slot.resource_id,
        _ => return None,
    };
    Some(Counted {
        resource,
        user: booking.user.id,
        start_us: booking.interval.start().timestamp_micros(),
        end_us: booking.interval.end().timestamp_micros(),
        created_us: booking.created_at.timestamp_micros(),
        status: booking.status.as_str().to_owned(),
    })
}

/// Rebuilds every rollup from the reservations (migration 25's text, then 28's for the daily
/// level and 38's for the four-week one), in one transaction.
pub async fn rebuild(db: &Db) -> Result<(), StorageError> {
    let migrations = match db.kind() {
        BackendKind::Postgres => reserver_schema::POSTGRES,
        BackendKind::Sqlite => reserver_schema::SQLITE,
    };
    let mut tx = db.begin().await?;
    for name in [
        "analytics_backfill",
        "analytics_days_backfill",
        "analytics_blocks_backfill",
    ] {
        let backfill = migrations
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| StorageError::Decode(format!("no {name} migration")))?;
        tx.execute_batch(backfill.sql).await?;
    }
    tx.commit().await
}

const COUNTED_COLUMNS: &str = "resource_id, user_id, start_us, end_us, created_us, status";

fn counted(row: &Row) -> Result<Counted, StorageError> {
    Ok(Counted {
        resource: row.get("resource_id")?,
        user: row.get("user_id")?,
        start_us: row.get("start_us")?,
        end_us: row.get("end_us")?,
        created_us: row.get("created_us")?,
        status: row.get("status")?,
    })
}

/// `$n, $m, …` for `ids`, bound in `binder`.
fn id_list(binder: &mut Binder, ids: &[i64]) -> String {
    ids.iter().map(|id| binder.bind(*id)).collect::<Vec<_>>().join(", ")
}

/// Replaces the counted rows of `reservations` by the reservations as they are now (the copy
/// an event carried, else the row read): a few statements for the whole set (the events of a
/// group commit name many reservations), the rows written in key order.
async fn resync_all(
    tx: &mut Box<dyn Transaction>,
    reservations: &[(i64, Option<Counted>)],
    deltas: &mut Deltas,
) -> Result<(), StorageError> {
    for chunk in reservations.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        let mut binder = Binder::new();
        let list = id_list(&mut binder, &ids);
        let mut old: BTreeMap<i64, Counted> = BTreeMap::new();
        let sql =
            format!("SELECT reservation_id, {COUNTED_COLUMNS} FROM analytics_counted WHERE reservation_id IN ({list})");
        for row in tx.query(&sql, binder.into_values()).await? {
            old.insert(row.get("reservation_id")?, counted(&row)?);
        }
        let mut new: BTreeMap<i64, Counted> = chunk
            .iter()
            .filter_map(|(id, carried)| Some((*id, carried.clone()?)))
            .collect();
        let unknown: Vec<i64> = chunk.iter().filter(|(_, c)| c.is_none()).map(|(id, _)| *id).collect();
        if !unknown.is_empty() {
            read_reservations(tx, &unknown, &mut new).await?;
        }
        let mut upserts = Vec::new();
        let mut gone = Vec::new();
        // resource → longest booking among the new rows (one row per resource per statement).
        let mut longest: BTreeMap<i64, i64> = BTreeMap::new();
        for id in &ids {
            let (before, after) = (old.get(id), new.get(id));
            if before == after {
                continue;
            }
            if let Some(before) = before {
                deltas.add(before, -1);
            }
            match after {
                Some(after) => {
                    deltas.add(after, 1);
                    let length = longest.entry(after.resource).or_default();
                    *length = (*length).max(after.end_us - after.start_us);
                    upserts.push((*id, after));
                }
                None => gone.push(*id),
            }
        }
        if !upserts.is_empty() {
            let mut binder = Binder::new();
            let rows: Vec<String> = upserts
                .iter()
                .map(|(id, c)| {
                    let cells = [
                        binder.bind(*id),
                        binder.bind(c.resource),
                        binder.bind(c.user),
                        binder.bind(c.start_us),
                        binder.bind(c.end_us),
                        binder.bind(c.created_us),
                        binder.bind(c.status.as_str()),
                    ];
                    format!("({})", cells.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO analytics_counted (reservation_id, resource_id, user_id, start_us, end_us, created_us, status)
                 VALUES {}
                 ON CONFLICT (reservation_id) DO UPDATE SET resource_id = excluded.resource_id,
                     user_id = excluded.user_id, start_us = excluded.start_us, end_us = excluded.end_us,
                     created_us = excluded.created_us, status = excluded.status",
                rows.join(", ")
            );
            tx.execute(&sql, binder.into_values()).await?;
            let mut binder = Binder::new();
            let rows: Vec<String> = longest
                .iter()
                .map(|(resource, length)| format!("({}, {})", binder.bind(*resource), binder.bind(*length)))
                .collect();
            let sql = format!(
                "INSERT INTO analytics_longest (resource_id, longest_us) VALUES {}
                 ON CONFLICT (resource_id) DO UPDATE SET longest_us = CASE
                     WHEN excluded.longest_us > analytics_longest.longest_us THEN excluded.longest_us
                     ELSE analytics_longest.longest_us END",
                rows.join(", ")
            );
            tx.execute(&sql, binder.into_values()).await?;
        }
        if !gone.is_empty() {
            let mut binder = Binder::new();
            let list = id_list(&mut binder, &gone);
            tx.execute(
                &format!("DELETE FROM analytics_counted WHERE reservation_id IN ({list})"),
                binder.into_values(),
            )
            .await?;
        }
    }
    Ok(())
}

/// Reads reservations `ids` as the rollups count them into `into` (a deleted one is absent).
async fn read_reservations(
    tx: &mut Box<dyn Transaction>,
    ids: &[i64],
    into: &mut BTreeMap<i64, Counted>,
) -> Result<(), StorageError> {
    let mut binder = Binder::new();
    let list = id_list(&mut binder, ids);
    let sql = format!(
        "SELECT id, resource_id, user_id, start_time, end_time, created_at, status FROM reservations WHERE id IN ({list})"
    );
    for row in tx.query(&sql, binder.into_values()).await? {
        into.insert(
            row.get("id")?,
            Counted {
                resource: row.get("resource_id")?,
                user: row.get("user_id")?,
                start_us: row.get::<DateTime<Utc>>("start_time")?.timestamp_micros(),
                end_us: row.get::<DateTime<Utc>>("end_time")?.timestamp_micros(),
                created_us: row.get::<DateTime<Utc>>("created_at")?.timestamp_micros(),
                status: row.get("status")?,
            },
        );
    }
    Ok(())
}

/// Subtracts what the bookings of a deleted resource counted for their users, and drops the
/// resource's rows.
async fn forget_resource(
    tx: &mut Box<dyn Transaction>,
    resource: i64,
    deltas: &mut Deltas,
) -> Result<(), StorageError> {
    let rows = tx
        .query(
            &format!("SELECT {COUNTED_COLUMNS} FROM analytics_counted WHERE resource_id = $1"),
            vec![Value::Int(resource)],
        )
        .await?;
    for row in &rows {
        deltas.add_user(&counted(row)?, -1);
    }
    for table in [
        "analytics_counted",
        "analytics_resource_hours",
        "analytics_resource_days",
        "analytics_resource_blocks",
        "analytics_longest",
    ] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE resource_id = $1"),
            vec![Value::Int(resource)],
        )
        .await?;
    }
    Ok(())
}

/// Changes to the rollups, summed by key before they are written.
#[derive(Default)]
struct Deltas {
    /// (resource, hour) → (started, booked µs).
    resources: BTreeMap<(i64, i64), (i64, i64)>,
    /// (user, hour) → (created, active, cancelled).
    users: BTreeMap<(i64, i64), (i64, i64, i64)>,
}

impl Deltas {
    /// Adds (`sign` 1) or subtracts (`sign` -1) what `booking` counts for.
    fn add(&mut self, booking: &Counted, sign: i64) {
        self.add_user(booking, sign);
        if !booking.used() {
            return;
        }
        let first = booking.start_us.div_euclid(HOUR_US);
        let mut hour = first;
        while hour * HOUR_US < booking.end_us {
            let inside = booking.end_us.min((hour + 1) * HOUR_US) - booking.start_us.max(hour * HOUR_US);
            let cell = self.resources.entry((booking.resource, hour)).or_default();
            cell.0 += sign * i64::from(hour == first);
            cell.1 += sign * inside;
            hour += 1;
        }
    }

    fn add_user(&mut self, booking: &Counted, sign: i64) {
        let cell = self
            .users
            .entry((booking.user, booking.created_us.div_euclid(HOUR_US)))
            .or_default();
        cell.0 += sign;
        cell.1 += sign * i64::from(booking.status == "active");
        cell.2 += sign * i64::from(booking.status == "cancelled");
    }

    /// The day rows the hour rows add up to: `[resource, day, started, booked µs, s0..s23,
    /// b0..b23]` (migration 27's columns, in order).
    fn days(resources: &[[i64; 4]]) -> Vec<[i64; DAY_VALUES]> {
        let mut days: BTreeMap<(i64, i64), [i64; DAY_VALUES]> = BTreeMap::new();
        for &[resource, hour, started, booked] in resources {
            let day = hour.div_euclid(24);
            let at = hour.rem_euclid(24) as usize;
            let row = days.entry((resource, day)).or_insert_with(|| {
                let mut row = [0; DAY_VALUES];
                (row[0], row[1]) = (resource, day);
                row
            });
            row[2] += started;
            row[3] += booked;
            row[4 + at] += started;
            row[4 + 24 + at] += booked;
        }
        days.into_values().collect()
    }

    /// The four-week rows the day rows add up to: `[resource, block, weekday, s0..s23]`
    /// (migration 37's columns, in order); none for days whose starts did not change.
    fn blocks(days: &[[i64; DAY_VALUES]]) -> Vec<[i64; BLOCK_VALUES]> {
        let mut blocks: BTreeMap<(i64, i64, i64), [i64; BLOCK_VALUES]> = BTreeMap::new();
        for day in days {
            let (resource, starts) = (day[0], &day[4..28]);
            if starts.iter().all(|n| *n == 0) {
                continue;
            }
            let key = (resource, day[1].div_euclid(BLOCK_DAYS), day[1].rem_euclid(7));
            let row = blocks.entry(key).or_insert_with(|| {
                let mut row = [0; BLOCK_VALUES];
                (row[0], row[1], row[2]) = key;
                row
            });
            for (cell, n) in row[3..].iter_mut().zip(starts) {
                *cell += n;
            }
        }
        blocks.into_values().collect()
    }

    async fn write(self, tx: &mut Box<dyn Transaction>) -> Result<(), StorageError> {
        let users: Vec<[i64; 5]> = self
            .users
            .into_iter()
            .filter(|(_, d)| *d != (0, 0, 0))
            .map(|((user, hour), (c, a, x))| [user, hour, c, a, x])
            .collect();
        for chunk in users.chunks(CHUNK) {
            let mut values = Vec::new();
            let sql = upsert(
                "analytics_user_hours (user_id, hour, created, active, cancelled)",
                "(user_id, hour)",
                &["created", "active", "cancelled"],
                "analytics_user_hours",
                chunk,
                &mut values,
            );
            tx.execute(&sql, values).await?;
        }
        let resources: Vec<[i64; 4]> = self
            .resources
            .into_iter()
            .filter(|(_, d)| *d != (0, 0))
            .map(|((resource, hour), (s, b))| [resource, hour, s, b])
            .collect();
        let days = Deltas::days(&resources);
        let blocks = Deltas::blocks(&days);
        let day_columns = day_columns();
        let day_into = format!("analytics_resource_days ({})", day_columns.join(", "));
        let day_sums: Vec<&str> = day_columns[2..].iter().map(String::as_str).collect();
        let block_columns = block_columns();
        let block_into = format!("analytics_resource_blocks ({})", block_columns.join(", "));
        let block_sums: Vec<&str> = block_columns[3..].iter().map(String::as_str).collect();
        let mut hour_chunks = resources.chunks(CHUNK);
        let mut day_chunks = days.chunks(CHUNK);
        let mut block_chunks = blocks.chunks(CHUNK);
        loop {
            let mut batch = Batch::new(tx.kind());
            if let Some(chunk) = hour_chunks.next() {
                let sql = upsert(
                    "analytics_resource_hours (resource_id, hour, started, booked_us)",
                    "(resource_id, hour)",
                    &["started", "booked_us"],
                    "analytics_resource_hours",
                    chunk,
                    &mut batch.values,
                );
                batch.add(tx, sql).await?;
            }
            if let Some(chunk) = day_chunks.next() {
                let sql = upsert(
                    &day_into,
                    "(resource_id, day)",
                    &day_sums,
                    "analytics_resource_days",
                    chunk,
                    &mut batch.values,
                );
                batch.add(tx, sql).await?;
            }
            if let Some(chunk) = block_chunks.next() {
                let sql = upsert(
                    &block_into,
                    "(resource_id, block, weekday)",
                    &block_sums,
                    "analytics_resource_blocks",
                    chunk,
                    &mut batch.values,
                );
                batch.add(tx, sql).await?;
            }
            if !batch.finish(tx).await? {
                return Ok(());
            }
        }
    }
}

/// The upserts of one round of [`Deltas::write`]. On PostgreSQL they become one statement (all
/// but the last as data-modifying `WITH` parts): the daily and four-week levels cost a booking
/// no round trip of their own. SQLite runs statements in-process, on its writer thread, so each
/// runs as it is added (with its own placeholders): there is no round trip to save.
struct Batch {
    postgres: bool,
    values: Vec<Value>,
    pending: Vec<String>,
    ran: bool,
}

impl Batch {
    fn new(kind: BackendKind) -> Batch {
        Batch {
            postgres: kind == BackendKind::Postgres,
            values: Vec::new(),
            pending: Vec::new(),
            ran: false,
        }
    }

    /// Adds `sql`, whose placeholders number `self.values`.
    async fn add(&mut self, tx: &mut Box<dyn Transaction>, sql: String) -> Result<(), StorageError> {
        self.ran = true;
        if self.postgres {
            self.pending.push(sql);
            return Ok(());
        }
        tx.execute(&sql, std::mem::take(&mut self.values)).await?;
        Ok(())
    }

    /// Runs what is pending; whether anything was added at all.
    async fn finish(self, tx: &mut Box<dyn Transaction>) -> Result<bool, StorageError> {
        if let Some((last, parts)) = self.pending.split_last() {
            let parts: Vec<String> = parts
                .iter()
                .enumerate()
                .map(|(i, part)| format!("w{i} AS ({part})"))
                .collect();
            let sql = if parts.is_empty() {
                last.clone()
            } else {
                format!("WITH {} {last}", parts.join(", "))
            };
            tx.execute(&sql, self.values).await?;
        }
        Ok(self.ran)
    }
}

/// Days per block of the four-week level: whole weeks, so a block's days of one weekday share
/// their UTC weekday (1970-01-01, day 0, was a Thursday).
pub const BLOCK_DAYS: i64 = 28;

/// Values per row of `analytics_resource_blocks`: key, then 24 hours.
const BLOCK_VALUES: usize = 3 + 24;

/// The columns of `analytics_resource_blocks`, in the order of [`Deltas::blocks`]' rows (named
/// once: every booking's rollup writes them).
fn block_columns() -> &'static [String] {
    static COLUMNS: LazyLock<Vec<String>> = LazyLock::new(|| {
        let mut columns: Vec<String> = ["resource_id", "block", "weekday"].map(String::from).to_vec();
        columns.extend((0..24).map(|h| format!("s{h}")));
        columns
    });
    &COLUMNS
}

/// Values per row of `analytics_resource_days`: key, the two sums, 24 hours of each.
const DAY_VALUES: usize = 4 + 2 * 24;

/// The columns of `analytics_resource_days`, in the order of [`Deltas::days`]' rows (named once).
fn day_columns() -> &'static [String] {
    static COLUMNS: LazyLock<Vec<String>> = LazyLock::new(|| {
        let mut columns: Vec<String> = ["resource_id", "day", "started", "booked_us"]
            .map(String::from)
            .to_vec();
        columns.extend((0..24).map(|h| format!("s{h}")));
        columns.extend((0..24).map(|h| format!("b{h}")));
        columns
    });
    &COLUMNS
}

/// The statement adding `rows` (key columns then `sums`) to `table`, inserting the rows that do
/// not exist yet; its values are appended to `values` (placeholders numbered after those there).
fn upsert<const N: usize>(
    into: &str,
    key: &str,
    sums: &[&str],
    table: &str,
    rows: &[[i64; N]],
    values: &mut Vec<Value>,
) -> String {
    // Written into one string without `fmt` (a booking's day row alone has 52 values): a
    // `String` per placeholder and per column was a tenth of a booking's instructions, `fmt`
    // another twentieth.
    let mut sql = String::with_capacity(64 + rows.len() * N * 6 + sums.len() * (2 * table.len() + 40));
    sql.push_str("INSERT INTO ");
    sql.push_str(into);
    sql.push_str(" VALUES ");
    for (r, row) in rows.iter().enumerate() {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for (i, value) in row.iter().enumerate() {
            values.push(Value::Int(*value));
            if i > 0 {
                sql.push_str(", ");
            }
            push_placeholder(&mut sql, values.len());
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT ");
    sql.push_str(key);
    sql.push_str(" DO UPDATE SET ");
    for (i, column) in sums.iter().enumerate() {
        for part in [
            if i == 0 { "" } else { ", " },
            column,
            " = ",
            table,
            ".",
            column,
            " + excluded.",
            column,
        ] {
            sql.push_str(part);
        }
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    fn booking(start_us: i64, end_us: i64, status: &str) -> Counted {
        Counted {
            resource: 1,
            user: 2,
            start_us,
            end_us,
            created_us: 10,
            status: status.into(),
        }
    }

    #[test]
    fn the_upsert_numbers_its_placeholders_after_the_values_already_bound() {
        let mut values = vec![Value::Int(7)];
        let sql = upsert(
            "t (k, h, n)",
            "(k, h)",
            &["n"],
            "t",
            &[[1, 2, 3], [4, 5, 6]],
            &mut values,
        );
        assert_eq!(
            sql,
            "INSERT INTO t (k, h, n) VALUES ($2, $3, $4), ($5, $6, $7) ON CONFLICT (k, h) DO UPDATE SET n = t.n + excluded.n"
        );
        assert_eq!(values.len(), 7);
        let sql = upsert("t (k, a, b)", "(k)", &["a", "b"], "t", &[[1, 2, 3]], &mut Vec::new());
        assert!(
            sql.ends_with("DO UPDATE SET a = t.a + excluded.a, b = t.b + excluded.b"),
            "{sql}"
        );
    }

    #[test]
    fn a_used_booking_is_cut_into_the_hours_it_touches_and_counted_once_where_it_starts() {
        let mut deltas = Deltas::default();
        // 00:30 to 02:15.
        deltas.add(&booking(HOUR_US / 2, 2 * HOUR_US + HOUR_US / 4, "expired"), 1);
        assert_eq!(
            deltas.resources.into_iter().collect::<Vec<_>>(),
            vec![
                ((1, 0), (1, HOUR_US / 2)),
                ((1, 1), (0, HOUR_US)),
                ((1, 2), (0, HOUR_US / 4))
            ]
        );
        assert_eq!(deltas.users.into_iter().collect::<Vec<_>>(), vec![((2, 0), (1, 0, 0))]);
    }

    #[test]
    fn the_day_rows_are_the_sums_of_their_hours_each_hour_in_its_column() {
        // Hours 23 and 24 (day 0's last, day 1's first) and 26, of resource 1.
        let days = Deltas::days(&[[1, 23, 1, 10], [1, 24, 0, 20], [1, 26, 2, 30]]);
        assert_eq!(days.len(), 2);
        let (first, second) = (&days[0], &days[1]);
        assert_eq!(first[..4], [1, 0, 1, 10]);
        assert_eq!((first[4 + 23], first[4 + 24 + 23]), (1, 10));
        assert_eq!(second[..4], [1, 1, 2, 50]);
        assert_eq!(
            (second[4], second[4 + 24], second[4 + 2], second[4 + 24 + 2]),
            (0, 20, 2, 30)
        );
        assert_eq!(second.iter().sum::<i64>(), 1 + 1 + 2 + 50 + 20 + 2 + 30);
        assert_eq!(day_columns().len(), DAY_VALUES);
    }

    #[test]
    fn the_block_rows_are_the_sums_of_the_starts_of_their_days_of_one_weekday() {
        // Days 28 and 35 (block 1, both weekday 0) and 29 (weekday 1); day 56 (block 2) only
        // changed booked time.
        let day = |day: i64, hour: usize, started: i64| {
            let mut row = [0; DAY_VALUES];
            (row[0], row[1], row[2], row[4 + hour]) = (7, day, started, started);
            row
        };
        let mut booked_only = day(56, 0, 0);
        booked_only[4 + 24] = 5;
        let blocks = Deltas::blocks(&[day(28, 9, 1), day(35, 9, 2), day(29, 23, -1), booked_only]);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0][..3], [7, 1, 0]);
        assert_eq!((blocks[0][3 + 9], blocks[0][3..].iter().sum::<i64>()), (3, 3));
        assert_eq!(blocks[1][..3], [7, 1, 1]);
        assert_eq!((blocks[1][3 + 23], blocks[1][3..].iter().sum::<i64>()), (-1, -1));
        assert_eq!(block_columns().len(), BLOCK_VALUES);
    }

    #[test]
    fn a_change_of_status_moves_only_what_it_changes() {
        let mut deltas = Deltas::default();
        deltas.add(&booking(0, HOUR_US, "active"), -1);
        deltas.add(&booking(0, HOUR_US, "cancelled"), 1);
        assert_eq!(deltas.resources.get(&(1, 0)), Some(&(-1, -HOUR_US)));
        assert_eq!(deltas.users.get(&(2, 0)), Some(&(0, -1, 1)));
    }
}
