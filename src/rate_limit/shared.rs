//! Per-minute buckets shared by every server process: in Redis when `REDIS_URL` is set, else
//! in PostgreSQL (`rate_limit_buckets`, migration 34). A process on SQLite is alone on its
//! database and keeps its buckets in memory ([`super::RateLimiter`]).
//!
//! Invariants:
//! - A bucket is the same [`gcra`] state as in memory (its TAT in microseconds), decided and
//!   charged in **one atomic step** of the store (one `INSERT … ON CONFLICT … WHERE` statement; one
//!   Lua script in Redis), so however many processes admit requests of one caller at once, the
//!   caller gets exactly the configured limit in total.
//! - A charge the daily quota then refuses is given back (the TAT moved back by one interval),
//!   so a refused request consumes nothing, as in memory.
//! - Full buckets are garbage: PostgreSQL rows whose TAT has passed are deleted in bounded batches
//!   by every process's sweep; Redis keys expire when their TAT passes.
//! - The store's time is the caller's clock (`now_us` is passed in), never the store's own, so
//!   tests that move the server's clock move the buckets too.

use async_trait::async_trait;

use super::gcra::{self, Admitted, PERIOD_US, Refused};
use crate::params;
use crate::storage::{Db, StorageError};

/// Why a shared bucket could not be read or charged.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// Where shared buckets live.
#[async_trait]
pub trait SharedBuckets: Send + Sync {
    /// Charges one request to `bucket` at `now_us` if it admits one more of `limit` per minute.
    async fn take(&self, bucket: &str, now_us: i64, limit: u32) -> Result<Result<Admitted, Refused>, SharedError>;
    /// Gives back one request charged by [`Self::take`].
    async fn give_back(&self, bucket: &str, limit: u32) -> Result<(), SharedError>;
    /// Deletes some buckets that are full again at `now_us`.
    async fn sweep(&self, now_us: i64) -> Result<(), SharedError>;
}

/// Buckets deleted per sweep statement.
const SWEEP_BATCH: i64 = 1000;

/// The decision for a bucket whose charge was refused: its TAT is `tat_us`.
fn refused(tat_us: i64, now_us: i64, limit: u32) -> Refused {
    // Freed in between by time alone: refuse for the shortest wait rather than charge twice.
    gcra::check(Some(tat_us), now_us, limit).err().unwrap_or(Refused {
        tat_us,
        retry_at_us: now_us + 1,
    })
}

/// Buckets in PostgreSQL (an `UNLOGGED` table: a crash forgets them, which only refills them).
pub struct InDatabase(pub Db);

#[async_trait]
impl SharedBuckets for InDatabase {
    async fn take(&self, bucket: &str, now_us: i64, limit: u32) -> Result<Result<Admitted, Refused>, SharedError> {
        let interval = gcra::interval(limit);
        // GCRA in one statement: the row's TAT moves on only where the request is admitted.
        let charged = self
            .0
            .query_write(
                "INSERT INTO rate_limit_buckets AS b (bucket, tat_us) VALUES ($1, CAST($2 AS BIGINT) + CAST($3 AS BIGINT))
                 ON CONFLICT (bucket) DO UPDATE SET tat_us = GREATEST(b.tat_us, CAST($2 AS BIGINT)) + CAST($3 AS BIGINT)
                 WHERE GREATEST(b.tat_us, CAST($2 AS BIGINT)) + CAST($3 AS BIGINT) - CAST($2 AS BIGINT) <= CAST($4 AS BIGINT)
                 RETURNING tat_us",
                params![bucket, now_us, interval, PERIOD_US],
            )
            .await?;
        if let Some(row) = charged.first() {
            return Ok(Ok(gcra::admitted(row.get("tat_us")?, now_us, limit)));
        }
        let row = self
            .0
            .query_one(
                "SELECT tat_us FROM rate_limit_buckets WHERE bucket = $1",
                params![bucket],
            )
            .await?;
        Ok(Err(refused(row.get("tat_us")?, now_us, limit)))
    }

    async fn give_back(&self, bucket: &str, limit: u32) -> Result<(), SharedError> {
        self.0
            .execute(
                "UPDATE rate_limit_buckets SET tat_us = tat_us - CAST($2 AS BIGINT) WHERE bucket = $1",
                params![bucket, gcra::interval(limit)],
            )
            .await?;
        Ok(())
    }

    async fn sweep(&self, now_us: i64) -> Result<(), SharedError> {
        self.0
            .execute(
                "DELETE FROM rate_limit_buckets WHERE bucket IN
                     (SELECT bucket FROM rate_limit_buckets WHERE tat_us < $1 LIMIT $2)",
                params![now_us, SWEEP_BATCH],
            )
            .await?;
        Ok(())
    }
}

/// GCRA on one key, atomically: returns `{1, new TAT}` when admitted (and stores it, expiring
/// when it passes), `{0, TAT}` when refused. Microsecond instants fit Lua's doubles exactly.
const TAKE: &str = r"
local now, interval, period = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
local start = math.max(tat, now)
local new = start + interval
if new - now > period then
  return {0, start}
end
redis.call('SET', KEYS[1], new, 'PX', math.ceil((new - now) / 1000))
return {1, new}
";

/// Moves a key's TAT back by one interval, keeping its expiry.
const GIVE_BACK: &str = r"
local tat = redis.call('GET', KEYS[1])
if tat then
  redis.call('SET', KEYS[1], tonumber(tat) - tonumber(ARGV[1]), 'KEEPTTL')
end
return 0
";

/// Buckets in Redis, under `rr:rl:<bucket>` (a connection manager reconnects by itself).
pub struct InRedis {
    connection: redis::aio::ConnectionManager,
    take: redis::Script,
    give_back: redis::Script,
}

impl InRedis {
    /// Connects to `url` (`redis://…`).
    pub async fn connect(url: &str) -> Result<InRedis, SharedError> {
        let client = redis::Client::open(url)?;
        let connection = redis::aio::ConnectionManager::new(client).await?;
        Ok(InRedis {
            connection,
            take: redis::Script::new(TAKE),
            give_back: redis::Script::new(GIVE_BACK),
        })
    }

    fn key(bucket: &str) -> String {
        format!("rr:rl:{bucket}")
    }
}

#[async_trait]
impl SharedBuckets for InRedis {
    async fn take(&self, bucket: &str, now_us: i64, limit: u32) -> Result<Result<Admitted, Refused>, SharedError> {
        let mut connection = self.connection.clone();
        let (admitted, tat_us): (i64, i64) = self
            .take
            .key(InRedis::key(bucket))
            .arg(now_us)
            .arg(gcra::interval(limit))
            .arg(PERIOD_US)
            .invoke_async(&mut connection)
            .await?;
        Ok(if admitted == 1 {
            Ok(gcra::admitted(tat_us, now_us, limit))
        } else {
            Err(refused(tat_us, now_us, limit))
        })
    }

    async fn give_back(&self, bucket: &str, limit: u32) -> Result<(), SharedError> {
        let mut connection = self.connection.clone();
        let _: i64 = self
            .give_back
            .key(InRedis::key(bucket))
            .arg(gcra::interval(limit))
            .invoke_async(&mut connection)
            .await?;
        Ok(())
    }

    async fn sweep(&self, _now_us: i64) -> Result<(), SharedError> {
        // Keys expire by themselves.
        Ok(())
    }
}
