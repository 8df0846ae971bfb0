//! Bookable slots of a day, from a resource actor's snapshot: the same opening hours, bookings
//! and maintenance the actor enforces, so a slot shown available is one a booking would get
//! (unless someone else takes it first).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use reserver_actors::domain::Interval;
use reserver_actors::domain::opening_hours::local_day;
use reserver_actors::resource::ScheduleSnapshot;
use serde::Serialize;

use crate::wire::time::OutputZone;

/// A slot: RFC 3339 with the resource's UTC offset (its wall-clock times are readable).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimeSlot {
    #[schema(format = DateTime)]
    pub start: String,
    #[schema(format = DateTime)]
    pub end: String,
    pub available: bool,
}

/// The slots of the resource's local `date`: consecutive slots of `length` from the start of
/// each open stretch of the day, as many as fit in it. A slot is available if it starts after
/// `now`, the resource takes bookings, and no booking (active, held, pending) or maintenance
/// overlaps it. Closed days and blackout dates have no slots.
pub fn of_day(snapshot: &ScheduleSnapshot, date: NaiveDate, length: Duration, now: DateTime<Utc>) -> Vec<TimeSlot> {
    let resource = &snapshot.resource;
    let zone = resource.timezone;
    let Some(day) = local_day(zone, date) else {
        return Vec::new();
    };
    let output = OutputZone(zone);
    let mut slots = Vec::new();
    for part in snapshot.hours.open_parts(zone, &day) {
        let mut start = part.start();
        while let Ok(slot) = Interval::starting_at(start, length)
            && slot.end() <= part.end()
        {
            let available = slot.start() > now
                && resource.enabled
                && snapshot.overlapping(&slot).next().is_none()
                && !resource.maintenance.as_ref().is_some_and(|m| m.blocks(&slot));
            slots.push(TimeSlot {
                start: output.format(slot.start()),
                end: output.format(slot.end()),
                available,
            });
            start = slot.end();
        }
    }
    slots
}

/// The first available slot from the resource's local date today through `days` days.
pub fn next_available(
    snapshot: &ScheduleSnapshot,
    length: Duration,
    days: u64,
    now: DateTime<Utc>,
) -> Option<TimeSlot> {
    let today = now.with_timezone(&snapshot.resource.timezone).date_naive();
    today.iter_days().take(days as usize).find_map(|date| {
        of_day(snapshot, date, length, now)
            .into_iter()
            .find(|slot| slot.available)
    })
}
