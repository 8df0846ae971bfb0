//! A resource's schedule: a set of pairwise non-overlapping intervals, each carrying a value
//! (the booking it stands for).
//!
//! Because the intervals never overlap, ordering them by start also orders them by end, so the
//! only stored interval that can overlap a query `[s, e)` without starting inside it is the last
//! one starting before `s`. Hence a conflict check is one ordered-map lookup: O(log n).

use std::collections::BTreeMap;
use std::ops::Bound;

use chrono::{DateTime, Utc};

use super::interval::Interval;

#[derive(Debug, Clone)]
pub struct Schedule<T> {
    /// start → (end, value); starts are unique because intervals never overlap.
    entries: BTreeMap<DateTime<Utc>, (DateTime<Utc>, T)>,
}

impl<T> Default for Schedule<T> {
    fn default() -> Self {
        Schedule {
            entries: BTreeMap::new(),
        }
    }
}

impl<T> Schedule<T> {
    pub fn new() -> Schedule<T> {
        Schedule::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The earliest stored interval overlapping `query`, if any. O(log n).
    pub fn first_conflict(&self, query: &Interval) -> Option<(Interval, &T)> {
        // The last interval starting at or before the query's start may reach into it…
        if let Some((start, (end, value))) = self.entries.range(..=query.start()).next_back()
            && *end > query.start()
        {
            return Some((Interval::new(*start, *end).ok()?, value));
        }
        // …otherwise the first one starting inside the query overlaps it.
        self.entries
            .range((Bound::Excluded(query.start()), Bound::Excluded(query.end())))
            .next()
            .and_then(|(start, (end, value))| Some((Interval::new(*start, *end).ok()?, value)))
    }

    /// Every stored interval overlapping `window`, in order. O(log n + k).
    pub fn overlapping<'a>(&'a self, window: &Interval) -> impl Iterator<Item = (Interval, &'a T)> + 'a {
        let from = match self.entries.range(..=window.start()).next_back() {
            Some((start, (end, _))) if *end > window.start() => *start,
            _ => window.start(),
        };
        self.entries
            .range((Bound::Included(from), Bound::Excluded(window.end())))
            .filter_map(|(start, (end, value))| Some((Interval::new(*start, *end).ok()?, value)))
    }

    /// Adds `interval` unless it overlaps a stored one, which is returned instead.
    pub fn insert(&mut self, interval: Interval, value: T) -> Result<(), (Interval, &T)> {
        if self.first_conflict(&interval).is_some() {
            // Looked up again to return a borrow that outlives this branch.
            return Err(self.first_conflict(&interval).expect("conflict just found"));
        }
        self.entries.insert(interval.start(), (interval.end(), value));
        Ok(())
    }

    /// Removes the interval that starts at `start`, returning it and its value.
    pub fn remove(&mut self, start: DateTime<Utc>) -> Option<(Interval, T)> {
        let (end, value) = self.entries.remove(&start)?;
        Some((Interval::new(start, end).ok()?, value))
    }

    /// Removes every interval for which `remove` is true; returns them in order.
    pub fn remove_where(&mut self, mut remove: impl FnMut(&Interval, &T) -> bool) -> Vec<(Interval, T)> {
        let doomed: Vec<DateTime<Utc>> = self
            .entries
            .iter()
            .filter(|(start, (end, value))| Interval::new(**start, *end).is_ok_and(|i| remove(&i, value)))
            .map(|(start, _)| *start)
            .collect();
        doomed.into_iter().filter_map(|start| self.remove(start)).collect()
    }

    /// All intervals in order of start.
    pub fn iter(&self) -> impl Iterator<Item = (Interval, &T)> + '_ {
        self.entries
            .iter()
            .filter_map(|(start, (end, value))| Some((Interval::new(*start, *end).ok()?, value)))
    }

    /// The interval starting at `start` and its value.
    pub fn get(&self, start: DateTime<Utc>) -> Option<(Interval, &T)> {
        let (end, value) = self.entries.get(&start)?;
        Some((Interval::new(start, *end).ok()?, value))
    }

    /// Mutable access to the value of the interval starting at `start`.
    pub fn get_mut(&mut self, start: DateTime<Utc>) -> Option<&mut T> {
        self.entries.get_mut(&start).map(|(_, value)| value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn iv(from: u32, to: u32) -> Interval {
        let at = |h| Utc.with_ymd_and_hms(2030, 1, 1, h, 0, 0).unwrap();
        Interval::new(at(from), at(to)).unwrap()
    }

    #[test]
    fn conflicts_are_found_on_either_side_and_inside() {
        let mut schedule = Schedule::new();
        schedule.insert(iv(10, 12), "a").unwrap();
        schedule.insert(iv(14, 15), "b").unwrap();
        assert_eq!(schedule.first_conflict(&iv(11, 13)).map(|(_, v)| *v), Some("a"));
        assert_eq!(schedule.first_conflict(&iv(9, 11)).map(|(_, v)| *v), Some("a"));
        assert_eq!(schedule.first_conflict(&iv(8, 20)).map(|(_, v)| *v), Some("a"));
        assert_eq!(schedule.first_conflict(&iv(13, 15)).map(|(_, v)| *v), Some("b"));
        assert!(
            schedule.first_conflict(&iv(12, 14)).is_none(),
            "touching both neighbours is free"
        );
        let all: Vec<_> = schedule.overlapping(&iv(11, 16)).map(|(_, v)| *v).collect();
        assert_eq!(all, ["a", "b"]);
    }

    #[test]
    fn insert_refuses_overlaps_and_remove_frees_the_slot() {
        let mut schedule = Schedule::new();
        schedule.insert(iv(10, 12), 1).unwrap();
        assert_eq!(schedule.insert(iv(11, 13), 2).unwrap_err().1, &1);
        assert_eq!(schedule.len(), 1);
        assert_eq!(schedule.remove(iv(10, 12).start()).map(|(_, v)| v), Some(1));
        schedule.insert(iv(11, 13), 2).unwrap();
    }
}
