//! Rate limiting and daily quotas (`RATE_LIMIT_ENABLED`).
//!
//! - [`middleware`]: wrapped by the route table around every route except the probes,
//!   `/metrics`, `/setup/status` and `/ws`; identifies the caller, asks the [`RateLimiter`],
//!   answers 429 or adds the `X-RateLimit-*` / `X-Quota-*` headers.
//! - [`gcra`]: the per-minute algorithm (one instant of state per bucket).
//! - [`usage`]: the daily counts and hourly route usage, counted in memory and flushed to
//!   `api_quotas` / `api_usage` in batches.
//!
//! Invariants:
//! - A caller is the user of a *valid* token (the authentication the route guard then reuses),
//!   otherwise the client address (the TCP peer, or what a trusted proxy forwarded; an IPv6
//!   client by its /64). An invalid token counts as its client address, so rotating made-up
//!   tokens gains nothing. The sign-in routes (`/token`, `/register`) count by client address
//!   even with a valid token: any account's token must not buy a password guesser a bucket of
//!   its own.
//! - Each request counts against exactly one bucket: the endpoint limit of its route if it has
//!   one (aliases share the canonical route's), else the caller's general per-minute limit.
//! - Refused requests consume nothing: the daily count is taken under the bucket's shard lock and
//!   the bucket is charged only if the quota admits too (lock order: bucket shard, then user
//!   shard; nothing takes them the other way round); a shared bucket is charged first and given
//!   back if the quota refuses.
//! - Per-minute state is shared by every process on a PostgreSQL database (in PostgreSQL, or in
//!   Redis when `REDIS_URL` is set; see [`shared`]), so N processes allow the configured limit in
//!   total, not N times it; on SQLite (one process) it lives in this process. Daily counts are
//!   persisted (see [`usage`]) and enforced against the stored count plus this process's
//!   unflushed one, so several processes share a quota to within one flush interval.
//! - Memory is bounded: a bucket whose allowance is full again is indistinguishable from no
//!   bucket and is evicted when its shard would grow, and by the periodic sweep.
//! - Time is `AppState::clock`, so tests move it instead of waiting a minute.

pub mod gcra;
pub mod middleware;
mod sharded;
pub mod shared;
pub mod usage;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use reserver_actors::Clock;
use tokio::sync::Notify;

use crate::client_ip::subscriber_block;
use crate::quotas::store::RouteCounts;
use crate::quotas::{Effective, Limits, Tier, next_midnight};
use crate::storage::{Db, StorageError};
use sharded::Sharded;
use shared::SharedBuckets;
use usage::Usage;

pub use middleware::{LimitedRoute, enforce};

/// Settings of the limiter (see `Settings`).
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    /// The larger testing limits, for end-to-end test suites.
    pub testing_mode: bool,
    /// How often counts are written to the database.
    pub flush_interval: Duration,
    /// `REDIS_URL`: where the shared per-minute buckets live, if not in PostgreSQL.
    pub redis_url: Option<String>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            testing_mode: false,
            flush_interval: Duration::from_secs(10),
            redis_url: None,
        }
    }
}

/// Where the per-minute buckets of a server on `db` live: in Redis when `config` names one, else
/// in PostgreSQL, else (SQLite, one process) in the limiter itself (`None`).
pub async fn shared_buckets(
    config: &RateLimitConfig,
    db: &Db,
) -> Result<Option<Box<dyn SharedBuckets>>, shared::SharedError> {
    if let Some(url) = &config.redis_url {
        return Ok(Some(Box::new(shared::InRedis::connect(url).await?)));
    }
    Ok(match db.kind() {
        crate::storage::BackendKind::Postgres => Some(Box::new(shared::InDatabase(db.clone()))),
        crate::storage::BackendKind::Sqlite => None,
    })
}

/// Whose requests a bucket counts: a user, or a client address (an IPv6 client by its /64, the
/// block one subscriber usually holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    User(i64),
    V4(u32),
    V6(u64),
}

impl std::fmt::Display for Who {
    /// The bucket name part (shared buckets are named by text).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Who::User(id) => write!(f, "u{id}"),
            Who::V4(address) => write!(f, "a{address}"),
            Who::V6(block) => write!(f, "b{block}"),
        }
    }
}

impl Who {
    pub fn client(address: Option<IpAddr>) -> Who {
        match address.map(subscriber_block) {
            Some(IpAddr::V4(v4)) => Who::V4(u32::from(v4)),
            Some(IpAddr::V6(v6)) => Who::V6((u128::from(v6) >> 64) as u64),
            None => Who::V4(0),
        }
    }
}

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The caller's per-minute limit.
    General,
    /// An endpoint limit (index into [`crate::quotas::ENDPOINT_LIMITS`]).
    Endpoint(u8),
}

/// Who is calling, as far as limits go.
#[derive(Debug, Clone, Copy)]
pub enum Caller {
    /// No valid token: the anonymous tier, by client address.
    Client(Who),
    /// The user of a valid token, with their limits and the count stored for today.
    User {
        id: i64,
        limits: Effective,
        stored_today: u64,
    },
}

/// An admitted request: what its response's headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub limit: u32,
    pub remaining: u32,
    /// Epoch second at which the allowance is full again.
    pub reset: i64,
    /// For a user with a daily quota: (quota, remaining today).
    pub quota: Option<(u64, u64)>,
}

/// Why a request is refused (429).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Rate { limit: u32, reset: i64, retry_after: u64 },
    Quota { quota: u64, retry_after: u64 },
}

/// The name of a shared bucket.
fn bucket_name((who, scope): (Who, Scope)) -> String {
    match scope {
        Scope::General => format!("{who}:g"),
        Scope::Endpoint(index) => format!("{who}:e{index}"),
    }
}

/// The limiter of one server: per-minute buckets and the usage counts.
pub struct RateLimiter {
    limits: &'static Limits,
    /// This process's buckets, when no store shares them.
    buckets: Sharded<(Who, Scope), i64>,
    /// The buckets every process shares, if any.
    shared: Option<Box<dyn SharedBuckets>>,
    usage: Usage,
    db: Db,
    clock: Arc<dyn Clock>,
    stop: Arc<Notify>,
}

fn micros(instant: DateTime<Utc>) -> i64 {
    instant.timestamp_micros()
}

/// The epoch second at or after `at_us` (for `X-RateLimit-Reset`).
fn epoch_second(at_us: i64) -> i64 {
    at_us.div_euclid(1_000_000) + i64::from(at_us.rem_euclid(1_000_000) > 0)
}

/// Whole seconds from `now_us` to `at_us`, at least 1 (for `Retry-After`).
fn seconds_until(at_us: i64, now_us: i64) -> u64 {
    ((at_us - now_us).max(0) as u64).div_ceil(1_000_000).max(1)
}

/// The 429 of a bucket that refused a request.
fn rate_refusal(refused: gcra::Refused, limit: u32, now_us: i64) -> Refusal {
    Refusal::Rate {
        limit,
        reset: epoch_second(refused.tat_us),
        retry_after: seconds_until(refused.retry_at_us, now_us),
    }
}

impl RateLimiter {
    /// A limiter whose counts are flushed every `config.flush_interval` (until [`Self::stop`]),
    /// with its per-minute buckets in `shared` if given, else in this process. Must be called
    /// inside a Tokio runtime.
    pub fn start(
        config: &RateLimitConfig,
        db: Db,
        clock: Arc<dyn Clock>,
        shared: Option<Box<dyn SharedBuckets>>,
    ) -> Arc<RateLimiter> {
        let limiter = Arc::new(RateLimiter {
            limits: Limits::of(config.testing_mode),
            buckets: Sharded::default(),
            shared,
            usage: Usage::default(),
            db,
            clock,
            stop: Arc::new(Notify::new()),
        });
        let (weak, stop, interval) = (Arc::downgrade(&limiter), limiter.stop.clone(), config.flush_interval);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stop.notified() => return,
                }
                let Some(limiter) = weak.upgrade() else { return };
                if let Err(error) = limiter.flush().await {
                    tracing::warn!(%error, "could not write API usage counts; they are kept for the next attempt");
                }
                limiter.sweep().await;
            }
        });
        limiter
    }

    /// The limits in force.
    pub fn limits(&self) -> &'static Limits {
        self.limits
    }

    /// Decides a request of `caller` counting against `scope` at `now`, and counts it if
    /// admitted. A refused request, for either reason, consumes nothing. If the shared store
    /// cannot be reached the request is admitted (with a warning): the limiter must not turn
    /// an outage of Redis into an outage of the API.
    pub async fn admit(&self, caller: &Caller, scope: Scope, now: DateTime<Utc>) -> Result<Admission, Refusal> {
        let (who, general) = match *caller {
            Caller::Client(who) => (who, self.limits.per_minute(Tier::Anonymous)),
            Caller::User { id, limits, .. } => (Who::User(id), limits.per_minute),
        };
        let limit = match scope {
            Scope::General => general,
            Scope::Endpoint(index) => self.limits.endpoint(usize::from(index)),
        };
        let now_us = micros(now);
        let daily = || match *caller {
            Caller::User {
                id,
                limits,
                stored_today,
            } => {
                let used = self
                    .usage
                    .count_user(id, crate::quotas::day_of(now), stored_today, limits.daily)
                    .map_err(|_| Refusal::Quota {
                        quota: limits.daily.unwrap_or_default(),
                        retry_after: seconds_until(micros(next_midnight(now)), now_us),
                    })?;
                Ok(limits.daily.map(|quota| (quota, quota.saturating_sub(used))))
            }
            Caller::Client(_) => Ok(None),
        };
        let (admitted, quota) = match &self.shared {
            None => self.take((who, scope), limit, now_us, daily)?,
            Some(shared) => {
                let bucket = bucket_name((who, scope));
                let admitted = match shared.take(&bucket, now_us, limit).await {
                    Ok(Ok(admitted)) => admitted,
                    Ok(Err(refused)) => return Err(rate_refusal(refused, limit, now_us)),
                    Err(error) => {
                        tracing::warn!(%error, "cannot reach the shared rate-limit buckets; admitting");
                        gcra::admitted(now_us, now_us, limit)
                    }
                };
                match daily() {
                    Ok(quota) => (admitted, quota),
                    Err(refusal) => {
                        if let Err(error) = shared.give_back(&bucket, limit).await {
                            tracing::warn!(%error, "cannot give back a rate-limit charge");
                        }
                        return Err(refusal);
                    }
                }
            }
        };
        Ok(Admission {
            limit,
            remaining: admitted.remaining,
            reset: epoch_second(admitted.tat_us),
            quota,
        })
    }

    /// One bucket's decision, under its shard's lock; the bucket is charged only if `then` (the
    /// daily quota) also admits the request. A new bucket that would make its shard grow first
    /// evicts the shard's full buckets, so memory follows the active callers.
    fn take<T>(
        &self,
        key: (Who, Scope),
        limit: u32,
        now_us: i64,
        then: impl FnOnce() -> Result<T, Refusal>,
    ) -> Result<(gcra::Admitted, T), Refusal> {
        let mut shard = self.buckets.shard(&key);
        let admitted = gcra::check(shard.get(&key).copied(), now_us, limit)
            .map_err(|refused| rate_refusal(refused, limit, now_us))?;
        let also = then()?;
        if let Some(tat) = shard.get_mut(&key) {
            *tat = admitted.tat_us;
        } else {
            if shard.len() == shard.capacity() {
                shard.retain(|_, tat| *tat > now_us);
            }
            shard.insert(key, admitted.tat_us);
        }
        Ok((admitted, also))
    }

    /// Evicts the buckets that are full again and gives their memory back (or deletes some
    /// of the shared ones).
    async fn sweep(&self) {
        let now_us = micros(self.clock.now());
        if let Some(shared) = &self.shared {
            if let Err(error) = shared.sweep(now_us).await {
                tracing::warn!(%error, "cannot sweep the shared rate-limit buckets");
            }
            return;
        }
        self.buckets.each_shard(|shard| {
            shard.retain(|_, tat| *tat > now_us);
            shard.shrink_to(shard.len() * 2);
        });
    }

    /// Adds a request to its route's hourly usage.
    pub fn count_route(&self, route: &Arc<str>, now: DateTime<Utc>, limited: bool, took: Duration) {
        let counts = RouteCounts {
            requests: 1,
            limited: u64::from(limited),
            duration_us: took.as_micros().min(u128::from(u64::MAX)) as u64,
        };
        self.usage.count_route(route, now, counts);
    }

    /// What this process counted for `user` and has not yet written: (on `day`, in all).
    pub fn unflushed(&self, user: i64, day: NaiveDate) -> (u64, u64) {
        self.usage.unflushed(user, day)
    }

    /// Writes the counts so far to the database. Runs to completion even if the caller stops
    /// waiting (a request whose client went away), so nothing is written twice.
    pub async fn flush(self: &Arc<Self>) -> Result<(), StorageError> {
        let limiter = self.clone();
        tokio::spawn(async move { limiter.usage.flush(&limiter.db, limiter.clock.now()).await })
            .await
            .unwrap_or_else(|error| Err(StorageError::Query(format!("usage flush task failed: {error}"))))
    }

    /// Stops the periodic flush and writes what is left (graceful shutdown).
    pub async fn stop(self: &Arc<Self>) {
        self.stop.notify_one();
        if let Err(error) = self.flush().await {
            tracing::error!(%error, "could not write the last API usage counts before stopping");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A limiter on a scratch database (these tests never flush).
    async fn limiter(start: DateTime<Utc>) -> (RateLimiter, Arc<reserver_actors::ManualClock>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(
            &crate::storage::DatabaseLocation::Sqlite(dir.path().join("limiter.db")),
            &crate::storage::PoolOptions {
                max_connections: 1,
                acquire_timeout: Duration::from_secs(1),
                statement_timeout: Duration::from_secs(30),
            },
        )
        .await
        .unwrap();
        let clock = Arc::new(reserver_actors::ManualClock::new(start));
        let limiter = RateLimiter {
            limits: Limits::of(false),
            buckets: Sharded::default(),
            shared: None,
            usage: Usage::default(),
            db,
            clock: clock.clone(),
            stop: Arc::default(),
        };
        (limiter, clock, dir)
    }

    fn nine_am() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap()
    }

    fn user(id: i64, per_minute: u32, daily: Option<u64>) -> Caller {
        Caller::User {
            id,
            limits: Effective {
                tier: Tier::Authenticated,
                per_minute,
                daily,
            },
            stored_today: 0,
        }
    }

    #[tokio::test]
    async fn buckets_are_per_caller_and_per_scope() {
        let (limiter, clock, _dir) = limiter(nine_am()).await;
        let now = clock.now();
        let alice = user(1, 2, None);
        assert_eq!(
            limiter.admit(&alice, Scope::General, now).await.map(|a| a.remaining),
            Ok(1)
        );
        assert_eq!(
            limiter.admit(&alice, Scope::General, now).await.map(|a| a.remaining),
            Ok(0)
        );
        let refusal = limiter.admit(&alice, Scope::General, now).await.unwrap_err();
        assert_eq!(
            refusal,
            Refusal::Rate {
                limit: 2,
                reset: micros(now) / 1_000_000 + 60,
                retry_after: 30
            }
        );
        assert!(
            limiter.admit(&user(2, 2, None), Scope::General, now).await.is_ok(),
            "another user"
        );
        assert_eq!(
            limiter
                .admit(&alice, Scope::Endpoint(0), now)
                .await
                .map(|a| (a.limit, a.remaining)),
            Ok((30, 29))
        );
        let client = Caller::Client(Who::client("10.0.0.1".parse().ok()));
        assert_eq!(
            limiter.admit(&client, Scope::General, now).await.map(|a| a.limit),
            Ok(60)
        );
    }

    #[tokio::test]
    async fn a_daily_quota_refuses_until_midnight() {
        let (limiter, clock, _dir) = limiter(Utc.with_ymd_and_hms(2030, 1, 1, 23, 0, 0).unwrap()).await;
        let now = clock.now();
        let bob = user(3, 100, Some(1));
        assert_eq!(
            limiter.admit(&bob, Scope::General, now).await.map(|a| a.quota),
            Ok(Some((1, 0)))
        );
        assert_eq!(
            limiter.admit(&bob, Scope::General, now).await,
            Err(Refusal::Quota {
                quota: 1,
                retry_after: 3600
            })
        );
        let key = (Who::User(3), Scope::General);
        let tat = limiter.buckets.shard(&key).get(&key).copied();
        assert_eq!(
            tat,
            Some(micros(now) + gcra::PERIOD_US / 100),
            "the refused request used none of the minute's allowance"
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_block() {
        let a = Who::client("2001:db8:1:2::1".parse().ok());
        assert_eq!(a, Who::client("2001:db8:1:2:ffff::9".parse().ok()));
        assert_ne!(a, Who::client("2001:db8:1:3::1".parse().ok()));
        assert_eq!(
            Who::client("::ffff:10.0.0.1".parse().ok()),
            Who::client("10.0.0.1".parse().ok())
        );
    }

    #[tokio::test]
    async fn full_buckets_are_evicted() {
        let (limiter, clock, _dir) = limiter(nine_am()).await;
        for address in 0..1000_u32 {
            let caller = Caller::Client(Who::V4(address));
            limiter.admit(&caller, Scope::General, clock.now()).await.unwrap();
        }
        assert_eq!(limiter.buckets.len(), 1000);
        clock.advance(Duration::from_secs(60));
        limiter.sweep().await;
        assert_eq!(limiter.buckets.len(), 0);
    }
}
