//! Expanding a series of 100 occurrences in Europe/Berlin (crossing both DST changes): daily,
//! weekly on three weekdays, and monthly. Each occurrence costs a few calendar steps and one
//! time-zone lookup, so a whole series should take microseconds.

use std::hint::black_box;
use std::time::Duration as StdDuration;

use chrono::{Duration, NaiveDate, TimeZone, Weekday};
use chrono_tz::Europe::Berlin;
use criterion::{Criterion, criterion_group, criterion_main};
use reserver_actors::domain::{Frequency, Interval, RecurrenceRule, SeriesEnd, expand};

fn series(c: &mut Criterion) {
    // Monday 5 January 2026, 09:00 in Berlin, for an hour.
    let start = NaiveDate::from_ymd_opt(2026, 1, 5)
        .and_then(|day| day.and_hms_opt(9, 0, 0))
        .and_then(|local| Berlin.from_local_datetime(&local).single())
        .expect("an unambiguous local time");
    let first = Interval::starting_at(start.to_utc(), Duration::hours(1)).expect("a positive length");
    let rules = [
        ("daily_x100", Frequency::Daily, vec![]),
        (
            "weekly_mon_wed_fri_x100",
            Frequency::Weekly,
            vec![Weekday::Mon, Weekday::Wed, Weekday::Fri],
        ),
        ("monthly_x100", Frequency::Monthly, vec![]),
    ];
    let mut group = c.benchmark_group("expand_berlin");
    for (name, frequency, weekdays) in rules {
        let rule = RecurrenceRule::new(frequency, 1, weekdays, SeriesEnd::AfterCount(100)).expect("a valid rule");
        group.bench_function(name, |b| {
            b.iter(|| expand(black_box(&rule), black_box(first), Berlin, 100))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(StdDuration::from_millis(500)).measurement_time(StdDuration::from_secs(2));
    targets = series
}
criterion_main!(benches);
