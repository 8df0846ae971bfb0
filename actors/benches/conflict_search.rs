//! Conflict search and insertion against schedules of 100, 10,000 and 100,000 bookings. Both are
//! one or two ordered-map lookups, so the time per operation should grow with log n (a few
//! nanoseconds per doubling), not with n.
//!
//! Queries cycle through positions spread over the whole schedule, so that large schedules are
//! not measured with one hot path in the cache.

use std::hint::black_box;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use reserver_actors::domain::{Interval, Schedule};

const SIZES: [usize; 3] = [100, 10_000, 100_000];
const QUERIES: usize = 1024;

/// Hour `h` after an arbitrary epoch (2030-03-17T17:46:40Z).
fn hour(h: usize) -> DateTime<Utc> {
    let epoch = DateTime::from_timestamp(1_900_000_000, 0).expect("a representable instant");
    epoch + Duration::hours(i64::try_from(h).expect("a small hour"))
}

fn hours(from: usize, to: usize) -> Interval {
    Interval::new(hour(from), hour(to)).expect("from < to")
}

/// `n` one-hour bookings, each followed by a free hour: booking `i` is `[2i, 2i + 1)`.
fn schedule(n: usize) -> Schedule<usize> {
    let mut schedule = Schedule::new();
    for i in 0..n {
        schedule.insert(hours(2 * i, 2 * i + 1), i).expect("bookings are apart");
    }
    schedule
}

/// Indices of bookings spread over `0..n` in a scattered order (a multiplicative hash).
fn positions(n: usize) -> Vec<usize> {
    (0..QUERIES).map(|k| k.wrapping_mul(2_654_435_761) % n).collect()
}

fn first_conflict(c: &mut Criterion) {
    let mut group = c.benchmark_group("first_conflict");
    for n in SIZES {
        let schedule = schedule(n);
        // A query overlapping booking i, and one in the free hour after it (touching both
        // neighbours: the slowest miss, as both lookups run).
        let hits: Vec<_> = positions(n).into_iter().map(|i| hours(2 * i, 2 * i + 2)).collect();
        let misses: Vec<_> = positions(n).into_iter().map(|i| hours(2 * i + 1, 2 * i + 2)).collect();
        for (name, queries) in [("hit", &hits), ("miss", &misses)] {
            group.bench_with_input(BenchmarkId::new(name, n), queries, |b, queries| {
                let mut next = queries.iter().cycle();
                b.iter(|| {
                    schedule
                        .first_conflict(black_box(next.next().expect("cycle")))
                        .is_some()
                });
            });
        }
    }
    group.finish();
}

fn insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("insert");
    for n in SIZES {
        let mut schedule = schedule(n);
        let free: Vec<_> = positions(n).into_iter().map(|i| hours(2 * i + 1, 2 * i + 2)).collect();
        // Accepted into a free hour, then removed again so the size stays n.
        group.bench_with_input(BenchmarkId::new("accepted_then_removed", n), &free, |b, free| {
            let mut next = free.iter().cycle();
            b.iter(|| {
                let slot = *next.next().expect("cycle");
                let accepted = schedule.insert(black_box(slot), n).is_ok();
                (accepted, schedule.remove(slot.start()))
            });
        });
        let taken: Vec<_> = positions(n).into_iter().map(|i| hours(2 * i, 2 * i + 1)).collect();
        group.bench_with_input(BenchmarkId::new("refused", n), &taken, |b, taken| {
            let mut next = taken.iter().cycle();
            b.iter(|| schedule.insert(black_box(*next.next().expect("cycle")), n).is_err());
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(StdDuration::from_millis(500)).measurement_time(StdDuration::from_secs(2));
    targets = first_conflict, insert
}
criterion_main!(benches);
