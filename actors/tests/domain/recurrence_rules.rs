//! The rules of a series, zone aside: steps, weekdays, month ends, where a series stops, and the
//! errors users see. Examples marked "predecessor" are cases where the Python original went wrong
//! (docs/src/compatibility.md).

use chrono::Weekday::{Fri, Mon, Sat, Tue, Wed};
use chrono_tz::{Europe::Berlin, UTC};
use reserver_actors::domain::{Frequency, RecurrenceError, RecurrenceRule, SeriesEnd, expand};

use crate::support::{at, date, expand_ok, lasting, local, local_starts, rule, utc};

#[test]
fn an_interval_of_zero_is_refused_with_the_predecessors_message() {
    let error = RecurrenceRule::new(Frequency::Daily, 0, vec![], SeriesEnd::Never).unwrap_err();
    assert_eq!(error, RecurrenceError::ZeroInterval);
    assert_eq!(error.to_string(), "Interval must be at least 1");
}

#[test]
fn weekdays_are_refused_outside_weekly_rules() {
    for frequency in [Frequency::Daily, Frequency::Monthly] {
        let error = RecurrenceRule::new(frequency, 1, vec![Mon], SeriesEnd::Never).unwrap_err();
        assert_eq!(error, RecurrenceError::WeekdaysNeedWeekly);
    }
}

#[test]
fn weekdays_are_sorted_from_monday_and_deduplicated() {
    let rule = rule(Frequency::Weekly, 1, &[Fri, Mon, Fri, Wed, Mon], SeriesEnd::Never);
    assert_eq!(rule.weekdays(), [Mon, Wed, Fri]);
}

#[test]
fn predecessor_example_weekly_mon_wed_fri_four_times_from_a_monday() {
    let first = lasting(utc(2026, 1, 5, 10, 0), 60); // a Monday
    let series = expand_ok(
        &rule(Frequency::Weekly, 1, &[Mon, Wed, Fri], SeriesEnd::AfterCount(4)),
        first,
        UTC,
    );
    assert_eq!(
        local_starts(&series, UTC),
        [
            local(2026, 1, 5, 10, 0),
            local(2026, 1, 7, 10, 0),
            local(2026, 1, 9, 10, 0),
            local(2026, 1, 12, 10, 0)
        ]
    );
    assert!(
        series
            .iter()
            .all(|occurrence| occurrence.duration() == first.duration())
    );
}

#[test]
fn weekly_every_second_week_skips_the_weeks_between() {
    let first = lasting(utc(2026, 1, 7, 10, 0), 30); // a Wednesday
    let series = expand_ok(
        &rule(Frequency::Weekly, 2, &[Tue, Sat], SeriesEnd::AfterCount(4)),
        first,
        UTC,
    );
    assert_eq!(
        local_starts(&series, UTC),
        [
            local(2026, 1, 7, 10, 0),
            local(2026, 1, 10, 10, 0),
            local(2026, 1, 20, 10, 0),
            local(2026, 1, 24, 10, 0)
        ]
    );
}

#[test]
fn the_first_occurrence_is_the_given_one_even_off_the_weekday_list() {
    // RFC 5545: DTSTART is always the first instance. The predecessor dropped the Monday here.
    let first = lasting(utc(2026, 1, 5, 10, 0), 60); // a Monday
    let series = expand_ok(
        &rule(Frequency::Weekly, 1, &[Tue], SeriesEnd::AfterCount(3)),
        first,
        UTC,
    );
    assert_eq!(series[0], first);
    assert_eq!(
        local_starts(&series, UTC),
        [
            local(2026, 1, 5, 10, 0),
            local(2026, 1, 6, 10, 0),
            local(2026, 1, 13, 10, 0)
        ]
    );
}

#[test]
fn daily_steps_by_the_interval() {
    let first = lasting(utc(2026, 2, 27, 8, 0), 45);
    let series = expand_ok(&rule(Frequency::Daily, 2, &[], SeriesEnd::AfterCount(3)), first, UTC);
    assert_eq!(
        local_starts(&series, UTC),
        [
            local(2026, 2, 27, 8, 0),
            local(2026, 3, 1, 8, 0),
            local(2026, 3, 3, 8, 0)
        ]
    );
}

#[test]
fn monthly_from_january_31_clamps_each_month_from_the_original_day() {
    // The predecessor clamped the previous occurrence and drifted: Jan 31, Feb 28, Mar 28, …
    let first = lasting(utc(2026, 1, 31, 9, 0), 60);
    let series = expand_ok(&rule(Frequency::Monthly, 1, &[], SeriesEnd::AfterCount(4)), first, UTC);
    assert_eq!(
        local_starts(&series, UTC),
        [
            local(2026, 1, 31, 9, 0),
            local(2026, 2, 28, 9, 0),
            local(2026, 3, 31, 9, 0),
            local(2026, 4, 30, 9, 0)
        ]
    );
}

#[test]
fn monthly_every_third_month_crosses_the_year() {
    let first = lasting(utc(2026, 11, 30, 9, 0), 60);
    let series = expand_ok(&rule(Frequency::Monthly, 3, &[], SeriesEnd::AfterCount(3)), first, UTC);
    assert_eq!(
        local_starts(&series, UTC),
        [
            local(2026, 11, 30, 9, 0),
            local(2027, 2, 28, 9, 0),
            local(2027, 5, 30, 9, 0)
        ]
    );
}

#[test]
fn predecessor_example_monthly_until_a_date_about_100_days_later() {
    let first = lasting(utc(2026, 1, 10, 9, 0), 60);
    let series = expand_ok(
        &rule(Frequency::Monthly, 1, &[], SeriesEnd::OnDate(date(2026, 4, 20))),
        first,
        UTC,
    );
    assert_eq!(series.len(), 4);
}

#[test]
fn after_count_gives_exactly_that_many() {
    let first = lasting(utc(2026, 1, 5, 10, 0), 60);
    for count in [1, 2, 7, 100] {
        let series = expand_ok(
            &rule(Frequency::Daily, 1, &[], SeriesEnd::AfterCount(count)),
            first,
            UTC,
        );
        assert_eq!(series.len(), count as usize);
        assert_eq!(series[0], first);
    }
}

#[test]
fn after_count_above_the_maximum_is_refused() {
    let first = lasting(utc(2026, 1, 5, 10, 0), 60);
    let error = expand(
        &rule(Frequency::Daily, 1, &[], SeriesEnd::AfterCount(101)),
        first,
        UTC,
        100,
    )
    .unwrap_err();
    assert_eq!(error, RecurrenceError::TooManyOccurrences { max: 100 });
    assert_eq!(error.to_string(), "A series can have at most 100 occurrences");
}

#[test]
fn an_empty_series_is_refused_with_the_predecessors_message() {
    let first = lasting(utc(2026, 1, 5, 10, 0), 60);
    let cases = [
        (SeriesEnd::AfterCount(0), 100),
        (SeriesEnd::OnDate(date(2026, 1, 4)), 100),
        (SeriesEnd::Never, 0),
    ];
    for (end, max) in cases {
        let error = expand(&rule(Frequency::Daily, 1, &[], end), first, UTC, max).unwrap_err();
        assert_eq!(error, RecurrenceError::NoOccurrences, "{end:?} with at most {max}");
        assert_eq!(error.to_string(), "No occurrences generated for the given rule");
    }
}

#[test]
fn the_end_date_is_inclusive_and_read_on_the_local_calendar() {
    // 00:30 in Berlin is 23:30 UTC the day before: the end date counts Berlin days.
    let first = lasting(at(Berlin, 2026, 1, 1, 0, 30), 60);
    let series = expand_ok(
        &rule(Frequency::Daily, 1, &[], SeriesEnd::OnDate(date(2026, 1, 3))),
        first,
        Berlin,
    );
    assert_eq!(
        local_starts(&series, Berlin),
        [
            local(2026, 1, 1, 0, 30),
            local(2026, 1, 2, 0, 30),
            local(2026, 1, 3, 0, 30)
        ]
    );
    assert_eq!(series[2].start(), utc(2026, 1, 2, 23, 30));
}

#[test]
fn an_end_date_allowing_exactly_the_maximum_is_accepted() {
    let first = lasting(utc(2026, 1, 1, 9, 0), 60);
    let series = expand(
        &rule(Frequency::Daily, 1, &[], SeriesEnd::OnDate(date(2026, 1, 10))),
        first,
        UTC,
        10,
    )
    .unwrap();
    assert_eq!(series.len(), 10);
}

#[test]
fn an_end_date_in_year_9999_is_refused_after_looking_at_max_plus_one_dates() {
    // Bounded work: this returns at once instead of walking 2.9 million days.
    let first = lasting(utc(2026, 1, 1, 9, 0), 60);
    let error = expand(
        &rule(Frequency::Daily, 1, &[], SeriesEnd::OnDate(date(9999, 12, 31))),
        first,
        UTC,
        100,
    )
    .unwrap_err();
    assert_eq!(error, RecurrenceError::TooManyOccurrences { max: 100 });
}

#[test]
fn never_ending_series_have_exactly_the_maximum() {
    let first = lasting(utc(2026, 1, 1, 9, 0), 60);
    for frequency in [Frequency::Daily, Frequency::Weekly, Frequency::Monthly] {
        let series = expand_ok(&rule(frequency, 1, &[], SeriesEnd::Never), first, UTC);
        assert_eq!(series.len(), 100, "{frequency:?}");
    }
}

#[test]
fn a_two_day_booking_repeated_daily_overlaps_itself() {
    let first = lasting(utc(2026, 1, 1, 9, 0), 2 * 24 * 60);
    let error = expand(
        &rule(Frequency::Daily, 1, &[], SeriesEnd::AfterCount(3)),
        first,
        UTC,
        100,
    )
    .unwrap_err();
    let second = lasting(utc(2026, 1, 2, 9, 0), 2 * 24 * 60);
    assert_eq!(error, RecurrenceError::SelfOverlap { first, second });
    assert_eq!(
        error.to_string(),
        "Occurrences of the series overlap each other \
         (2026-01-01T09:00:00Z to 2026-01-03T09:00:00Z and 2026-01-02T09:00:00Z to 2026-01-04T09:00:00Z)"
    );
}

#[test]
fn back_to_back_occurrences_do_not_overlap() {
    let first = lasting(utc(2026, 1, 1, 9, 0), 24 * 60);
    let series = expand_ok(&rule(Frequency::Daily, 1, &[], SeriesEnd::AfterCount(5)), first, UTC);
    assert!(series.windows(2).all(|pair| pair[0].end() == pair[1].start()));
}

#[test]
fn a_series_running_past_the_last_representable_date_is_refused() {
    let first = lasting(utc(262_142, 12, 29, 9, 0), 60);
    let error = expand(
        &rule(Frequency::Daily, 1, &[], SeriesEnd::AfterCount(5)),
        first,
        UTC,
        100,
    )
    .unwrap_err();
    assert_eq!(error, RecurrenceError::OutOfRange);
    // An end date stops the series before the calendar runs out, so it is fine.
    let until = SeriesEnd::OnDate(date(262_142, 12, 30));
    assert_eq!(expand_ok(&rule(Frequency::Daily, 1, &[], until), first, UTC).len(), 2);
}
