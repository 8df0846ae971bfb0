//! Counting in memory, flushing in batches.
//!
//! Each admitted request of a user adds one to that user's count of the day, and every request
//! adds to its route's counts of the hour; all in sharded maps, with no I/O. [`Usage::flush`]
//! writes what accumulated in one transaction, periodically and at shutdown.
//!
//! Invariant: a count is either `pending` (not yet in a flush) or `flushing` (in a flush whose
//! outcome is not known); it leaves memory only after the transaction that wrote it committed.
//! A failed flush leaves it to the next one, so counts are never lost and never written twice
//! (flushes are serialised, and run to completion even if whoever awaited one goes away).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::sharded::Sharded;
use crate::quotas::stats::{RETENTION, hour_of};
use crate::quotas::store::{self, RouteCounts};
use crate::storage::{Db, StorageError};

/// Something counted: requests, or a route's requests, refusals and time.
trait Count: Copy + Default {
    fn add(&mut self, other: Self);
    fn subtract(&mut self, other: Self);
    fn is_zero(&self) -> bool;
}

impl Count for u64 {
    fn add(&mut self, other: u64) {
        *self += other;
    }
    fn subtract(&mut self, other: u64) {
        *self = self.saturating_sub(other);
    }
    fn is_zero(&self) -> bool {
        *self == 0
    }
}

impl Count for RouteCounts {
    fn add(&mut self, other: RouteCounts) {
        RouteCounts::add(self, other)
    }
    fn subtract(&mut self, other: RouteCounts) {
        RouteCounts::subtract(self, other)
    }
    fn is_zero(&self) -> bool {
        RouteCounts::is_zero(self)
    }
}

/// One count, split as the module's invariant says.
#[derive(Debug, Clone, Copy, Default)]
struct Tally<C> {
    pending: C,
    flushing: C,
}

impl<C: Count> Tally<C> {
    fn total(&self) -> C {
        let mut total = self.pending;
        total.add(self.flushing);
        total
    }

    /// Moves `pending` into `flushing`; returns what the flush must write.
    fn start_flush(&mut self) -> C {
        self.flushing.add(std::mem::take(&mut self.pending));
        self.flushing
    }

    /// Forgets `written`, now in the database. True when nothing is left.
    fn flushed(&mut self, written: C) -> bool {
        self.flushing.subtract(written);
        self.pending.is_zero() && self.flushing.is_zero()
    }
}

type Hour = DateTime<Utc>;

#[derive(Default)]
pub struct Usage {
    /// Per user: the requests of each day not yet in the database (one day, two around
    /// midnight).
    users: Sharded<i64, Vec<(NaiveDate, Tally<u64>)>>,
    routes: Sharded<(Hour, Arc<str>), Tally<RouteCounts>>,
    /// Serialises flushes; holds the hour of the last pruning of old usage.
    flush: tokio::sync::Mutex<Option<Hour>>,
}

impl Usage {
    /// Counts one request of `user` on `day` unless that would exceed `quota`, given the
    /// `stored` count the database held for that day. `Ok` with the day's count including this
    /// request, or `Err` with the count that was reached.
    pub fn count_user(&self, user: i64, day: NaiveDate, stored: u64, quota: Option<u64>) -> Result<u64, u64> {
        let mut shard = self.users.shard(&user);
        let days = shard.entry(user).or_default();
        let used = stored + days.iter().find(|(d, _)| *d == day).map_or(0, |(_, t)| t.total());
        if quota.is_some_and(|quota| used >= quota) {
            if days.is_empty() {
                shard.remove(&user);
            }
            return Err(used);
        }
        match days.iter_mut().find(|(d, _)| *d == day) {
            Some((_, tally)) => tally.pending += 1,
            None => days.push((
                day,
                Tally {
                    pending: 1,
                    flushing: 0,
                },
            )),
        }
        Ok(used + 1)
    }

    /// What this process counted for `user` and is not yet in the database: (on `day`, in all).
    pub fn unflushed(&self, user: i64, day: NaiveDate) -> (u64, u64) {
        let shard = self.users.shard(&user);
        let days = shard.get(&user).map(Vec::as_slice).unwrap_or_default();
        let on_day = days.iter().find(|(d, _)| *d == day).map_or(0, |(_, t)| t.total());
        (on_day, days.iter().map(|(_, t)| t.total()).sum())
    }

    /// Adds a request to `route`'s counts of the hour of `now`.
    pub fn count_route(&self, route: &Arc<str>, now: DateTime<Utc>, counts: RouteCounts) {
        let key = (hour_of(now), route.clone());
        self.routes.shard(&key).entry(key).or_default().pending.add(counts);
    }

    /// Writes everything counted so far in one transaction, and prunes old hourly usage once
    /// an hour.
    pub async fn flush(&self, db: &Db, now: DateTime<Utc>) -> Result<(), StorageError> {
        let mut pruned = self.flush.lock().await;
        let mut users = Vec::new();
        self.users.each_shard(|shard| {
            for (user, days) in shard.iter_mut() {
                for (day, tally) in days.iter_mut() {
                    let count = tally.start_flush();
                    if count > 0 {
                        users.push((*user, *day, count));
                    }
                }
            }
        });
        let mut routes = Vec::new();
        self.routes.each_shard(|shard| {
            for (key, tally) in shard.iter_mut() {
                let counts = tally.start_flush();
                if !counts.is_zero() {
                    routes.push((key.clone(), counts));
                }
            }
        });
        let prune = *pruned != Some(hour_of(now));
        if users.is_empty() && routes.is_empty() && !prune {
            return Ok(());
        }

        let mut tx = db.begin().await?;
        let mut by_day: BTreeMap<NaiveDate, Vec<(i64, u64)>> = BTreeMap::new();
        for (user, day, count) in &users {
            by_day.entry(*day).or_default().push((*user, *count));
        }
        for (day, counts) in &by_day {
            store::add_user_counts(&mut tx, *day, counts, now).await?;
        }
        let route_rows = routes
            .iter()
            .map(|((hour, route), counts)| (*hour, &**route, *counts))
            .collect::<Vec<_>>();
        store::add_route_counts(&mut tx, &route_rows).await?;
        if prune {
            store::prune_usage(&mut tx, now - RETENTION).await?;
        }
        tx.commit().await?;
        *pruned = Some(hour_of(now));

        for (user, day, count) in users {
            let mut shard = self.users.shard(&user);
            if let Some(days) = shard.get_mut(&user) {
                days.retain_mut(|(d, tally)| *d != day || !tally.flushed(count));
                if days.is_empty() {
                    shard.remove(&user);
                }
            }
        }
        for (key, counts) in routes {
            let mut shard = self.routes.shard(&key);
            if shard.get_mut(&key).is_some_and(|tally| tally.flushed(counts)) {
                shard.remove(&key);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2030, 1, d).unwrap()
    }

    #[test]
    fn the_quota_counts_the_stored_and_the_unflushed_requests_of_the_day() {
        let usage = Usage::default();
        assert_eq!(usage.count_user(7, day(1), 3, Some(5)), Ok(4));
        assert_eq!(usage.count_user(7, day(1), 3, Some(5)), Ok(5));
        assert_eq!(usage.count_user(7, day(1), 3, Some(5)), Err(5));
        assert_eq!(
            usage.count_user(7, day(2), 0, Some(5)),
            Ok(1),
            "a new day starts from zero"
        );
        assert_eq!(usage.count_user(8, day(1), 9, Some(5)), Err(9));
        assert_eq!(usage.unflushed(7, day(1)), (2, 3));
        assert_eq!(usage.unflushed(8, day(1)), (0, 0));
        assert_eq!(usage.users.len(), 1, "a refused first request leaves nothing behind");
    }

    #[test]
    fn a_tally_forgets_only_what_was_written() {
        let mut tally = Tally::<u64> {
            pending: 3,
            flushing: 0,
        };
        let written = tally.start_flush();
        tally.pending += 2;
        assert_eq!(tally.total(), 5);
        assert!(!tally.flushed(written));
        assert_eq!((tally.pending, tally.flushing), (2, 0));
        let mut failed = Tally::<u64> {
            pending: 1,
            flushing: 4,
        };
        assert_eq!(failed.start_flush(), 5, "a failed flush is retried with the next one");
    }
}
