//! `Schedule` against a brute-force model: an unordered `Vec` scanned linearly. Random sequences
//! of every operation on a small grid of whole hours (so that touching, nesting and identical
//! intervals are frequent) must give the same answers, and the same contents after each step.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use reserver_actors::domain::{Interval, Schedule};

use crate::support::utc;

fn hour(h: i64) -> DateTime<Utc> {
    utc(2030, 1, 1, 0, 0) + Duration::hours(h)
}

fn interval() -> impl Strategy<Value = Interval> {
    (0..24i64, 1..6i64).prop_map(|(start, length)| Interval::new(hour(start), hour(start + length)).unwrap())
}

#[derive(Debug, Clone)]
enum Op {
    Insert(Interval),
    Remove(i64),
    FirstConflict(Interval),
    Overlapping(Interval),
    RemoveWhere(u32),
    Bump(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => interval().prop_map(Op::Insert),
        2 => (0..24i64).prop_map(Op::Remove),
        2 => interval().prop_map(Op::FirstConflict),
        2 => interval().prop_map(Op::Overlapping),
        1 => (2..5u32).prop_map(Op::RemoveWhere),
        1 => (0..24i64).prop_map(Op::Bump),
    ]
}

/// The specification, written the obvious way.
#[derive(Default)]
struct Model(Vec<(Interval, u32)>);

impl Model {
    fn overlapping(&self, query: &Interval) -> Vec<(Interval, u32)> {
        let mut found: Vec<_> = self.0.iter().filter(|(i, _)| i.overlaps(query)).copied().collect();
        found.sort_by_key(|(i, _)| i.start());
        found
    }

    fn first_conflict(&self, query: &Interval) -> Option<(Interval, u32)> {
        self.overlapping(query).first().copied()
    }

    fn position(&self, start: DateTime<Utc>) -> Option<usize> {
        self.0.iter().position(|(i, _)| i.start() == start)
    }

    fn sorted(&self) -> Vec<(Interval, u32)> {
        let mut all = self.0.clone();
        all.sort_by_key(|(i, _)| i.start());
        all
    }
}

fn owned<'a>(found: impl IntoIterator<Item = (Interval, &'a u32)>) -> Vec<(Interval, u32)> {
    found.into_iter().map(|(i, v)| (i, *v)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn schedule_answers_like_a_linear_scan(ops in prop::collection::vec(op(), 1..60)) {
        let mut schedule = Schedule::new();
        let mut model = Model::default();
        for (value, op) in (0u32..).zip(ops) {
            match op {
                Op::Insert(interval) => {
                    let expected = model.first_conflict(&interval);
                    let got = schedule.insert(interval, value).map_err(|(i, v)| (i, *v)).err();
                    prop_assert_eq!(got, expected, "insert {}", interval);
                    if expected.is_none() {
                        model.0.push((interval, value));
                    }
                }
                Op::Remove(h) => {
                    let expected = model.position(hour(h)).map(|at| model.0.swap_remove(at));
                    prop_assert_eq!(schedule.remove(hour(h)), expected);
                }
                Op::FirstConflict(query) => {
                    let got = schedule.first_conflict(&query).map(|(i, v)| (i, *v));
                    prop_assert_eq!(got, model.first_conflict(&query), "first_conflict {}", query);
                }
                Op::Overlapping(window) => {
                    prop_assert_eq!(owned(schedule.overlapping(&window)), model.overlapping(&window), "overlapping {}", window);
                }
                Op::RemoveWhere(modulus) => {
                    let doomed = |v: u32| v.is_multiple_of(modulus);
                    let mut expected: Vec<_> = model.0.iter().filter(|(_, v)| doomed(*v)).copied().collect();
                    expected.sort_by_key(|(i, _)| i.start());
                    model.0.retain(|(_, v)| !doomed(*v));
                    prop_assert_eq!(schedule.remove_where(|_, v| doomed(*v)), expected);
                }
                Op::Bump(h) => {
                    let expected = model.position(hour(h)).map(|at| &mut model.0[at].1);
                    match (schedule.get_mut(hour(h)), expected) {
                        (Some(got), Some(want)) => {
                            prop_assert_eq!(*got, *want);
                            *got += 1000;
                            *want += 1000;
                        }
                        (got, want) => prop_assert!(got.is_none() && want.is_none()),
                    }
                }
            }
            prop_assert_eq!(schedule.len(), model.0.len());
            prop_assert_eq!(schedule.is_empty(), model.0.is_empty());
            prop_assert_eq!(owned(schedule.iter()), model.sorted());
        }
    }
}
