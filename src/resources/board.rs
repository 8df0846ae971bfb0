//! The availability board (`GET /api/v1/board`): every shown resource's state now — `free`,
//! `busy`, `maintenance`, `closed` or `disabled` — with how long it lasts and the booking in
//! progress and the next one, for wall screens.
//!
//! Guarantees:
//! - **One rule for "free".** A resource is `free` exactly when
//!   [`availability::free_parts`] — the rule the schedule reads share with the actors' booking
//!   checks — has a free part starting now, applied to the same data the resource's actor loads
//!   (the resource row, its blocking bookings, [`store::in_force`]'s hours and blackout dates),
//!   and `free_until` is that part's end. The board only adds *why* a resource is not free.
//! - **A fixed number of queries, whatever the number of resources:** the resources, their
//!   tags, the blocking bookings of the next [`HORIZON_HOURS`] hours (by the `(status,
//!   end_time)` or `(resource_id, start_time)` index, never a scan of past bookings), and the
//!   hours and blackout dates in force ([`store::in_force_between`]). Nothing is asked of the
//!   actors, so a board of 1,000 resources starts none of them.
//! - **Bounded:** at most [`MAX_BOARD_RESOURCES`] resources per answer; a list of ids longer
//!   than that is refused by the route, and "all resources" comes in pages of that size.
//! - **Names as the rule says:** who booked is shown only if [`Viewer::sees`] allows it.
//!
//! The reads are not one transaction: a change committed between them may show half, and its
//! event (on `/ws`) tells the board to read that resource again.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use reserver_actors::domain::Interval;
use reserver_actors::resource::{Booking, BookingStatus, ReservationStatus, ResourceInfo, ScheduleSnapshot, UserRef};
use serde::Serialize;

use super::record;
use crate::auth::booking_names::Viewer;
use crate::hours::{availability, store};
use crate::resource_columns;
use crate::resources::blocking::blocking_sql;
use crate::storage::{Binder, Db, Row, StorageError};
use crate::wire::time::utc;

/// Most resources in one answer (and in one `resources=` list).
pub const MAX_BOARD_RESOURCES: usize = 1000;

/// How far ahead the board looks: `free_until` is `null` when the resource stays free at least
/// this long, and the next booking is one starting within it.
pub const HORIZON_HOURS: i64 = 24;

/// How far ahead blackout dates are read, so that "closed until" (the next opening, looked for
/// within 31 days by [`availability::open_now`]) sees every one of them.
const BLACKOUT_LOOKAHEAD_DAYS: i64 = 33;

/// Which resources to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every resource, by id, after `after` (a page of [`MAX_BOARD_RESOURCES`]).
    All { after: i64 },
    /// These resources (at most [`MAX_BOARD_RESOURCES`]); unknown ids are left out.
    Ids(Vec<i64>),
}

/// A resource's state now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = BoardState)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Bookable now.
    Free,
    /// A booking, hold or request covers now.
    Busy,
    /// Under maintenance.
    Maintenance,
    /// Outside its opening hours, or on a blackout date.
    Closed,
    /// Takes no bookings (its `available` flag is off).
    Disabled,
}

/// The answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Board {
    /// The instant the states are for.
    #[schema(format = DateTime)]
    pub now: String,
    /// `now` + [`HORIZON_HOURS`].
    #[schema(format = DateTime)]
    pub horizon_end: String,
    pub resources: Vec<Tile>,
    /// "All resources" only: more come after `next_after` (pass it as `after`).
    pub has_more: bool,
    #[schema(required)]
    pub next_after: Option<i64>,
}

/// One resource on the board.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tile {
    pub id: i64,
    pub name: String,
    pub timezone: &'static str,
    pub tags: Vec<String>,
    pub state: State,
    /// `free`: when it stops being free (the next booking, closing time or maintenance);
    /// `null` when it stays free beyond the horizon.
    #[schema(required, format = DateTime)]
    pub free_until: Option<String>,
    /// `busy`: the end of the run of back-to-back bookings in progress.
    #[schema(required, format = DateTime)]
    pub busy_until: Option<String>,
    /// `maintenance`: when it ends by itself (`null`: when an operator ends it).
    #[schema(required, format = DateTime)]
    pub maintenance_until: Option<String>,
    /// `closed`: the next opening within 31 days, else `null`.
    #[schema(required, format = DateTime)]
    pub opens_at: Option<String>,
    /// `closed`: `"closed"` (outside the hours) or `"blackout"`.
    #[schema(required)]
    pub closed_reason: Option<&'static str>,
    #[schema(required)]
    pub blackout_reason: Option<String>,
    /// The booking (or hold, or request) in progress.
    #[schema(required)]
    pub current: Option<BookingOut>,
    /// The next one to start, within the horizon.
    #[schema(required)]
    pub next: Option<BookingOut>,
}

/// A booking on a tile.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BookingOut {
    pub reservation_id: i64,
    #[schema(format = DateTime)]
    pub start_time: String,
    #[schema(format = DateTime)]
    pub end_time: String,
    /// `active`, `pending_approval` or `held`.
    pub status: &'static str,
    /// Who booked, for a viewer who may see it (`auth::booking_names`), else null.
    #[schema(required)]
    pub user_id: Option<i64>,
    #[schema(required)]
    pub user_name: Option<String>,
}

impl BookingOut {
    fn of(booking: &Booking, viewer: &Viewer) -> BookingOut {
        let shown = viewer.sees(booking.user.id);
        BookingOut {
            reservation_id: booking.id,
            start_time: utc(booking.interval.start()),
            end_time: utc(booking.interval.end()),
            status: booking.status.as_str(),
            user_id: Some(booking.user.id).filter(|_| shown),
            user_name: Some(booking.user.name.to_string()).filter(|_| shown),
        }
    }
}

/// The tile of one resource at `now`, looking up to `horizon_end`, from what its actor would
/// hold (`snapshot.bookings`: the blocking bookings not ended, in order of start; at least those
/// starting before `horizon_end`).
pub fn tile(snapshot: &ScheduleSnapshot, now: DateTime<Utc>, horizon_end: DateTime<Utc>, viewer: &Viewer) -> Tile {
    let resource = &snapshot.resource;
    let free_now = Interval::new(now, horizon_end)
        .ok()
        .and_then(|window| availability::free_parts(snapshot, &window, now).into_iter().next())
        .filter(|part| part.start() == now);
    let covering = snapshot.bookings.iter().find(|b| b.interval.contains(now));
    let open = availability::open_now(snapshot, now);
    let maintenance = resource.maintenance_at(now);
    let state = match free_now {
        Some(_) => State::Free,
        None if !resource.enabled => State::Disabled,
        None if maintenance.is_some() => State::Maintenance,
        None if covering.is_some() => State::Busy,
        None if !open.is_open() => State::Closed,
        // Not free for no other reason: only a change racing this read does that.
        None => State::Busy,
    };
    let mut tile = Tile {
        id: resource.id,
        name: resource.name.clone(),
        timezone: resource.timezone.name(),
        tags: resource.tags.clone(),
        state,
        free_until: None,
        busy_until: None,
        maintenance_until: None,
        opens_at: None,
        closed_reason: None,
        blackout_reason: None,
        current: covering.map(|b| BookingOut::of(b, viewer)),
        next: snapshot
            .bookings
            .iter()
            .find(|b| b.interval.start() > now && b.interval.start() < horizon_end)
            .map(|b| BookingOut::of(b, viewer)),
    };
    match state {
        State::Free => tile.free_until = free_now.map(|p| p.end()).filter(|end| *end < horizon_end).map(utc),
        State::Busy => tile.busy_until = covering.map(|b| utc(back_to_back_end(&snapshot.bookings, b))),
        State::Maintenance => tile.maintenance_until = maintenance.and_then(|m| m.until).map(utc),
        State::Closed => {
            tile.opens_at = open.next_open.map(utc);
            tile.closed_reason = open.closed_reason;
            tile.blackout_reason = open.blackout_reason;
        }
        State::Disabled => {}
    }
    tile
}

/// The end of the run of bookings that follow `first` without a gap (`bookings` in order of
/// start).
fn back_to_back_end(bookings: &[Booking], first: &Booking) -> DateTime<Utc> {
    let mut until = first.interval.end();
    for booking in bookings.iter().filter(|b| b.interval.start() >= first.interval.start()) {
        if booking.interval.start() > until {
            break;
        }
        until = until.max(booking.interval.end());
    }
    until
}

/// The board of `selection` at `now`, as `viewer` may see it.
pub async fn read(db: &Db, selection: &Selection, now: DateTime<Utc>, viewer: &Viewer) -> Result<Board, StorageError> {
    let horizon_end = now + Duration::hours(HORIZON_HOURS);
    let (resources, has_more) = resources_of(db, selection).await?;
    let ids: Vec<i64> = resources.iter().map(|r| r.id).collect();
    let mut bookings = bookings_of(db, selection, &ids, now, horizon_end).await?;
    // A local date is at most 14 hours away from the UTC date.
    let first = (now - Duration::days(1)).date_naive();
    let last = (horizon_end + Duration::days(BLACKOUT_LOOKAHEAD_DAYS)).date_naive();
    let in_force = store::in_force_between(db, first, last).await?;
    let next_after = has_more.then(|| ids.last().copied()).flatten();
    let tiles = resources
        .into_iter()
        .map(|resource| {
            let hours = in_force.own.get(&resource.id).unwrap_or(&in_force.global).clone();
            let snapshot = ScheduleSnapshot {
                bookings: bookings.remove(&resource.id).unwrap_or_default(),
                waitlist: Vec::new(),
                hours,
                resource,
            };
            tile(&snapshot, now, horizon_end, viewer)
        })
        .collect();
    Ok(Board {
        now: utc(now),
        horizon_end: utc(horizon_end),
        resources: tiles,
        has_more,
        next_after,
    })
}

/// The resources of `selection`, by id, and whether more follow (for [`Selection::All`]).
async fn resources_of(db: &Db, selection: &Selection) -> Result<(Vec<ResourceInfo>, bool), StorageError> {
    let mut binder = Binder::new();
    let (condition, limit) = match selection {
        Selection::All { after } => (format!("r.id > {}", binder.bind(*after)), MAX_BOARD_RESOURCES + 1),
        Selection::Ids(ids) if ids.is_empty() => return Ok((Vec::new(), false)),
        Selection::Ids(ids) => (format!("r.id IN ({})", bind_all(&mut binder, ids)), MAX_BOARD_RESOURCES),
    };
    let sql = format!(
        "SELECT {} FROM resources r WHERE {condition} ORDER BY r.id LIMIT {}",
        resource_columns!(),
        binder.bind(limit as i64)
    );
    let mut rows = db.query(&sql, binder.into_values()).await?;
    let has_more = rows.len() > MAX_BOARD_RESOURCES;
    rows.truncate(MAX_BOARD_RESOURCES);
    let ids: Vec<i64> = rows.iter().map(|row| row.get("id")).collect::<Result<_, _>>()?;
    let mut tags = record::tags_of_many(db, &ids).await?;
    let resources = rows
        .iter()
        .zip(&ids)
        .map(|(row, id)| record::decode(row, tags.remove(id).unwrap_or_default()))
        .collect::<Result<_, _>>()?;
    Ok((resources, has_more))
}

fn bind_all(binder: &mut Binder, ids: &[i64]) -> String {
    ids.iter().map(|id| binder.bind(*id)).collect::<Vec<_>>().join(", ")
}

/// The blocking bookings of `ids` that have not ended at `now` and start before `horizon_end`,
/// by resource, each in order of start.
async fn bookings_of(
    db: &Db,
    selection: &Selection,
    ids: &[i64],
    now: DateTime<Utc>,
    horizon_end: DateTime<Utc>,
) -> Result<HashMap<i64, Vec<Booking>>, StorageError> {
    let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
        return Ok(HashMap::new());
    };
    let mut binder = Binder::new();
    let (now_sql, horizon_sql) = (binder.bind(now), binder.bind(horizon_end));
    let which = match selection {
        // A page of every resource is a range of ids.
        Selection::All { .. } => format!(
            "x.resource_id >= {} AND x.resource_id <= {}",
            binder.bind(*first),
            binder.bind(*last)
        ),
        Selection::Ids(_) => format!("x.resource_id IN ({})", bind_all(&mut binder, ids)),
    };
    let sql = format!(
        "SELECT x.id, x.resource_id, x.user_id, u.username, x.start_time, x.end_time, x.status, x.created_at
         FROM reservations x JOIN users u ON u.id = x.user_id
         WHERE {blocking} AND x.end_time > {now_sql}
           AND x.start_time < {horizon_sql} AND {which}
         ORDER BY x.resource_id, x.start_time",
        blocking = blocking_sql!("x")
    );
    let mut by_resource: HashMap<i64, Vec<Booking>> = HashMap::new();
    for row in db.query(&sql, binder.into_values()).await? {
        by_resource
            .entry(row.get("resource_id")?)
            .or_default()
            .push(booking(&row)?);
    }
    Ok(by_resource)
}

fn booking(row: &Row) -> Result<Booking, StorageError> {
    let status: ReservationStatus = row
        .get::<String>("status")?
        .parse()
        .map_err(|unknown: reserver_actors::resource::UnknownStatus| StorageError::Decode(unknown.to_string()))?;
    let status = BookingStatus::try_from(status).map_err(|e| StorageError::Decode(e.to_string()))?;
    let interval = Interval::new(row.get("start_time")?, row.get("end_time")?)
        .map_err(|_| StorageError::Decode("a reservation ends before it starts".into()))?;
    let user = UserRef {
        id: row.get("user_id")?,
        name: Arc::from(row.get::<String>("username")?),
    };
    Ok(Booking {
        status,
        ..Booking::active(row.get("id")?, user, interval, row.get("created_at")?)
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use reserver_actors::domain::OpeningHours;
    use reserver_actors::resource::Maintenance;

    use super::*;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 7, hour, minute, 0).unwrap()
    }

    fn room() -> ResourceInfo {
        ResourceInfo {
            id: 1,
            name: "Room".into(),
            description: None,
            tags: vec!["floor-1".into()],
            enabled: true,
            maintenance: None,
            timezone: chrono_tz::Tz::UTC,
            created_at: at(0, 0),
            approver: None,
            requires_approval: false,
            checkin_window: None,
        }
    }

    fn booked(id: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> Booking {
        let user = UserRef {
            id: 7,
            name: Arc::from("bob"),
        };
        Booking::active(id, user, Interval::new(from, to).unwrap(), at(0, 0))
    }

    fn tile_of(resource: ResourceInfo, bookings: Vec<Booking>, now: DateTime<Utc>) -> Tile {
        let snapshot = ScheduleSnapshot {
            resource,
            bookings,
            waitlist: Vec::new(),
            hours: OpeningHours::default(),
        };
        tile(
            &snapshot,
            now,
            now + Duration::hours(HORIZON_HOURS),
            &Viewer::anonymous(),
        )
    }

    #[test]
    fn back_to_back_bookings_are_one_busy_run() {
        let bookings = vec![
            booked(1, at(9, 0), at(10, 0)),
            booked(2, at(10, 0), at(11, 30)),
            booked(3, at(12, 0), at(13, 0)),
        ];
        let tile = tile_of(room(), bookings.clone(), at(9, 30));
        assert_eq!(tile.state, State::Busy);
        assert_eq!(tile.busy_until.as_deref(), Some("2030-01-07T11:30:00Z"));
        assert_eq!(tile.current.as_ref().map(|b| b.reservation_id), Some(1));
        assert_eq!(tile.next.as_ref().map(|b| b.reservation_id), Some(2));
        assert!(tile.current.unwrap().user_name.is_none(), "anonymous: no names");

        let tile = tile_of(room(), bookings, at(11, 30));
        assert_eq!(tile.state, State::Free);
        assert_eq!(tile.free_until.as_deref(), Some("2030-01-07T12:00:00Z"));
        assert_eq!(tile.next.map(|b| b.reservation_id), Some(3));
    }

    #[test]
    fn free_without_end_within_the_horizon_has_no_until() {
        let tile = tile_of(room(), Vec::new(), at(9, 0));
        assert_eq!((tile.state, tile.free_until), (State::Free, None));
    }

    #[test]
    fn disabled_and_maintenance_come_before_bookings() {
        let bookings = vec![booked(1, at(9, 0), at(10, 0))];
        let disabled = ResourceInfo {
            enabled: false,
            ..room()
        };
        assert_eq!(tile_of(disabled, bookings.clone(), at(9, 30)).state, State::Disabled);
        let maintained = ResourceInfo {
            maintenance: Some(Maintenance::starting(at(9, 0), Some(2))),
            ..room()
        };
        let tile = tile_of(maintained, bookings, at(9, 30));
        assert_eq!(tile.state, State::Maintenance);
        assert_eq!(tile.maintenance_until.as_deref(), Some("2030-01-07T11:00:00Z"));
    }
}
