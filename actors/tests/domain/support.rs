//! Helpers shared by the domain tests: readable instants, and series seen on the local clock.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use reserver_actors::domain::{Frequency, Interval, RecurrenceRule, SeriesEnd, expand};

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
    date(y, mo, d).and_hms_opt(h, mi, 0).unwrap()
}

/// The unique instant the wall clock in `zone` shows `y-mo-d h:mi` (panics in a gap or overlap:
/// tests pick unambiguous first occurrences).
pub fn at(zone: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    zone.from_local_datetime(&local(y, mo, d, h, mi))
        .single()
        .unwrap()
        .to_utc()
}

pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    local(y, mo, d, h, mi).and_utc()
}

/// `[start, start + minutes)`.
pub fn lasting(start: DateTime<Utc>, minutes: i64) -> Interval {
    Interval::starting_at(start, Duration::minutes(minutes)).unwrap()
}

pub fn rule(frequency: Frequency, interval: u32, weekdays: &[chrono::Weekday], end: SeriesEnd) -> RecurrenceRule {
    RecurrenceRule::new(frequency, interval, weekdays.to_vec(), end).unwrap()
}

/// The occurrences' starts as the wall clock in `zone` shows them.
pub fn local_starts(occurrences: &[Interval], zone: Tz) -> Vec<NaiveDateTime> {
    occurrences
        .iter()
        .map(|occurrence| occurrence.start().with_timezone(&zone).naive_local())
        .collect()
}

/// The UTC offsets, in seconds, in force at the occurrences' starts.
pub fn offsets(occurrences: &[Interval], zone: Tz) -> Vec<i32> {
    use chrono::Offset;
    occurrences
        .iter()
        .map(|occurrence| occurrence.start().with_timezone(&zone).offset().fix().local_minus_utc())
        .collect()
}

/// Expands a series expected to succeed, with the predecessor's cap of 100.
pub fn expand_ok(rule: &RecurrenceRule, first: Interval, zone: Tz) -> Vec<Interval> {
    expand(rule, first, zone, 100).unwrap()
}
