//! Storage: one [`Backend`] trait, two implementations (embedded SQLite, PostgreSQL), and the
//! migration runner.
//!
//! The rest of the server talks to the database through [`Db`], a cheap clonable handle, with
//! SQL written once in PostgreSQL's `$1` placeholder style (the SQLite backend rewrites the
//! placeholders). Parameters and cells are [`Value`]s, so no caller knows which backend it uses.
//!
//! Invariants:
//! - Reads go through [`Db::query`]; anything that writes goes through [`Db::execute`],
//!   [`Db::query_write`] or a [`Transaction`] from [`Db::begin`]. On SQLite, writes are serialised
//!   on one connection and reads use a pool of others (WAL mode), so readers never wait for a
//!   writer.
//! - A transaction that is dropped without [`Transaction::commit`] is rolled back: a failure half
//!   way leaves nothing behind.
//! - Database errors that a request can cause (unique and overlap violations, foreign keys) come
//!   out as their own [`StorageError`] variants, never as an opaque failure.
//! - No statement runs longer than [`PoolOptions::statement_timeout`]: PostgreSQL cancels it
//!   server-side (`statement_timeout`, set on every pooled connection), SQLite interrupts it from
//!   its progress handler. Either way it fails with [`StorageError::TimedOut`] and its connection
//!   serves the next statement. Migrations are exempt (they may legitimately take long).
//! - Case folding is the same on both backends: `LOWER()` folds all of Unicode (PostgreSQL's
//!   own on a UTF-8 database; on SQLite, whose built-in folds only ASCII, every connection
//!   overrides it with Rust's `str::to_lowercase`).
//!
//! - Every statement through a [`Db`], transactions included, is counted with its time and whether
//!   it failed with a fault ([`QueryCounts`]), for `/metrics` and the metrics summary.
//! - On PostgreSQL, a connection whose rollback could not run is discarded by the pool, never
//!   reused in the middle of a transaction.

mod migrate;
mod pg_tls;
mod postgres;
mod sqlite;
mod value;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::future::BoxFuture;
use reserver_actors::request::RequestId;
use std::sync::Arc;
use tracing::Instrument;

pub use migrate::{MigrationError, MigrationReport};
pub use value::{Binder, FromValue, Row, Value, push_placeholder};

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }
}

/// What went wrong in the database, in terms the layers above can act on.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database cannot be reached, or no connection became free in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint was violated; `constraint` names it as the backend reports it
    /// (for example `resources_name_key` or `resources.name`).
    #[error("unique constraint violated: {constraint}")]
    UniqueViolation { constraint: String },
    /// Two blocking reservations of one resource would overlap (the exclusion constraint on
    /// PostgreSQL, the equivalent trigger on SQLite).
    #[error("overlapping reservation")]
    Overlap,
    /// A foreign key points nowhere.
    #[error("foreign key violated: {0}")]
    ForeignKey(String),
    /// A text value the database cannot store (PostgreSQL refuses NUL characters): the input's
    /// fault, not the server's.
    #[error("text the database cannot store: {0}")]
    InvalidText(String),
    /// A row could not be decoded into the expected type.
    #[error("cannot decode row: {0}")]
    Decode(String),
    /// The database broke a deadlock by failing this statement (PostgreSQL's `40P01`): its
    /// transaction, or the savepoint it ran in, is rolled back, and running it again may
    /// succeed. Two writers inserting overlapping reservations at the same instant can each
    /// wait for the other's uncommitted row, since an exclusion constraint is checked after
    /// the row is inserted.
    #[error("deadlock broken by the database: {0}")]
    Deadlock(String),
    /// A statement ran past the statement timeout and was cancelled by the database
    /// (PostgreSQL's `statement_timeout`, SQLite's progress handler). Nothing it did remains.
    #[error("statement timed out: {0}")]
    TimedOut(String),
    /// Any other database error: a server fault.
    #[error("database error: {0}")]
    Query(String),
}

impl StorageError {
    /// True when a unique constraint whose reported name contains `hint` was violated.
    pub fn is_unique_violation_of(&self, hint: &str) -> bool {
        matches!(self, StorageError::UniqueViolation { constraint } if constraint.contains(hint))
    }

    /// True for a refusal the request caused (a duplicate, an overlap, text the database cannot
    /// store), false for a fault of the database or of the server.
    pub fn is_refused_input(&self) -> bool {
        matches!(
            self,
            StorageError::UniqueViolation { .. } | StorageError::Overlap | StorageError::InvalidText(_)
        )
    }
}

/// Statements run through a [`Db`] since it was opened, for `/metrics` and the metrics summary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueryCounts {
    pub statements: u64,
    /// Statements that failed with a fault ([`StorageError::is_refused_input`] excluded).
    pub faults: u64,
    /// Time spent in statements, waiting for a connection included.
    pub seconds: f64,
}

/// The counters behind [`QueryCounts`], shared by every clone of a [`Db`] and its transactions.
#[derive(Debug, Default)]
struct QueryStats {
    statements: AtomicU64,
    faults: AtomicU64,
    nanos: AtomicU64,
}

impl QueryStats {
    /// Runs one statement, counting it, its time and its outcome.
    async fn count<T>(&self, statement: impl Future<Output = Result<T, StorageError>>) -> Result<T, StorageError> {
        let started = Instant::now();
        let outcome = statement.await;
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        if outcome.as_ref().is_err_and(|error| !error.is_refused_input()) {
            self.faults.fetch_add(1, Ordering::Relaxed);
        }
        outcome
    }

    fn counts(&self) -> QueryCounts {
        QueryCounts {
            statements: self.statements.load(Ordering::Relaxed),
            faults: self.faults.load(Ordering::Relaxed),
            seconds: self.nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

/// A transaction whose statements are counted in its [`Db`]'s [`QueryStats`].
struct CountedTransaction {
    inner: Box<dyn Transaction>,
    stats: Arc<QueryStats>,
}

#[async_trait]
impl Transaction for CountedTransaction {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }

    async fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError> {
        self.stats.count(self.inner.query(sql, params)).await
    }

    async fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<u64, StorageError> {
        self.stats.count(self.inner.execute(sql, params)).await
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<(), StorageError> {
        self.stats.count(self.inner.execute_batch(sql)).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let CountedTransaction { inner, stats } = *self;
        stats.count(inner.commit()).await?;
        let request_id = RequestId::current();
        tracing::debug!(
            request_id = request_id.as_ref().map(RequestId::as_str),
            "transaction committed"
        );
        Ok(())
    }
}

/// Serialises the transactions that act for one user (counting what the user has before adding
/// to it): a no-op write locks the user's row until `tx` ends on PostgreSQL; SQLite serialises
/// writing transactions anyway.
pub async fn lock_user(tx: &mut Box<dyn Transaction>, user: i64) -> Result<(), StorageError> {
    tx.execute("UPDATE users SET id = id WHERE id = $1", vec![Value::Int(user)])
        .await
        .map(drop)
}

/// Number of connections and how many of them are in use, for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolState {
    pub size: u32,
    pub in_use: u32,
}

/// A database the server can run on.
#[async_trait]
pub trait Backend: Send + Sync {
    fn kind(&self) -> BackendKind;
    /// Runs a read-only statement.
    async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError>;
    /// Runs one writing statement on its own and returns the rows it returns (`RETURNING`).
    async fn query_write(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError>;
    /// Runs one writing statement on its own and returns the number of rows it changed.
    async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, StorageError>;
    /// Starts a transaction.
    async fn begin(&self) -> Result<Box<dyn Transaction>, StorageError>;
    /// Runs `job` with a new transaction (which `job` commits, or drops to roll back). Fails
    /// only when the transaction cannot be started; `job`'s own outcome is its business.
    async fn run_transaction(&self, job: TxJob) -> Result<(), StorageError> {
        job(self.begin().await?).await;
        Ok(())
    }
    /// A cheap round trip that proves the database answers.
    async fn ping(&self) -> Result<(), StorageError>;
    /// Opens a wake-up channel shared by every process on this database (PostgreSQL's
    /// `LISTEN`/`NOTIFY`, on a connection of its own): `on_signal` is called with the payload of
    /// every raise, this process's included. `None` where one process owns the database (SQLite).
    async fn signal(
        &self,
        _channel: &'static str,
        _on_signal: OnSignal,
    ) -> Result<Option<Box<dyn Signal>>, StorageError> {
        Ok(None)
    }
    fn pool_state(&self) -> PoolState;
    /// Closes every connection; later calls fail with [`StorageError::Unavailable`].
    async fn close(&self);
}

/// What a [`Signal`]'s listener does with each raise's payload. Runs on the connection's driver:
/// it must not block.
pub type OnSignal = Box<dyn Fn(&str) + Send + Sync>;

/// One end of a channel of wake-ups between the processes on one database ([`Db::signal`]). A
/// raise carries no data that matters (the outbox does): losing one only delays its listeners
/// until they look anyway.
#[async_trait]
pub trait Signal: Send + Sync {
    /// Wakes every listener of the channel, on every process (this one included).
    async fn raise(&self, payload: &str) -> Result<(), StorageError>;
    /// Resolves when the connection has ended; the channel must then be opened again.
    async fn ended(&self);
}

/// Work on a transaction, as [`Backend::run_transaction`] takes it.
pub type TxJob = Box<dyn FnOnce(Box<dyn Transaction>) -> BoxFuture<'static, ()> + Send>;

/// An open transaction. Dropping it without [`Transaction::commit`] rolls it back.
#[async_trait]
pub trait Transaction: Send {
    /// Which database the transaction runs on (for the few statements written per backend).
    fn kind(&self) -> BackendKind;
    async fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError>;
    async fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<u64, StorageError>;
    /// The first row of a statement, if any.
    async fn query_opt(&mut self, sql: &str, params: Vec<Value>) -> Result<Option<Row>, StorageError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }
    /// Runs several `;`-separated statements without parameters (migrations).
    async fn execute_batch(&mut self, sql: &str) -> Result<(), StorageError>;
    async fn commit(self: Box<Self>) -> Result<(), StorageError>;
}

/// Options that shape the connection pools.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Maximum number of connections (PostgreSQL) or reader connections (SQLite).
    pub max_connections: u32,
    /// How long a request waits for a free connection before it fails.
    pub acquire_timeout: Duration,
    /// Longest a single statement may run before the database cancels it
    /// ([`StorageError::TimedOut`]); migrations are exempt.
    pub statement_timeout: Duration,
}

/// Where the data lives, parsed from `DATABASE_URL` or the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

/// The handle the server uses: a clonable reference to the configured [`Backend`].
#[derive(Clone)]
pub struct Db {
    backend: Arc<dyn Backend>,
    stats: Arc<QueryStats>,
}

impl Db {
    /// Opens the database (creating a SQLite file and its directory if needed). Does not migrate.
    pub async fn connect(location: &DatabaseLocation, options: &PoolOptions) -> Result<Db, StorageError> {
        let backend: Arc<dyn Backend> = match location {
            DatabaseLocation::Sqlite(path) => Arc::new(sqlite::SqliteBackend::open(path, options).await?),
            DatabaseLocation::Postgres(url) => Arc::new(postgres::PostgresBackend::connect(url, options).await?),
        };
        Ok(Db {
            backend,
            stats: Arc::default(),
        })
    }

    /// Applies the embedded migrations that this database lacks.
    pub async fn migrate(&self) -> Result<MigrationReport, MigrationError> {
        migrate::run(self).await
    }

    pub fn kind(&self) -> BackendKind {
        self.backend.kind()
    }

    pub async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError> {
        self.stats.count(self.backend.query(sql, params)).await
    }

    /// A SQL expression for the seconds since the Unix epoch of the stored instant `expr`, as a
    /// `DOUBLE PRECISION` (for durations computed in SQL: `end - start` of two of them).
    pub fn epoch_seconds_sql(&self, expr: &str) -> String {
        match self.kind() {
            BackendKind::Postgres => format!("CAST(EXTRACT(EPOCH FROM {expr}) AS DOUBLE PRECISION)"),
            BackendKind::Sqlite => format!("({expr} / 1000000.0)"),
        }
    }

    /// A SQL expression for the number of whole `seconds`-long periods since the Unix epoch of
    /// the stored instant `expr` (a `BIGINT`), for histograms bucketed in SQL.
    pub fn epoch_bucket_sql(&self, expr: &str, seconds: i64) -> String {
        match self.kind() {
            BackendKind::Postgres => format!("CAST(FLOOR(EXTRACT(EPOCH FROM {expr}) / {seconds}) AS BIGINT)"),
            BackendKind::Sqlite => format!("({expr} / {})", seconds * 1_000_000),
        }
    }

    /// A SQL condition "`[start, end)` overlaps `[from, until)`" that a range index answers as
    /// one set of rows — PostgreSQL's GiST over `tstzrange` (`reservations_blocking_during`,
    /// migration 26) — or `None` where there is no such index (SQLite), so that callers look
    /// rows up one key at a time instead.
    pub fn range_overlap_sql(&self, start: &str, end: &str, from: &str, until: &str) -> Option<String> {
        match self.kind() {
            BackendKind::Postgres => Some(format!(
                "tstzrange({start}, {end}, '[)') && tstzrange({from}, {until}, '[)')"
            )),
            BackendKind::Sqlite => None,
        }
    }

    /// Whether the database indexes time ranges (PostgreSQL's GiST; SQLite has none).
    pub fn has_range_indexes(&self) -> bool {
        matches!(self.kind(), BackendKind::Postgres)
    }

    /// The first row of a read, if any.
    pub async fn query_opt(&self, sql: &str, params: Vec<Value>) -> Result<Option<Row>, StorageError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// The single row of a read that always returns one (such as `SELECT COUNT(*)`).
    pub async fn query_one(&self, sql: &str, params: Vec<Value>) -> Result<Row, StorageError> {
        self.query_opt(sql, params)
            .await?
            .ok_or_else(|| StorageError::Decode("query returned no row".into()))
    }

    pub async fn query_write(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError> {
        self.stats.count(self.backend.query_write(sql, params)).await
    }

    pub async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, StorageError> {
        self.stats.count(self.backend.execute(sql, params)).await
    }

    pub async fn begin(&self) -> Result<Box<dyn Transaction>, StorageError> {
        let inner = self.stats.count(self.backend.begin()).await?;
        Ok(self.counted(inner))
    }

    fn counted(&self, inner: Box<dyn Transaction>) -> Box<dyn Transaction> {
        Box::new(CountedTransaction {
            inner,
            stats: self.stats.clone(),
        })
    }

    /// Statements run so far, for the metrics.
    pub fn query_counts(&self) -> QueryCounts {
        self.stats.counts()
    }

    /// Runs `work` with a new transaction, which `work` commits or drops (to roll back) and
    /// never keeps, and returns what `work` returns. Unlike [`Db::begin`], the backend may run the whole of
    /// `work` in one go (SQLite: on its writer thread), so `work` must await nothing but its
    /// transaction. For the hot write paths (the resource actors' batches).
    pub async fn transaction<T, E>(
        &self,
        work: impl FnOnce(Box<dyn Transaction>) -> BoxFuture<'static, Result<T, E>> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let db = self.clone();
        // `work` may run on another thread (SQLite's writer): it keeps the caller's span and
        // request id there.
        let (span, request_id) = (tracing::Span::current(), RequestId::current());
        let job: TxJob = Box::new(move |tx| {
            Box::pin(async move {
                let work = RequestId::scope(request_id, work(db.counted(tx))).instrument(span);
                let _ = reply.send(work.await);
            })
        });
        self.backend.run_transaction(job).await?;
        answer
            .await
            .map_err(|_| StorageError::Unavailable("the transaction was abandoned".into()))?
    }

    pub async fn ping(&self) -> Result<(), StorageError> {
        self.stats.count(self.backend.ping()).await
    }

    pub fn pool_state(&self) -> PoolState {
        self.backend.pool_state()
    }

    /// See [`Backend::signal`].
    pub async fn signal(
        &self,
        channel: &'static str,
        on_signal: OnSignal,
    ) -> Result<Option<Box<dyn Signal>>, StorageError> {
        self.backend.signal(channel, on_signal).await
    }

    pub async fn close(&self) {
        self.backend.close().await
    }
}
