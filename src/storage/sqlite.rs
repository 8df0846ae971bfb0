//! The embedded SQLite backend.
//!
//! One dedicated thread owns the only writing connection and runs write jobs in order; a small
//! pool of read-only connections serves reads on the blocking thread pool. WAL mode lets readers
//! proceed while a write is in progress. An async lease on the writer makes a transaction's
//! statements contiguous: while a [`SqliteTransaction`] is open, no other write can interleave.
//! [`Backend::run_transaction`] goes further and runs a whole transaction as one job of the
//! writer thread ([`DirectTransaction`]), so its statements cost no thread hop each.
//!
//! Every connection overrides `lower()` with a Unicode-aware version (SQLite's folds only
//! ASCII; PostgreSQL's folds all of Unicode), and interrupts a statement of [`run_query`] or
//! [`run_execute`] that runs past the statement timeout (see [`deadline`]).

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::config::DbConfig;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{OwnedMutexGuard, Semaphore, oneshot};

use super::{Backend, BackendKind, PoolOptions, PoolState, Row, StorageError, Transaction, TxJob, Value};

const OVERLAP_MARKER: &str = "reservations_no_overlap";

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The writer's connection. Only the writer thread ever locks it, so the lock is never
/// contended; it exists so that a [`DirectTransaction`] can own a handle to the connection.
type Shared = Arc<Mutex<Connection>>;

enum Message {
    Job(Job),
    /// A job given the connection's handle, for a whole transaction run on the writer thread.
    Direct(Box<dyn FnOnce(Shared) + Send>),
    Shutdown,
}

fn lock(conn: &Shared) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer thread's mailbox.
#[derive(Clone)]
struct Writer {
    tx: mpsc::Sender<Message>,
}

impl Writer {
    fn spawn(conn: Connection) -> Writer {
        let (tx, rx) = mpsc::channel::<Message>();
        let conn: Shared = Arc::new(Mutex::new(conn));
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                loop {
                    match rx.recv() {
                        Ok(Message::Job(job)) => job(&mut lock(&conn)),
                        Ok(Message::Direct(job)) => job(conn.clone()),
                        Ok(Message::Shutdown) | Err(_) => break,
                    }
                }
                // Dropping the connection checkpoints the WAL into the database file.
            })
            .expect("spawning the SQLite writer thread");
        Writer { tx }
    }

    /// Runs `work` on the writer thread and returns its result.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = reply.send(work(conn));
        });
        self.tx
            .send(Message::Job(job))
            .map_err(|_| StorageError::Unavailable("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StorageError::Unavailable("the SQLite writer has stopped".into()))?
    }

    /// Queues `work` without waiting for it (used from `Drop`).
    fn run_detached(&self, work: impl FnOnce(&mut Connection) + Send + 'static) {
        let _ = self.tx.send(Message::Job(Box::new(work)));
    }
}

/// Read-only connections, opened on demand up to a limit.
struct Readers {
    path: std::path::PathBuf,
    statement_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    opened: AtomicU32,
    max: u32,
}

pub struct SqliteBackend {
    writer: Writer,
    write_lease: Arc<tokio::sync::Mutex<()>>,
    readers: Arc<Readers>,
    acquire_timeout: std::time::Duration,
    closed: AtomicBool,
}

fn open_connection(path: &Path, read_only: bool, statement_timeout: Duration) -> Result<Connection, StorageError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
    };
    let conn = Connection::open_with_flags(path, flags).map_err(map_error)?;
    // WAL: readers do not block the writer nor the other way round. FULL synchronous on the
    // writer: every commit is fsynced before COMMIT returns, so an answered write survives an OS
    // crash or power loss too (NORMAL would only survive a crash of the process). Group commit
    // (`scheduling::group_commit`) shares one fsync among many writes.
    conn.execute_batch(
        "PRAGMA busy_timeout = 5000;
         PRAGMA foreign_keys = ON;",
    )
    .map_err(map_error)?;
    let synchronous = if read_only { "NORMAL" } else { "FULL" };
    conn.pragma_update(None, "synchronous", synchronous)
        .map_err(map_error)?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL").map_err(map_error)?;
    }
    conn.set_prepared_statement_cache_capacity(256);
    // The query planner stability guarantee: a statement's plan does not depend on the values
    // bound to it. Without it SQLite marks a statement whose `LIMIT` (or `LIKE` pattern) is a
    // parameter as expired at every bind and compiles it again at every run, cached or not: one
    // statement of every booking, 8 % of its instructions. Our queries gain nothing from
    // value-specific plans (no `LIKE` on a plain indexed column, no `ANALYZE` statistics).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(map_error)?;
    conn.create_scalar_function(
        "lower",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_INNOCUOUS,
        unicode_lower,
    )
    .map_err(map_error)?;
    // Checked every 1,000 virtual machine instructions: microseconds apart.
    conn.progress_handler(1_000, Some(move || deadline::exceeded(statement_timeout)));
    Ok(conn)
}

/// `lower(x)` folding all of Unicode, as PostgreSQL's does (SQLite's built-in folds only ASCII,
/// so "Ñandú" would never match "ñandú"). Deterministic, so the index on `LOWER(name)` uses it
/// (migration 15 rebuilt that index with it).
fn unicode_lower(ctx: &Context<'_>) -> rusqlite::Result<rusqlite::types::Value> {
    use rusqlite::types::Value as Sql;
    Ok(match ctx.get_raw(0) {
        ValueRef::Null => Sql::Null,
        ValueRef::Integer(v) => Sql::Text(v.to_string()),
        ValueRef::Real(v) => Sql::Text(v.to_string()),
        ValueRef::Text(text) | ValueRef::Blob(text) => Sql::Text(String::from_utf8_lossy(text).to_lowercase()),
    })
}

/// Statement deadlines. The progress handler, installed once per connection, runs on the thread
/// that executes the statement; [`run_query`] and [`run_execute`] mark on that thread when their
/// statement started, and the handler interrupts it (`SQLITE_INTERRUPT`, rolling back what it
/// did) once the timeout has passed. Other statements (migrations, `BEGIN`, `COMMIT`) carry no
/// deadline.
mod deadline {
    use std::cell::Cell;
    use std::time::{Duration, Instant};

    thread_local! {
        static STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
    }

    /// The statement running on this thread; its deadline ends when this is dropped.
    pub struct Running(Option<Instant>);

    pub fn start() -> Running {
        Running(STARTED.replace(Some(Instant::now())))
    }

    impl Drop for Running {
        fn drop(&mut self) {
            STARTED.set(self.0);
        }
    }

    pub fn exceeded(timeout: Duration) -> bool {
        STARTED.get().is_some_and(|started| started.elapsed() > timeout)
    }
}

impl SqliteBackend {
    pub async fn open(path: &Path, options: &PoolOptions) -> Result<SqliteBackend, StorageError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StorageError::Unavailable(format!("cannot create the data directory {}: {e}", dir.display()))
            })?;
        }
        let path = path.to_path_buf();
        let writer_path = path.clone();
        let statement_timeout = options.statement_timeout;
        let conn = tokio::task::spawn_blocking(move || open_connection(&writer_path, false, statement_timeout))
            .await
            .map_err(|e| StorageError::Unavailable(e.to_string()))??;
        let max = options.max_connections.max(1);
        Ok(SqliteBackend {
            writer: Writer::spawn(conn),
            write_lease: Arc::new(tokio::sync::Mutex::new(())),
            readers: Arc::new(Readers {
                path,
                statement_timeout,
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(max as usize)),
                opened: AtomicU32::new(0),
                max,
            }),
            acquire_timeout: options.acquire_timeout,
            closed: AtomicBool::new(false),
        })
    }

    fn check_open(&self) -> Result<(), StorageError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StorageError::Unavailable("the database has been closed".into()));
        }
        Ok(())
    }

    async fn lease(&self) -> Result<OwnedMutexGuard<()>, StorageError> {
        self.check_open()?;
        tokio::time::timeout(self.acquire_timeout, self.write_lease.clone().lock_owned())
            .await
            .map_err(|_| StorageError::Unavailable("timed out waiting for the database writer".into()))
    }

    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        self.check_open()?;
        let permit = tokio::time::timeout(self.acquire_timeout, self.readers.permits.clone().acquire_owned())
            .await
            .map_err(|_| StorageError::Unavailable("timed out waiting for a database connection".into()))?
            .map_err(|_| StorageError::Unavailable("the database has been closed".into()))?;
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let idle = readers.idle.lock().map(|mut idle| idle.pop()).unwrap_or(None);
            let conn = match idle {
                Some(conn) => conn,
                None => {
                    let conn = open_connection(&readers.path, true, readers.statement_timeout)?;
                    readers.opened.fetch_add(1, Ordering::Relaxed);
                    conn
                }
            };
            let result = work(&conn);
            if let Ok(mut idle) = readers.idle.lock() {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StorageError::Query(format!("read task failed: {e}")))?
    }
}

#[async_trait]
impl Backend for SqliteBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Sqlite
    }

    async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError> {
        let sql = to_sqlite_placeholders(sql);
        self.read(move |conn| run_query(conn, &sql, &params)).await
    }

    async fn query_write(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError> {
        let _lease = self.lease().await?;
        let sql = to_sqlite_placeholders(sql);
        self.writer.run(move |conn| run_query(conn, &sql, &params)).await
    }

    async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, StorageError> {
        let _lease = self.lease().await?;
        let sql = to_sqlite_placeholders(sql);
        self.writer.run(move |conn| run_execute(conn, &sql, &params)).await
    }

    async fn begin(&self) -> Result<Box<dyn Transaction>, StorageError> {
        let lease = self.lease().await?;
        self.writer.run(|conn| run_control(conn, "BEGIN IMMEDIATE")).await?;
        Ok(Box::new(SqliteTransaction {
            writer: self.writer.clone(),
            _lease: lease,
            open: true,
        }))
    }

    /// The whole of `job` runs on the writer thread, its statements executed in place: a
    /// booking's dozen statements used to cost a dozen round trips between the writer and the
    /// actor's thread, with the lease held (and every other write waiting) throughout; the load
    /// tests measured that as the limit of booking throughput. `job` must only await its
    /// transaction (it is driven by `block_on` on the writer thread, outside any runtime).
    async fn run_transaction(&self, job: TxJob) -> Result<(), StorageError> {
        let lease = self.lease().await?;
        let (reply, answer) = oneshot::channel();
        let direct = move |conn: Shared| {
            let began = run_control(&lock(&conn), "BEGIN IMMEDIATE");
            let outcome = began.and_then(|()| {
                let tx = Box::new(DirectTransaction { conn, open: true });
                // A panic in `job` must not take the writer thread (and every later write) with
                // it: its transaction rolls back as it unwinds, and the caller gets an error.
                std::panic::catch_unwind(AssertUnwindSafe(|| futures::executor::block_on(job(tx))))
                    .map_err(|_| StorageError::Query("a transaction's work panicked".into()))
            });
            let _ = reply.send(outcome);
        };
        self.writer
            .tx
            .send(Message::Direct(Box::new(direct)))
            .map_err(|_| StorageError::Unavailable("the SQLite writer has stopped".into()))?;
        // The writer runs its jobs in order, and with the lease held no other transaction is
        // half-way: once this job is queued nothing can come between its statements, so the
        // lease goes at once and the next transactions queue up behind it instead of waiting
        // for this one's answer to travel back.
        drop(lease);
        answer
            .await
            .map_err(|_| StorageError::Unavailable("the SQLite writer has stopped".into()))?
    }

    async fn ping(&self) -> Result<(), StorageError> {
        self.read(|conn| run_query(conn, "SELECT 1 AS one", &[]).map(|_| ()))
            .await
    }

    fn pool_state(&self) -> PoolState {
        let readers = &self.readers;
        let in_use_readers = readers.max - readers.permits.available_permits() as u32;
        let writer_busy = u32::from(self.write_lease.try_lock().is_err());
        PoolState {
            size: readers.opened.load(Ordering::Relaxed) + 1,
            in_use: in_use_readers + writer_busy,
        }
    }

    async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        // Wait for the transaction in progress, if any, then stop the writer.
        let _lease = self.write_lease.lock().await;
        let _ = self.writer.tx.send(Message::Shutdown);
        self.readers.permits.close();
        if let Ok(mut idle) = self.readers.idle.lock() {
            idle.clear();
        }
    }
}

/// A transaction on the writer thread; holds the writer lease until committed or dropped.
struct SqliteTransaction {
    writer: Writer,
    _lease: OwnedMutexGuard<()>,
    open: bool,
}

#[async_trait]
impl Transaction for SqliteTransaction {
    fn kind(&self) -> BackendKind {
        BackendKind::Sqlite
    }

    async fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError> {
        let sql = to_sqlite_placeholders(sql);
        self.writer.run(move |conn| run_query(conn, &sql, &params)).await
    }

    async fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<u64, StorageError> {
        let sql = to_sqlite_placeholders(sql);
        self.writer.run(move |conn| run_execute(conn, &sql, &params)).await
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<(), StorageError> {
        let sql = sql.to_owned();
        self.writer
            .run(move |conn| conn.execute_batch(&sql).map_err(map_error))
            .await
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        self.open = false;
        self.writer
            .run(|conn| run_control(conn, "COMMIT"))
            .await
            .inspect_err(|_| {
                // A failed COMMIT leaves the transaction open on the connection: end it.
                self.writer.run_detached(|conn| {
                    let _ = run_control(conn, "ROLLBACK");
                });
            })
    }
}

impl Drop for SqliteTransaction {
    fn drop(&mut self) {
        if self.open {
            // Queued before the lease is released, so it runs before the next writer's work.
            self.writer.run_detached(|conn| {
                let _ = run_control(conn, "ROLLBACK");
            });
        }
    }
}

/// A transaction run in place on the writer thread (see [`Backend::run_transaction`]): every
/// method completes without waiting. Dropped uncommitted, it rolls back at once.
struct DirectTransaction {
    conn: Shared,
    open: bool,
}

#[async_trait]
impl Transaction for DirectTransaction {
    fn kind(&self) -> BackendKind {
        BackendKind::Sqlite
    }

    async fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError> {
        run_query(&lock(&self.conn), &to_sqlite_placeholders(sql), &params)
    }

    async fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<u64, StorageError> {
        run_execute(&lock(&self.conn), &to_sqlite_placeholders(sql), &params)
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<(), StorageError> {
        lock(&self.conn).execute_batch(sql).map_err(map_error)
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        self.open = false;
        let conn = lock(&self.conn);
        run_control(&conn, "COMMIT").inspect_err(|_| {
            // A failed COMMIT leaves the transaction open on the connection: end it.
            let _ = run_control(&conn, "ROLLBACK");
        })
    }
}

impl Drop for DirectTransaction {
    fn drop(&mut self) {
        if self.open {
            let _ = run_control(&lock(&self.conn), "ROLLBACK");
        }
    }
}

/// Rewrites PostgreSQL's `$1` placeholders to SQLite's `?1`, leaving string literals alone.
fn to_sqlite_placeholders(sql: &str) -> String {
    // Runs for every statement, some of them kilobytes long (the analytics upserts): it jumps
    // from mark to mark (`memchr2`) rather than decoding and matching every character, which
    // was 8 % of a booking's instructions, and copies the text between marks as slices. `$`
    // and `'` are ASCII, so every slice ends on a character boundary.
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let (mut in_string, mut copied) = (false, 0);
    for at in memchr::memchr2_iter(b'$', b'\'', bytes) {
        if bytes[at] == b'\'' {
            in_string = !in_string;
        } else if !in_string && bytes.get(at + 1).is_some_and(u8::is_ascii_digit) {
            out.push_str(&sql[copied..at]);
            out.push('?');
            copied = at + 1;
        }
    }
    out.push_str(&sql[copied..]);
    out
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as Sql;
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(Sql::Null),
            Value::Int(v) => ToSqlOutput::Owned(Sql::Integer(*v)),
            Value::Float(v) => ToSqlOutput::Owned(Sql::Real(*v)),
            Value::Bool(v) => ToSqlOutput::Owned(Sql::Integer(i64::from(*v))),
            Value::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Value::Time(v) => ToSqlOutput::Owned(Sql::Integer(Value::micros(v))),
            Value::Json(v) => ToSqlOutput::Owned(Sql::Text(v.to_string())),
        })
    }
}

fn run_query(conn: &Connection, sql: &str, params: &[Value]) -> Result<Vec<Row>, StorageError> {
    let _running = deadline::start();
    let mut stmt = conn.prepare_cached(sql).map_err(map_error)?;
    let columns: Arc<[String]> = stmt.column_names().into_iter().map(str::to_owned).collect();
    let width = columns.len();
    let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(map_error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(map_error)? {
        let mut values = Vec::with_capacity(width);
        for index in 0..width {
            values.push(match row.get_ref(index).map_err(map_error)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(v) => Value::Int(v),
                ValueRef::Real(v) => Value::Float(v),
                ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
                ValueRef::Blob(_) => return Err(StorageError::Decode("unexpected BLOB column".into())),
            });
        }
        out.push(Row::new(columns.clone(), values));
    }
    Ok(out)
}

fn run_execute(conn: &Connection, sql: &str, params: &[Value]) -> Result<u64, StorageError> {
    let _running = deadline::start();
    let mut stmt = conn.prepare_cached(sql).map_err(map_error)?;
    stmt.execute(rusqlite::params_from_iter(params))
        .map(|n| n as u64)
        .map_err(map_error)
}

/// Runs a transaction-control statement (`BEGIN IMMEDIATE`, `COMMIT`, `ROLLBACK`) from the
/// statement cache: every transaction runs them, and `execute_batch` would parse them each time.
/// No deadline: interrupting a commit half-way is no way to bound it.
fn run_control(conn: &Connection, sql: &str) -> Result<(), StorageError> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(drop)
        .map_err(map_error)
}

fn map_error(error: rusqlite::Error) -> StorageError {
    use rusqlite::ffi;
    if let rusqlite::Error::SqliteFailure(failure, message) = &error {
        let message = message.clone().unwrap_or_default();
        if message.contains(OVERLAP_MARKER) {
            return StorageError::Overlap;
        }
        if failure.code == ffi::ErrorCode::OperationInterrupted {
            return StorageError::TimedOut(message);
        }
        return match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => StorageError::UniqueViolation {
                constraint: message.trim_start_matches("UNIQUE constraint failed: ").to_owned(),
            },
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StorageError::ForeignKey(message),
            _ if matches!(
                failure.code,
                ffi::ErrorCode::DatabaseBusy | ffi::ErrorCode::DatabaseLocked
            ) =>
            {
                StorageError::Unavailable(format!("database is busy: {message}"))
            }
            _ => StorageError::Query(format!("{error}")),
        };
    }
    StorageError::Query(error.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rusqlite::StatementStatus;

    use super::{open_connection, to_sqlite_placeholders};

    #[test]
    fn a_cached_statement_with_a_bound_limit_is_compiled_once() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_connection(&dir.path().join("limit.db"), false, Duration::from_secs(5)).unwrap();
        let sql = "SELECT value FROM (SELECT 1 AS value UNION ALL SELECT 2) LIMIT ?1";
        for limit in [1, 2, 1] {
            let mut statement = conn.prepare_cached(sql).unwrap();
            let rows: Vec<i64> = statement
                .query_map([limit], |row| row.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(rows.len(), limit as usize);
        }
        let statement = conn.prepare_cached(sql).unwrap();
        assert_eq!(statement.get_status(StatementStatus::RePrepare), 0);
    }

    /// Writing a blocking reservation builds no temporary b-tree and sorts nothing (migration
    /// 40): the partial indexes' WHERE clauses and the overlap triggers are equalities, not an
    /// `IN` list of three (for which SQLite builds a b-tree at every run), and the triggers'
    /// probe reads the index in order. `EXPLAIN` lists the triggers' programs too.
    #[test]
    fn writing_a_reservation_builds_no_temporary_table() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_connection(&dir.path().join("plan.db"), false, Duration::from_secs(5)).unwrap();
        for migration in reserver_schema::SQLITE {
            conn.execute_batch(migration.sql).unwrap();
        }
        let writes = [
            "INSERT INTO reservations (user_id, resource_id, start_time, end_time, status, created_at)
             VALUES (1, 1, 10, 20, 'active', 5)",
            "UPDATE reservations SET status = 'active', start_time = 30, end_time = 40 WHERE id = 1",
        ];
        for sql in writes {
            let mut explain = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
            let opcodes: Vec<String> = explain
                .query_map([], |row| row.get("opcode"))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(
                opcodes.iter().any(|op| op == "Program"),
                "the overlap trigger runs: {sql}"
            );
            let temporary: Vec<&String> = opcodes
                .iter()
                .filter(|op| matches!(op.as_str(), "OpenEphemeral" | "OpenAutoindex" | "SorterOpen"))
                .collect();
            assert!(temporary.is_empty(), "{sql}: {temporary:?}");
        }
    }

    #[test]
    fn placeholders_are_rewritten_outside_string_literals_only() {
        assert_eq!(
            to_sqlite_placeholders("SELECT '$1', x FROM t WHERE a = $1 AND b = $12"),
            "SELECT '$1', x FROM t WHERE a = ?1 AND b = ?12"
        );
        assert_eq!(
            to_sqlite_placeholders("SELECT 'it''s $2 €', $ FROM \"Ñandú\" WHERE x = $2 || '$'"),
            "SELECT 'it''s $2 €', $ FROM \"Ñandú\" WHERE x = ?2 || '$'"
        );
        assert_eq!(to_sqlite_placeholders("RELEASE SAVEPOINT g"), "RELEASE SAVEPOINT g");
    }
}
