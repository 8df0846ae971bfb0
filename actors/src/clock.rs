//! Time as the actors see it.
//!
//! Every rule that depends on "now" (a booking must start in the future, an offer expires, a
//! maintenance window ends) reads a [`Clock`], and every timer waits on one. Production uses
//! [`SystemClock`]; tests use [`ManualClock`] and move time forward explicitly, so a 30-minute
//! offer expiry is tested without 30 minutes of sleeping.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use tokio::sync::watch;

pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
    /// A future that completes once [`Clock::now`] has reached `deadline` (at once if it has).
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep;
}

/// The wall clock, read to the microsecond: what PostgreSQL stores, so that an instant an actor
/// holds (a booking's creation, a hold's expiry) is the instant the database holds.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

/// Longest single sleep; after it the wall clock is read again, so a clock adjustment (NTP,
/// suspend) delays a timer by at most this much.
const MAX_SLEEP: Duration = Duration::from_secs(60);

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        Box::pin(async move {
            loop {
                let Ok(remaining) = (deadline - Utc::now()).to_std() else {
                    return;
                };
                if remaining.is_zero() {
                    return;
                }
                tokio::time::sleep(remaining.min(MAX_SLEEP)).await;
            }
        })
    }
}

/// A clock that stands still until a test moves it. Timers waiting on it fire when it passes
/// their deadline.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
    changed: watch::Sender<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Mutex::new(start),
            changed: watch::Sender::new(start),
        }
    }

    /// Moves time forward by `by` and wakes the timers that are now due.
    pub fn advance(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        let mut now = self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
        self.changed.send_replace(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let mut changes = self.changed.subscribe();
        Box::pin(async move {
            while *changes.borrow_and_update() < deadline {
                if changes.changed().await.is_err() {
                    // The clock is gone: nothing will ever move it again.
                    std::future::pending::<()>().await;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_wall_clock_reads_whole_microseconds() {
        // Three reads: the wall clock's nanoseconds are a whole microsecond by chance one time
        // in a thousand.
        for _ in 0..3 {
            assert_eq!(SystemClock.now().timestamp_subsec_nanos() % 1_000, 0);
        }
    }

    #[tokio::test]
    async fn manual_timers_fire_only_when_time_passes_their_deadline() {
        let start = Utc::now();
        let clock = Arc::new(ManualClock::new(start));
        let timer = tokio::spawn(clock.sleep_until(start + chrono::Duration::minutes(30)));
        clock.advance(Duration::from_secs(29 * 60));
        tokio::task::yield_now().await;
        assert!(!timer.is_finished());
        clock.advance(Duration::from_secs(60));
        tokio::time::timeout(Duration::from_secs(5), timer)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn a_past_deadline_fires_at_once() {
        let clock = SystemClock;
        tokio::time::timeout(
            Duration::from_secs(1),
            clock.sleep_until(Utc::now() - chrono::Duration::hours(1)),
        )
        .await
        .unwrap();
    }
}
