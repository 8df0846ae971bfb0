//! `OpeningHours` on random weeks, blackout dates, zones and intervals, against a brute-force
//! model: every minute of the interval read on the zone's wall clock (`with_timezone`, no
//! cutting into pieces, no bisection) is open iff its local date is no blackout date and its
//! local time lies in that weekday's hours. Intervals are biased towards the zone's DST changes
//! and towards midnight-spanning hours (opening at 00:00, closing at 24:00).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use reserver_actors::domain::{DayHours, Interval, NotOpen, OpeningHours, TimeOfDay};

use crate::expand_properties::ZONES;

#[derive(Debug, Clone)]
struct Case {
    zone: Tz,
    /// Monday first; `None`: no hours configured.
    week: Option<[DayHours; 7]>,
    blackouts: Vec<(NaiveDate, Option<String>)>,
    interval: Interval,
}

fn quarter(n: u32) -> TimeOfDay {
    TimeOfDay::from_hms(n / 4, n % 4 * 15, 0).unwrap()
}

fn day() -> impl Strategy<Value = DayHours> {
    (0..6u8, 0..96u32, 1..=96u32).prop_map(|(kind, a, b)| {
        let (open, close) = match kind {
            0 => return DayHours::Closed,
            1 => (0, 96),
            2 => (0, b),
            3 => (a, 96),
            _ => (a.min(b), a.max(b)),
        };
        DayHours::open(quarter(open), quarter(close)).unwrap_or(DayHours::Closed)
    })
}

/// An instant at which `zone` changes its offset in the given month, if it does.
fn transition_in(zone: Tz, year: i32, month: u32) -> Option<DateTime<Utc>> {
    let offset = |t: DateTime<Utc>| t.with_timezone(&zone).offset().to_owned();
    let start = Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single()?;
    (0..31).map(|d| start + Duration::days(d)).find_map(|day| {
        let next = day + Duration::days(1);
        (offset(day) != offset(next)).then(|| {
            let mut t = day;
            while offset(t) == offset(day) {
                t += Duration::minutes(15);
            }
            t
        })
    })
}

fn case() -> impl Strategy<Value = Case> {
    let week = prop_oneof![1 => Just(None), 5 => prop::array::uniform7(day()).prop_map(Some)];
    let blackouts = prop::collection::vec((-1..4i64, prop::option::of("[a-z]{1,8}")), 0..3);
    (
        (0..ZONES.len(), 2016..2038i32, 1..=12u32, any::<bool>()),
        (-48 * 4..48 * 4i64, prop_oneof![1..12 * 4i64, 1..72 * 4i64], 0..15i64),
        week,
        blackouts,
    )
        .prop_map(
            |((zone, year, month, near_change), (shift, quarters, minutes), week, blackouts)| {
                let zone = ZONES[zone];
                let month_start = Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).unwrap();
                let anchor = near_change
                    .then(|| transition_in(zone, year, month))
                    .flatten()
                    .unwrap_or(month_start + Duration::days(11));
                let start = anchor + Duration::minutes(shift * 15 + minutes);
                let interval = Interval::starting_at(start, Duration::minutes(quarters * 15)).unwrap();
                let first = start.with_timezone(&zone).date_naive();
                let blackouts = blackouts
                    .into_iter()
                    .map(|(days, reason)| (first + Duration::days(days), reason))
                    .collect();
                Case {
                    zone,
                    week,
                    blackouts,
                    interval,
                }
            },
        )
}

fn hours_of(case: &Case) -> OpeningHours {
    let week = case.week.map_or_else(Vec::new, |week| {
        (0..7u8)
            .map(|d| (Weekday::try_from(d).unwrap(), week[usize::from(d)]))
            .collect()
    });
    case.blackouts
        .iter()
        .fold(OpeningHours::weekly(week), |hours, (date, reason)| {
            hours.with_blackout(*date, reason.clone())
        })
}

/// The model's verdict on one minute: open, or why not.
fn minute(case: &Case, instant: DateTime<Utc>) -> Result<(), NotOpen> {
    let reading: NaiveDateTime = instant.with_timezone(&case.zone).naive_local();
    if let Some((date, _)) = case.blackouts.iter().find(|(date, _)| *date == reading.date()) {
        // The first reason given for a date wins.
        let reason = case
            .blackouts
            .iter()
            .find(|(d, r)| d == date && r.is_some())
            .and_then(|(_, r)| r.clone());
        return Err(NotOpen::Blackout { date: *date, reason });
    }
    let Some(week) = case.week else { return Ok(()) };
    let seconds = reading.time().num_seconds_from_midnight();
    let open = match week[reading.weekday().num_days_from_monday() as usize] {
        DayHours::Closed => false,
        DayHours::Open { open, close } => open.seconds() <= seconds && seconds < close.seconds(),
    };
    if open {
        Ok(())
    } else {
        Err(NotOpen::Closed {
            at: reading,
            zone: case.zone,
        })
    }
}

fn minutes(interval: &Interval) -> impl Iterator<Item = DateTime<Utc>> + '_ {
    (0..interval.duration().num_minutes()).map(|m| interval.start() + Duration::minutes(m))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn check_matches_the_minute_model(case in case()) {
        let expected = minutes(&case.interval).map(|m| minute(&case, m)).find(Result::is_err).unwrap_or(Ok(()));
        prop_assert_eq!(hours_of(&case).check(case.zone, &case.interval), expected);
    }

    #[test]
    fn open_parts_are_exactly_the_open_minutes(case in case()) {
        let hours = hours_of(&case);
        let parts: Vec<Interval> = hours.open_parts(case.zone, &case.interval).collect();
        for pair in parts.windows(2) {
            // In order, and never touching: touching parts would have been merged.
            prop_assert!(pair[0].end() < pair[1].start());
        }
        for m in minutes(&case.interval) {
            let in_parts = parts.iter().any(|p| p.contains(m));
            prop_assert_eq!(in_parts, minute(&case, m).is_ok(), "minute {}", m);
        }
        // Each part is open throughout, by `check` too.
        for part in &parts {
            prop_assert_eq!(hours_of(&case).check(case.zone, part), Ok(()));
        }
    }
}
