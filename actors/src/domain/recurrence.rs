//! Recurring series: one booking repeated daily, weekly or monthly, expanded in the resource's
//! IANA time zone so that a 09:00 meeting stays at 09:00 on the wall clock across DST changes.
//!
//! The predecessor added fixed 24-hour steps to UTC instants, so its weekly meetings drifted by an
//! hour twice a year, and its monthly steps drifted for good after a short month (Jan 31 → Feb 28
//! → Mar 28). Here the calendar is walked in local dates (submodule `calendar`) and every date is
//! joined with the first occurrence's local time of day, read in the zone (submodule
//! `wall_clock`).
//!
//! The rules of [`expand`]:
//! - The first occurrence is the given `first` interval, unchanged; every later one has its
//!   elapsed duration (a one-hour booking is one hour long even on a 23-hour day).
//! - Later occurrences start at the first's local wall-clock time on their local date.
//! - **DST gap**: a local time that does not exist (spring forward; 02:30 in Europe/Berlin on the
//!   last Sunday of March) is read with the offset in force before the change, which moves it
//!   forward by the length of the gap: 02:30 becomes 03:30 CEST that day, and the next day's
//!   occurrence is at 02:30 again. This is RFC 5545's rule for nonexistent times.
//! - **DST overlap**: a local time that exists twice (fall back; 02:30 on the last Sunday of
//!   October in Berlin) is the earlier instant, the one with the first offset (02:30 CEST), as in
//!   RFC 5545.
//! - The predecessor's weekly rule dropped the first start when its weekday was not listed; here,
//!   as in RFC 5545 (DTSTART is always the first instance), the first occurrence is kept.
//! - The end of the series: [`SeriesEnd`]. `max_occurrences` bounds every series, and the work
//!   done: expansion never looks at more than `max_occurrences + 1` dates.
//! - A series never overlaps itself ([`RecurrenceError::SelfOverlap`]); back-to-back is fine.

mod calendar;
pub(crate) mod wall_clock;

use std::num::NonZeroU32;

use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;

use super::interval::Interval;

/// How the series steps from one occurrence to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    /// Every `interval` days.
    Daily,
    /// On the rule's weekdays, every `interval` weeks (weeks start on Monday).
    Weekly,
    /// On the first occurrence's day of the month, every `interval` months; in shorter months on
    /// their last day.
    Monthly,
}

/// When the series stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeriesEnd {
    /// Exactly this many occurrences, the first included.
    AfterCount(u32),
    /// Every occurrence whose local start date is on or before this date (inclusive). The date is
    /// the one the rule lands on in the resource's zone, not a UTC date.
    OnDate(NaiveDate),
    /// As many occurrences as the caller's maximum allows: the predecessor's "never" also stopped
    /// at its cap of 100 rather than running forever.
    Never,
}

/// A validated recurrence rule. Build it with [`RecurrenceRule::new`]; once built it is valid, so
/// [`expand`] only has to check what depends on the first occurrence and the time zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecurrenceRule {
    frequency: Frequency,
    interval: NonZeroU32,
    weekdays: Vec<Weekday>,
    end: SeriesEnd,
}

/// Why a series cannot be expanded. The messages are shown to users as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    /// The rule's interval was 0.
    #[error("Interval must be at least 1")]
    ZeroInterval,
    /// Weekdays were given for a daily or monthly rule.
    #[error("days_of_week can only be given for weekly recurrence")]
    WeekdaysNeedWeekly,
    /// The rule yields nothing: a count of 0, or an end date before the first occurrence.
    #[error("No occurrences generated for the given rule")]
    NoOccurrences,
    /// The series would exceed the caller's maximum.
    #[error("A series can have at most {max} occurrences")]
    TooManyOccurrences { max: usize },
    /// `second` starts before `first` (the occurrence before it) ends.
    #[error("Occurrences of the series overlap each other ({first} and {second})")]
    SelfOverlap { first: Interval, second: Interval },
    /// The series runs past the last date chrono can represent (year 262142).
    #[error("Occurrences of the series fall outside the supported date range")]
    OutOfRange,
}

impl RecurrenceRule {
    /// Checks and normalises a rule: `interval` must be at least 1; `weekdays` are only for
    /// weekly rules (elsewhere they would be silently ignored, as the predecessor did) and are
    /// sorted from Monday and deduplicated. An empty list means the first occurrence's weekday.
    pub fn new(
        frequency: Frequency,
        interval: u32,
        mut weekdays: Vec<Weekday>,
        end: SeriesEnd,
    ) -> Result<RecurrenceRule, RecurrenceError> {
        let interval = NonZeroU32::new(interval).ok_or(RecurrenceError::ZeroInterval)?;
        if frequency != Frequency::Weekly && !weekdays.is_empty() {
            return Err(RecurrenceError::WeekdaysNeedWeekly);
        }
        weekdays.sort_by_key(Weekday::num_days_from_monday);
        weekdays.dedup();
        Ok(RecurrenceRule {
            frequency,
            interval,
            weekdays,
            end,
        })
    }

    /// Daily, weekly or monthly.
    pub fn frequency(&self) -> Frequency {
        self.frequency
    }

    /// Days, weeks or months between steps; at least 1 by construction.
    pub fn interval(&self) -> NonZeroU32 {
        self.interval
    }

    /// Sorted from Monday, without duplicates; empty unless weekly.
    pub fn weekdays(&self) -> &[Weekday] {
        &self.weekdays
    }

    /// When the series stops.
    pub fn end(&self) -> SeriesEnd {
        self.end
    }
}

/// The occurrences of `rule` starting with `first`, in order, expanded in `zone`.
///
/// `max_occurrences` is the most a series may have: `AfterCount(n)` with `n` above it and an
/// `OnDate` series that would produce more are refused with
/// [`RecurrenceError::TooManyOccurrences`]; a `Never` series has exactly `max_occurrences`.
///
/// Errors: [`RecurrenceError::NoOccurrences`] when the rule yields none (`AfterCount(0)`, an end
/// date before the first occurrence's local date, `Never` with a maximum of 0); [`RecurrenceError::SelfOverlap`] when an
/// occurrence starts before the previous one ends; [`RecurrenceError::OutOfRange`] when the
/// series would run past the last representable date.
pub fn expand(
    rule: &RecurrenceRule,
    first: Interval,
    zone: Tz,
    max_occurrences: usize,
) -> Result<Vec<Interval>, RecurrenceError> {
    let too_many = RecurrenceError::TooManyOccurrences { max: max_occurrences };
    let (wanted, last_date) = match rule.end {
        SeriesEnd::AfterCount(count) => {
            let count = usize::try_from(count).map_err(|_| too_many)?;
            if count > max_occurrences {
                return Err(too_many);
            }
            (count, None)
        }
        // One more than allowed, to tell "exactly the maximum" from "too many".
        SeriesEnd::OnDate(date) => (max_occurrences.saturating_add(1), Some(date)),
        SeriesEnd::Never => (max_occurrences, None),
    };

    let local_start = first.start().with_timezone(&zone).naive_local();
    let dates = calendar::dates(rule, local_start.date())
        .take_while(|date| last_date.is_none_or(|last| *date <= last))
        .take(wanted);

    let mut occurrences: Vec<Interval> = Vec::new();
    for date in dates {
        let occurrence = match occurrences.last() {
            None => first,
            Some(previous) => {
                let start =
                    wall_clock::instant(zone, date.and_time(local_start.time())).ok_or(RecurrenceError::OutOfRange)?;
                let next = Interval::starting_at(start, first.duration()).map_err(|_| RecurrenceError::OutOfRange)?;
                // Starts never decrease (see `wall_clock`), so comparing neighbours finds every
                // overlap: if any two occurrences overlapped, the one right after the first of
                // them would start inside it too.
                if next.start() < previous.end() {
                    return Err(RecurrenceError::SelfOverlap {
                        first: *previous,
                        second: next,
                    });
                }
                next
            }
        };
        occurrences.push(occurrence);
    }

    match occurrences.len() {
        0 => Err(RecurrenceError::NoOccurrences),
        n if n > max_occurrences => Err(too_many),
        // The calendar ran out of representable dates before the count was reached.
        n if last_date.is_none() && n < wanted => Err(RecurrenceError::OutOfRange),
        _ => Ok(occurrences),
    }
}
