//! Series across DST changes and odd offsets: the wall-clock time is kept, a time that does not
//! exist moves forward by the gap, a time that exists twice is the earlier instant, and month ends
//! and leap days fall where a calendar puts them.

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use chrono_tz::{America, Asia, Australia, Europe::Berlin, Pacific};
use reserver_actors::domain::{Frequency, RecurrenceError, SeriesEnd, expand};

use crate::support::{at, date, expand_ok, lasting, local, local_starts, offsets, rule, utc};

const HOUR: i32 = 3600;

/// A weekly Sunday 09:00 series through all of 2026 (Sundays are when most zones switch), in
/// `zone`: every occurrence is at 09:00 local on the expected Sunday, and the offsets seen are
/// exactly `expected_offsets` (two when the zone has DST, proving both switches were crossed).
fn assert_weekly_sunday_nine_oclock_all_year(zone: Tz, expected_offsets: &[i32]) {
    let first = lasting(at(zone, 2026, 1, 4, 9, 0), 60);
    let series = expand_ok(&rule(Frequency::Weekly, 1, &[], SeriesEnd::AfterCount(53)), first, zone);
    let expected: Vec<_> = (0..53)
        .map(|week| (date(2026, 1, 4) + Duration::weeks(week)).and_hms_opt(9, 0, 0).unwrap())
        .collect();
    assert_eq!(local_starts(&series, zone), expected, "{zone}");
    let mut seen = offsets(&series, zone);
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen, expected_offsets, "{zone}");
}

#[test]
fn weekly_nine_oclock_in_berlin_stays_at_nine_across_both_2026_switches() {
    assert_weekly_sunday_nine_oclock_all_year(Berlin, &[HOUR, 2 * HOUR]);
    // The switch days themselves, 29 March and 25 October, and the Sundays before them.
    let first = lasting(at(Berlin, 2026, 3, 22, 9, 0), 60);
    let series = expand_ok(
        &rule(Frequency::Weekly, 1, &[], SeriesEnd::AfterCount(32)),
        first,
        Berlin,
    );
    assert_eq!(series[0].start(), utc(2026, 3, 22, 8, 0));
    assert_eq!(series[1].start(), utc(2026, 3, 29, 7, 0));
    assert_eq!(series[30].start(), utc(2026, 10, 18, 7, 0));
    assert_eq!(series[31].start(), utc(2026, 10, 25, 8, 0));
}

#[test]
fn weekly_nine_oclock_in_new_york_stays_at_nine() {
    assert_weekly_sunday_nine_oclock_all_year(America::New_York, &[-5 * HOUR, -4 * HOUR]);
}

#[test]
fn weekly_nine_oclock_in_sydney_stays_at_nine_with_southern_dst() {
    // Summer time at both ends of the year, standard time from April to October.
    assert_weekly_sunday_nine_oclock_all_year(Australia::Sydney, &[10 * HOUR, 11 * HOUR]);
    let first = lasting(at(Australia::Sydney, 2026, 3, 29, 9, 0), 60);
    let series = expand_ok(
        &rule(Frequency::Weekly, 1, &[], SeriesEnd::AfterCount(2)),
        first,
        Australia::Sydney,
    );
    assert_eq!(offsets(&series, Australia::Sydney), [11 * HOUR, 10 * HOUR]);
}

#[test]
fn weekly_nine_oclock_in_kolkata_keeps_its_half_hour_offset() {
    assert_weekly_sunday_nine_oclock_all_year(Asia::Kolkata, &[5 * HOUR + HOUR / 2]);
}

#[test]
fn weekly_nine_oclock_in_chatham_keeps_its_three_quarter_hour_offsets() {
    assert_weekly_sunday_nine_oclock_all_year(Pacific::Chatham, &[12 * HOUR + 45 * 60, 13 * HOUR + 45 * 60]);
}

#[test]
fn weekly_nine_oclock_in_sao_paulo_follows_dst_until_it_was_abolished() {
    // Brazil's last summer time ran from 4 November 2018 to 17 February 2019; November 2019
    // would have been the next switch and must change nothing.
    let zone = America::Sao_Paulo;
    let first = lasting(at(zone, 2018, 10, 28, 9, 0), 60);
    let series = expand_ok(&rule(Frequency::Weekly, 1, &[], SeriesEnd::AfterCount(60)), first, zone);
    assert!(
        local_starts(&series, zone)
            .iter()
            .all(|start| start.time() == local(2018, 1, 1, 9, 0).time())
    );
    let summer = date(2018, 11, 4)..date(2019, 2, 17);
    for (occurrence, offset) in local_starts(&series, zone).iter().zip(offsets(&series, zone)) {
        let expected = if summer.contains(&occurrence.date()) {
            -2 * HOUR
        } else {
            -3 * HOUR
        };
        assert_eq!(offset, expected, "{occurrence}");
    }
}

#[test]
fn daily_half_past_two_in_berlin_moves_to_half_past_three_on_spring_forward_day() {
    // 02:00–03:00 does not exist on 29 March 2026. The documented rule: read the time with the
    // offset before the change (CET), i.e. move it forward by the gap, to 03:30 CEST.
    let first = lasting(at(Berlin, 2026, 3, 27, 2, 30), 60);
    let series = expand_ok(&rule(Frequency::Daily, 1, &[], SeriesEnd::AfterCount(4)), first, Berlin);
    assert_eq!(
        local_starts(&series, Berlin),
        [
            local(2026, 3, 27, 2, 30),
            local(2026, 3, 28, 2, 30),
            local(2026, 3, 29, 3, 30),
            local(2026, 3, 30, 2, 30)
        ]
    );
    assert_eq!(series[2].start(), utc(2026, 3, 29, 1, 30));
    assert!(
        series
            .iter()
            .all(|occurrence| occurrence.duration() == Duration::hours(1))
    );
}

#[test]
fn daily_half_past_two_in_berlin_takes_the_earlier_instant_on_fall_back_day() {
    // 02:00–03:00 happens twice on 25 October 2026: first in CEST (+02:00), then in CET.
    let first = lasting(at(Berlin, 2026, 10, 24, 2, 30), 60);
    let series = expand_ok(&rule(Frequency::Daily, 1, &[], SeriesEnd::AfterCount(3)), first, Berlin);
    assert_eq!(
        local_starts(&series, Berlin),
        [
            local(2026, 10, 24, 2, 30),
            local(2026, 10, 25, 2, 30),
            local(2026, 10, 26, 2, 30)
        ]
    );
    assert_eq!(series[1].start(), utc(2026, 10, 25, 0, 30));
    assert_eq!(offsets(&series, Berlin), [2 * HOUR, 2 * HOUR, HOUR]);
}

#[test]
fn a_first_occurrence_at_the_later_of_two_equal_readings_is_kept_as_given() {
    let first = lasting(utc(2026, 10, 25, 1, 30), 60); // 02:30 CET, the second 02:30 that night
    let series = expand_ok(&rule(Frequency::Daily, 1, &[], SeriesEnd::AfterCount(2)), first, Berlin);
    assert_eq!(series[0], first);
    assert_eq!(series[1].start(), utc(2026, 10, 26, 1, 30));
}

#[test]
fn a_day_long_booking_repeated_daily_overlaps_itself_on_the_23_hour_day() {
    // Durations are elapsed time: 24 hours from 09:00 CET on 28 March end at 10:00 CEST on the
    // 29th, after that day's 09:00 occurrence has begun. On the 25-hour day they leave a gap.
    let spring = lasting(at(Berlin, 2026, 3, 28, 9, 0), 24 * 60);
    let error = expand(
        &rule(Frequency::Daily, 1, &[], SeriesEnd::AfterCount(3)),
        spring,
        Berlin,
        100,
    )
    .unwrap_err();
    let second = lasting(utc(2026, 3, 29, 7, 0), 24 * 60);
    assert_eq!(error, RecurrenceError::SelfOverlap { first: spring, second });

    let autumn = lasting(at(Berlin, 2026, 10, 24, 9, 0), 24 * 60);
    let series = expand_ok(
        &rule(Frequency::Daily, 1, &[], SeriesEnd::AfterCount(3)),
        autumn,
        Berlin,
    );
    assert_eq!(series[1].start() - series[0].end(), Duration::hours(1));
}

#[test]
fn a_daily_series_across_the_day_samoa_skipped_reports_the_collision() {
    // Samoa jumped from 29 to 31 December 2011 (-10:00 to +14:00): the whole 30th is a gap, so
    // its occurrence moves forward by 24 hours, onto the 31st's. Refused rather than doubled.
    let zone = Pacific::Apia;
    let first = lasting(at(zone, 2011, 12, 28, 9, 0), 60);
    let error = expand(
        &rule(Frequency::Daily, 1, &[], SeriesEnd::AfterCount(5)),
        first,
        zone,
        100,
    )
    .unwrap_err();
    let collision = lasting(utc(2011, 12, 30, 19, 0), 60);
    assert_eq!(
        error,
        RecurrenceError::SelfOverlap {
            first: collision,
            second: collision
        }
    );
}

#[test]
fn monthly_from_leap_day_continues_on_the_29th() {
    let first = lasting(at(Berlin, 2028, 2, 29, 9, 0), 60);
    let series = expand_ok(
        &rule(Frequency::Monthly, 1, &[], SeriesEnd::AfterCount(14)),
        first,
        Berlin,
    );
    let dates: Vec<NaiveDate> = local_starts(&series, Berlin).iter().map(|start| start.date()).collect();
    assert_eq!(dates[1], date(2028, 3, 29));
    assert_eq!(dates[12], date(2029, 2, 28));
    assert_eq!(dates[13], date(2029, 3, 29));
    assert!(
        local_starts(&series, Berlin)
            .iter()
            .all(|start| start.time() == local(2028, 1, 1, 9, 0).time())
    );
}

#[test]
fn monthly_from_january_31_lands_on_leap_day_and_back_on_the_31st() {
    let first = lasting(at(Berlin, 2028, 1, 31, 9, 0), 60);
    let series = expand_ok(
        &rule(Frequency::Monthly, 1, &[], SeriesEnd::AfterCount(3)),
        first,
        Berlin,
    );
    // 31 March 2028 is after Berlin's switch to summer time on the 26th: still 09:00.
    assert_eq!(
        local_starts(&series, Berlin),
        [
            local(2028, 1, 31, 9, 0),
            local(2028, 2, 29, 9, 0),
            local(2028, 3, 31, 9, 0)
        ]
    );
}
