//! What the schedule reads (`/availability`, `/schedule`, `/status`) say about bookability,
//! computed from a resource actor's snapshot: the same opening hours, blackout dates, bookings
//! and maintenance the actor enforces, so a read never calls free what a booking would refuse.
//! Memory only: no query per read.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use reserver_actors::domain::{Interval, NotOpen};
use reserver_actors::resource::ScheduleSnapshot;

/// How far ahead `/status` looks for the next opening.
const NEXT_OPENING_HORIZON_DAYS: i64 = 31;

/// Whether the resource's opening hours admit "now", and if not, why and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenNow {
    /// `None` when open; else `"closed"` (outside the hours) or `"blackout"`.
    pub closed_reason: Option<&'static str>,
    /// The reason given for today's blackout date.
    pub blackout_reason: Option<String>,
    /// When closed: the first instant it opens within [`NEXT_OPENING_HORIZON_DAYS`].
    pub next_open: Option<DateTime<Utc>>,
}

impl OpenNow {
    pub fn is_open(&self) -> bool {
        self.closed_reason.is_none()
    }
}

/// Whether the hours admit the instant `now` (the rule of bookings, applied to one second).
pub fn open_now(snapshot: &ScheduleSnapshot, now: DateTime<Utc>) -> OpenNow {
    let zone = snapshot.resource.timezone;
    let refusal = the_second_of(now).and_then(|second| snapshot.hours.check(zone, &second).err());
    let Some(refusal) = refusal else {
        return OpenNow {
            closed_reason: None,
            blackout_reason: None,
            next_open: None,
        };
    };
    let (closed_reason, blackout_reason) = match refusal {
        NotOpen::Blackout { reason, .. } => ("blackout", reason),
        NotOpen::Closed { .. } => ("closed", None),
    };
    let next_open = Interval::starting_at(now, Duration::days(NEXT_OPENING_HORIZON_DAYS))
        .ok()
        .and_then(|horizon| snapshot.hours.open_parts(zone, &horizon).next())
        .map(|part| part.start());
    OpenNow {
        closed_reason: Some(closed_reason),
        blackout_reason,
        next_open,
    }
}

/// What "open now" means: open for the second from `now` (`None` at the end of time).
pub fn the_second_of(now: DateTime<Utc>) -> Option<Interval> {
    Interval::starting_at(now, Duration::seconds(1)).ok()
}

/// The parts of `window` during which the resource is closed (outside its hours or on a
/// blackout date), in order.
pub fn closed_parts(snapshot: &ScheduleSnapshot, window: &Interval) -> Vec<Interval> {
    gaps(window, snapshot.hours.open_parts(snapshot.resource.timezone, window))
}

/// The parts of `window` from `now` on during which a booking would be accepted (bar the length
/// rules): the resource is enabled, open, not under maintenance, and no blocking booking
/// (active, held, pending approval) overlaps. In order, maximal.
pub fn free_parts(snapshot: &ScheduleSnapshot, window: &Interval, now: DateTime<Utc>) -> Vec<Interval> {
    let resource = &snapshot.resource;
    let Ok(ahead) = Interval::new(window.start().max(now), window.end()) else {
        return Vec::new();
    };
    if !resource.enabled {
        return Vec::new();
    }
    let maintenance = resource
        .maintenance
        .as_ref()
        .and_then(|m| Interval::new(m.since, m.until.unwrap_or(DateTime::<Utc>::MAX_UTC)).ok());
    let mut taken: Vec<Interval> = snapshot.overlapping(&ahead).map(|b| b.interval).collect();
    taken.extend(maintenance.filter(|m| m.overlaps(&ahead)));
    let taken = merged(taken);
    snapshot
        .hours
        .open_parts(resource.timezone, &ahead)
        .flat_map(|part| {
            // `taken` is disjoint and sorted, so its ends are sorted too.
            let first = taken.partition_point(|t| t.end() <= part.start());
            let inside = taken[first..].iter().take_while(|t| t.start() < part.end()).copied();
            gaps(&part, inside)
        })
        .collect()
}

/// The local dates of `window` (on the resource's calendar) that are blackout dates.
pub fn blackout_dates<'a>(
    snapshot: &'a ScheduleSnapshot,
    window: &Interval,
) -> impl Iterator<Item = (NaiveDate, Option<&'a str>)> + 'a {
    let zone = snapshot.resource.timezone;
    let first = window.start().with_timezone(&zone).date_naive();
    let last = (window.end() - Duration::nanoseconds(1))
        .with_timezone(&zone)
        .date_naive();
    snapshot.hours.blackouts_between(first, last)
}

/// Sorted, with overlapping and adjacent intervals joined.
fn merged(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.sort_by_key(Interval::start);
    let mut out: Vec<Interval> = Vec::with_capacity(intervals.len());
    for interval in intervals {
        match out.last_mut() {
            Some(last) if interval.start() <= last.end() => {
                *last = Interval::new(last.start(), last.end().max(interval.end())).unwrap_or(*last);
            }
            _ => out.push(interval),
        }
    }
    out
}

/// The parts of `within` not covered by `taken` (sorted by start, disjoint), in order.
fn gaps(within: &Interval, taken: impl IntoIterator<Item = Interval>) -> Vec<Interval> {
    let mut out = Vec::new();
    let mut cursor = within.start();
    for interval in taken {
        if let Ok(gap) = Interval::new(cursor, interval.start().min(within.end())) {
            out.push(gap);
        }
        cursor = cursor.max(interval.end());
    }
    out.extend(Interval::new(cursor, within.end()).ok());
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn span(from: u32, to: u32) -> Interval {
        let hour = |h: u32| Utc.with_ymd_and_hms(2030, 1, 7, 0, 0, 0).unwrap() + Duration::hours(i64::from(h));
        Interval::new(hour(from), hour(to)).unwrap()
    }

    #[test]
    fn gaps_are_what_is_not_taken() {
        assert_eq!(gaps(&span(0, 24), []), vec![span(0, 24)]);
        assert_eq!(gaps(&span(0, 24), [span(0, 9), span(17, 24)]), vec![span(9, 17)]);
        assert_eq!(
            gaps(
                &span(8, 20),
                merged(vec![span(12, 14), span(6, 9), span(13, 15), span(15, 16)])
            ),
            vec![span(9, 12), span(16, 20)]
        );
        assert_eq!(gaps(&span(8, 20), [span(0, 30)]), vec![]);
    }
}
