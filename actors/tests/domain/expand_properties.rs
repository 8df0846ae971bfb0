//! `expand` on random rules, first occurrences and zones, against an independent model: calendar
//! dates computed the slow, obvious way (weekly day by day, monthly with hand-written month
//! lengths) joined with the first occurrence's local time, read in the zone by the documented
//! rules. First occurrences are biased towards the night hours in which zones change offset.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, Offset, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use reserver_actors::domain::{Frequency, Interval, RecurrenceError, RecurrenceRule, SeriesEnd, expand};

use crate::support::date;

/// Zones with DST on either hemisphere, half- and quarter-hour offsets, a 30-minute and a 2-hour
/// DST, changes at midnight, negative DST (Dublin), Ramadan suspensions (Casablanca), and DST
/// abolished within the tested years (São Paulo 2019, Apia 2021).
pub(crate) const ZONES: [Tz; 15] = [
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Sydney,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Pacific::Chatham,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::America::Santiago,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::Antarctica::Troll,
    chrono_tz::Asia::Kathmandu,
    chrono_tz::America::St_Johns,
    chrono_tz::Europe::Dublin,
    chrono_tz::Africa::Casablanca,
    chrono_tz::America::Havana,
    chrono_tz::Pacific::Apia,
];

const FREQUENCIES: [Frequency; 3] = [Frequency::Daily, Frequency::Weekly, Frequency::Monthly];

#[derive(Debug, Clone, Copy)]
enum End {
    Count(u32),
    DaysAfterFirst(i64),
    Never,
}

#[derive(Debug, Clone)]
struct Case {
    zone: Tz,
    /// Local date and time of the first occurrence's start.
    first_local: (NaiveDate, NaiveTime),
    /// Take the later instant when the first local time occurs twice.
    later: bool,
    minutes: i64,
    frequency: Frequency,
    interval: u32,
    weekdays: Vec<Weekday>,
    end: End,
    max: usize,
}

fn case() -> impl Strategy<Value = Case> {
    let slot = prop_oneof![0..96u32, 0..16u32]; // quarter hours; half of them 00:00–03:45
    let minutes = prop_oneof![3 => 1..40i64, 1 => 40..300i64].prop_map(|quarters| quarters * 15);
    let end = prop_oneof![
        (0..70u32).prop_map(End::Count),
        (-3..400i64).prop_map(End::DaysAfterFirst),
        Just(End::Never),
    ];
    let weekdays = prop::collection::vec((0..7u8).prop_map(weekday), 0..4);
    (
        (0..ZONES.len(), 0..25 * 365i64, slot, any::<bool>(), minutes),
        (0..3usize, 1..5u32, weekdays, end, 0..60usize),
    )
        .prop_map(
            |((zone, day, slot, later, minutes), (frequency, interval, weekdays, end, max))| {
                let frequency = FREQUENCIES[frequency];
                Case {
                    zone: ZONES[zone],
                    first_local: (
                        date(2015, 1, 1) + Duration::days(day),
                        NaiveTime::from_hms_opt(slot / 4, slot % 4 * 15, 0).unwrap(),
                    ),
                    later,
                    minutes,
                    frequency,
                    interval,
                    weekdays: if frequency == Frequency::Weekly {
                        weekdays
                    } else {
                        vec![]
                    },
                    end,
                    max,
                }
            },
        )
}

fn weekday(days_from_monday: u8) -> Weekday {
    Weekday::try_from(days_from_monday).unwrap()
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month as usize - 1]
}

/// The first `n` dates of the series, the slow way.
fn model_dates(case: &Case, first: NaiveDate, n: usize) -> Vec<NaiveDate> {
    let step = i64::from(case.interval);
    match case.frequency {
        Frequency::Daily => (0..n as i64).map(|k| first + Duration::days(k * step)).collect(),
        Frequency::Weekly => {
            let days = if case.weekdays.is_empty() {
                vec![first.weekday()]
            } else {
                case.weekdays.clone()
            };
            let first_monday = first - Duration::days(i64::from(first.weekday().num_days_from_monday()));
            let mut dates = vec![first];
            let mut day = first;
            while dates.len() < n {
                day = day.succ_opt().unwrap();
                let week = (day - first_monday).num_days() / 7;
                if week % step == 0 && days.contains(&day.weekday()) {
                    dates.push(day);
                }
            }
            dates.truncate(n);
            dates
        }
        Frequency::Monthly => (0..n as i64)
            .map(|k| {
                let months = i64::from(first.year()) * 12 + i64::from(first.month0()) + k * step;
                let (year, month) = (i32::try_from(months / 12).unwrap(), (months % 12) as u32 + 1);
                date(year, month, first.day().min(days_in_month(year, month)))
            })
            .collect(),
    }
}

fn offset(zone: Tz, instant: DateTime<Utc>) -> Duration {
    Duration::seconds(i64::from(instant.with_timezone(&zone).offset().fix().local_minus_utc()))
}

/// The occurrence on `day` must start at the first's local time by the documented rules.
fn check_wall_clock(zone: Tz, day: NaiveDate, time: NaiveTime, occurrence: &Interval) -> Result<(), TestCaseError> {
    let reading = day.and_time(time);
    let start = occurrence.start();
    match zone.from_local_datetime(&reading) {
        LocalResult::Single(instant) => prop_assert_eq!(start, instant.to_utc(), "{} in {}", reading, zone),
        LocalResult::Ambiguous(a, b) => prop_assert_eq!(start, a.to_utc().min(b.to_utc()), "{} in {}", reading, zone),
        LocalResult::None => {
            // In a gap: moved forward by exactly the gap, i.e. the offset change at that instant.
            let shift = start.with_timezone(&zone).naive_local() - reading;
            prop_assert!(
                shift > Duration::zero() && shift <= Duration::hours(2),
                "{} in {}",
                reading,
                zone
            );
            prop_assert_eq!(
                shift,
                offset(zone, start) - offset(zone, start - shift),
                "{} in {}",
                reading,
                zone
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn expansion_matches_the_model(case in case()) {
        let (first_date, first_time) = case.first_local;
        let start = match case.zone.from_local_datetime(&first_date.and_time(first_time)) {
            LocalResult::Single(instant) => instant,
            LocalResult::Ambiguous(a, b) => if case.later { b } else { a },
            LocalResult::None => return Err(TestCaseError::reject("first start in a gap")),
        };
        let first = Interval::starting_at(start.to_utc(), Duration::minutes(case.minutes)).unwrap();
        let end = match case.end {
            End::Count(count) => SeriesEnd::AfterCount(count),
            End::DaysAfterFirst(days) => SeriesEnd::OnDate(first_date + Duration::days(days)),
            End::Never => SeriesEnd::Never,
        };
        let rule = RecurrenceRule::new(case.frequency, case.interval, case.weekdays.clone(), end).unwrap();

        match expand(&rule, first, case.zone, case.max) {
            Ok(series) => {
                prop_assert_eq!(series[0], first);
                prop_assert!(series.len() <= case.max);
                prop_assert!(series.iter().all(|occurrence| occurrence.duration() == first.duration()));
                prop_assert!(series.windows(2).all(|pair| pair[0].end() <= pair[1].start()), "in order, apart");
                let dates = model_dates(&case, first_date, series.len() + 1);
                for (occurrence, day) in series.iter().zip(&dates).skip(1) {
                    check_wall_clock(case.zone, *day, first_time, occurrence)?;
                }
                match end {
                    SeriesEnd::AfterCount(count) => prop_assert_eq!(series.len(), count as usize),
                    SeriesEnd::Never => prop_assert_eq!(series.len(), case.max),
                    SeriesEnd::OnDate(last) => {
                        prop_assert!(dates[series.len() - 1] <= last);
                        prop_assert!(dates[series.len()] > last, "stopped early");
                    }
                }
            }
            Err(RecurrenceError::NoOccurrences) => match end {
                SeriesEnd::AfterCount(count) => prop_assert_eq!(count, 0),
                SeriesEnd::Never => prop_assert_eq!(case.max, 0),
                SeriesEnd::OnDate(last) => prop_assert!(last < first_date),
            },
            Err(RecurrenceError::TooManyOccurrences { max }) => {
                prop_assert_eq!(max, case.max);
                match end {
                    SeriesEnd::AfterCount(count) => prop_assert!(count as usize > case.max),
                    SeriesEnd::OnDate(last) => prop_assert!(model_dates(&case, first_date, case.max + 1)[case.max] <= last),
                    SeriesEnd::Never => prop_assert!(false, "a never-ending series has exactly the maximum"),
                }
            }
            Err(RecurrenceError::SelfOverlap { first: a, second: b }) => {
                prop_assert!(a.overlaps(&b) && a.start() <= b.start());
                prop_assert_eq!(a.duration(), first.duration());
                // Consecutive starts are at least a day minus the largest DST change (2 h) apart.
                prop_assert!(first.duration() > Duration::hours(20), "{} and {}", a, b);
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}
