//! The PostgreSQL backend: tokio-postgres connections in a bb8 pool.
//!
//! Each pooled connection keeps a cache of prepared statements, so a query costs one round trip
//! after its first use on that connection. A connection returned to the pool while a transaction
//! is still open (a dropped [`PgTransaction`] whose rollback could not run) is discarded by the
//! pool instead of being reused.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use bb8::{ManageConnection, Pool, PooledConnection, RunError};
use bytes::BytesMut;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{AsyncMessage, Client, Config, Connection, NoTls, Socket, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::pg_tls;
use super::{Backend, BackendKind, OnSignal, PoolOptions, PoolState, Row, Signal, StorageError, Transaction, Value};

/// A pooled connection with its statement cache.
pub struct PgConnection {
    client: Client,
    statements: HashMap<String, Statement>,
    in_transaction: bool,
}

impl PgConnection {
    async fn statement(&mut self, sql: &str) -> Result<Statement, StorageError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await.map_err(map_error)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StorageError> {
        let statement = self.statement(sql).await?;
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let rows = self.client.query(&statement, &params).await.map_err(map_error)?;
        let columns: Arc<[String]> = statement.columns().iter().map(|c| c.name().to_owned()).collect();
        rows.iter().map(|row| decode_row(row, &columns)).collect()
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StorageError> {
        let statement = self.statement(sql).await?;
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.client.execute(&statement, &params).await.map_err(map_error)
    }
}

/// How connections are opened: plain, or TLS as `DATABASE_URL` asks ([`pg_tls`]).
#[derive(Clone)]
enum Connector {
    Plain,
    Tls(MakeRustlsConnect),
}

impl Connector {
    /// Opens a connection and spawns its driver, which hands the notifications it receives to
    /// `on_signal` and marks the returned flag when the connection ends.
    async fn connect(
        &self,
        config: &Config,
        on_signal: Option<OnSignal>,
    ) -> Result<(Client, watch::Receiver<bool>), tokio_postgres::Error> {
        let (ended, ended_rx) = watch::channel(false);
        let client = match self {
            Connector::Plain => {
                let (client, connection) = config.connect(NoTls).await?;
                tokio::spawn(drive(connection, on_signal, ended));
                client
            }
            Connector::Tls(tls) => {
                let (client, connection) = config.connect(tls.clone()).await?;
                tokio::spawn(drive(connection, on_signal, ended));
                client
            }
        };
        Ok((client, ended_rx))
    }
}

/// Runs a connection until it ends, handing notifications (`LISTEN`) to `on_signal`.
async fn drive<T>(mut connection: Connection<Socket, T>, on_signal: Option<OnSignal>, ended: watch::Sender<bool>)
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
    while let Some(message) = messages.next().await {
        match message {
            Ok(AsyncMessage::Notification(notification)) => {
                if let Some(on_signal) = &on_signal {
                    on_signal(notification.payload());
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "PostgreSQL connection closed with an error");
                break;
            }
        }
    }
    let _ = ended.send(true);
}

pub struct Manager {
    config: Config,
    connector: Connector,
    /// `SET statement_timeout = …` for every new connection.
    statement_timeout: String,
}

impl ManageConnection for Manager {
    type Connection = PgConnection;
    type Error = tokio_postgres::Error;

    async fn connect(&self) -> Result<PgConnection, tokio_postgres::Error> {
        let (client, _ended) = self.connector.connect(&self.config, None).await?;
        // Server-side, so a statement whose client gave up (a dropped request) is still
        // cancelled, and no query of an anonymous client can hold a backend for long.
        client.batch_execute(&self.statement_timeout).await?;
        Ok(PgConnection {
            client,
            statements: HashMap::new(),
            in_transaction: false,
        })
    }

    async fn is_valid(&self, conn: &mut PgConnection) -> Result<(), tokio_postgres::Error> {
        conn.client.simple_query("").await.map(|_| ())
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        conn.client.is_closed() || conn.in_transaction
    }
}

pub struct PostgresBackend {
    pool: Pool<Manager>,
    /// How the pool connects, for connections of their own ([`Backend::signal`]).
    config: Config,
    connector: Connector,
    closed: AtomicBool,
}

impl PostgresBackend {
    pub async fn connect(url: &str, options: &PoolOptions) -> Result<PostgresBackend, StorageError> {
        let target = pg_tls::parse(url)?;
        let mut config: Config = target
            .url
            .parse()
            .map_err(|e| StorageError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?;
        let connector = match &target.tls {
            None => Connector::Plain,
            Some(tls) => {
                config.ssl_mode(tls.mode);
                Connector::Tls(tls.connector()?)
            }
        };
        let pool = Pool::builder()
            .max_size(options.max_connections.max(1))
            .connection_timeout(options.acquire_timeout)
            .build(Manager {
                config: config.clone(),
                connector: connector.clone(),
                statement_timeout: format!(
                    "SET statement_timeout = {}",
                    options.statement_timeout.as_millis().max(1)
                ),
            })
            .await
            .map_err(map_error)?;
        let backend = PostgresBackend {
            pool,
            config,
            connector,
            closed: AtomicBool::new(false),
        };
        backend.ping().await?;
        Ok(backend)
    }

    async fn connection(&self) -> Result<PooledConnection<'_, Manager>, StorageError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StorageError::Unavailable("the database has been closed".into()));
        }
        self.pool.get().await.map_err(map_run_error)
    }
}

#[async_trait]
impl Backend for PostgresBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Postgres
    }

    async fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError> {
        self.connection().await?.query(sql, &params).await
    }

    async fn query_write(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError> {
        self.connection().await?.query(sql, &params).await
    }

    async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, StorageError> {
        self.connection().await?.execute(sql, &params).await
    }

    async fn begin(&self) -> Result<Box<dyn Transaction>, StorageError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StorageError::Unavailable("the database has been closed".into()));
        }
        let mut conn = self.pool.get_owned().await.map_err(map_run_error)?;
        conn.in_transaction = true;
        conn.client.batch_execute("BEGIN").await.map_err(map_error)?;
        Ok(Box::new(PgTransaction { conn: Some(conn) }))
    }

    async fn ping(&self) -> Result<(), StorageError> {
        self.connection()
            .await?
            .client
            .simple_query("SELECT 1")
            .await
            .map(|_| ())
            .map_err(map_error)
    }

    async fn signal(
        &self,
        channel: &'static str,
        on_signal: OnSignal,
    ) -> Result<Option<Box<dyn Signal>>, StorageError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StorageError::Unavailable("the database has been closed".into()));
        }
        let (client, ended) = self
            .connector
            .connect(&self.config, Some(on_signal))
            .await
            .map_err(map_error)?;
        // A raise is a transaction of its own that nobody needs durable: it need not wait for
        // the WAL flush.
        client
            .batch_execute(&format!("SET synchronous_commit = off; LISTEN {channel}"))
            .await
            .map_err(map_error)?;
        Ok(Some(Box::new(PgSignal { client, channel, ended })))
    }

    fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            size: state.connections,
            in_use: state.connections - state.idle_connections,
        }
    }

    async fn close(&self) {
        // bb8 closes idle connections when the pool is dropped; refusing new work is enough to
        // let the in-flight ones finish and the process exit.
        self.closed.store(true, Ordering::Release);
    }
}

/// A connection of its own that `LISTEN`s on one channel and `NOTIFY`s it.
struct PgSignal {
    client: Client,
    channel: &'static str,
    ended: watch::Receiver<bool>,
}

#[async_trait]
impl Signal for PgSignal {
    async fn raise(&self, payload: &str) -> Result<(), StorageError> {
        self.client
            .execute("SELECT pg_notify($1, $2)", &[&self.channel, &payload])
            .await
            .map(drop)
            .map_err(map_error)
    }

    async fn ended(&self) {
        let mut ended = self.ended.clone();
        let _ = ended.wait_for(|ended| *ended).await;
    }
}

struct PgTransaction {
    conn: Option<PooledConnection<'static, Manager>>,
}

impl PgTransaction {
    fn conn(&mut self) -> Result<&mut PooledConnection<'static, Manager>, StorageError> {
        self.conn
            .as_mut()
            .ok_or_else(|| StorageError::Query("transaction already finished".into()))
    }
}

#[async_trait]
impl Transaction for PgTransaction {
    fn kind(&self) -> BackendKind {
        BackendKind::Postgres
    }

    async fn query(&mut self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>, StorageError> {
        self.conn()?.query(sql, &params).await
    }

    async fn execute(&mut self, sql: &str, params: Vec<Value>) -> Result<u64, StorageError> {
        self.conn()?.execute(sql, &params).await
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<(), StorageError> {
        self.conn()?.client.batch_execute(sql).await.map_err(map_error)
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        let mut conn = self
            .conn
            .take()
            .ok_or_else(|| StorageError::Query("transaction already finished".into()))?;
        let result = conn.client.batch_execute("COMMIT").await.map_err(map_error);
        // After a failed COMMIT PostgreSQL has rolled back; either way no transaction is open.
        conn.in_transaction = false;
        result
    }
}

impl Drop for PgTransaction {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else { return };
        // Roll back off the caller's path. Without a runtime the connection keeps its
        // `in_transaction` mark and the pool discards it.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if conn.client.batch_execute("ROLLBACK").await.is_ok() {
                    conn.in_transaction = false;
                }
            });
        }
    }
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        fn bind<T: ToSql>(value: &T, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
            if !T::accepts(ty) {
                return Err(format!(
                    "cannot bind a {} parameter to a {ty} column",
                    std::any::type_name::<T>()
                )
                .into());
            }
            value.to_sql(ty, out)
        }
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT2 => bind(&i16::try_from(*v)?, ty, out),
                Type::INT4 => bind(&i32::try_from(*v)?, ty, out),
                Type::FLOAT8 => bind(&(*v as f64), ty, out),
                _ => bind(v, ty, out),
            },
            Value::Float(v) => bind(v, ty, out),
            Value::Bool(v) => bind(v, ty, out),
            Value::Text(v) => bind(v, ty, out),
            Value::Time(v) => bind(v, ty, out),
            Value::Json(v) => bind(v, ty, out),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        // Checked per value in `to_sql`, which knows the variant.
        true
    }

    to_sql_checked!();
}

fn decode_row(row: &tokio_postgres::Row, columns: &Arc<[String]>) -> Result<Row, StorageError> {
    let mut values = Vec::with_capacity(columns.len());
    for (index, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let cell = |e: tokio_postgres::Error| StorageError::Decode(format!("column `{}`: {e}", column.name()));
        let value = match *ty {
            Type::INT8 => row.try_get::<_, Option<i64>>(index).map_err(cell)?.map(Value::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(index)
                .map_err(cell)?
                .map(|v| Value::Int(v.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(index)
                .map_err(cell)?
                .map(|v| Value::Int(v.into())),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(index).map_err(cell)?.map(Value::Float),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(index)
                .map_err(cell)?
                .map(|v| Value::Float(v.into())),
            Type::BOOL => row.try_get::<_, Option<bool>>(index).map_err(cell)?.map(Value::Bool),
            Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => {
                row.try_get::<_, Option<String>>(index).map_err(cell)?.map(Value::Text)
            }
            Type::TIMESTAMPTZ => row
                .try_get::<_, Option<DateTime<Utc>>>(index)
                .map_err(cell)?
                .map(Value::Time),
            Type::TIMESTAMP => row
                .try_get::<_, Option<NaiveDateTime>>(index)
                .map_err(cell)?
                .map(|v| Value::Time(v.and_utc())),
            Type::DATE => row
                .try_get::<_, Option<NaiveDate>>(index)
                .map_err(cell)?
                .map(|d| Value::Text(d.to_string())),
            Type::JSON | Type::JSONB => row
                .try_get::<_, Option<serde_json::Value>>(index)
                .map_err(cell)?
                .map(Value::Json),
            Type::UUID => row
                .try_get::<_, Option<uuid::Uuid>>(index)
                .map_err(cell)?
                .map(|u| Value::Text(u.to_string())),
            _ => {
                return Err(StorageError::Decode(format!(
                    "column `{}` has unsupported type {ty}",
                    column.name()
                )));
            }
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row::new(columns.clone(), values))
}

fn map_error(error: tokio_postgres::Error) -> StorageError {
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        if *code == SqlState::EXCLUSION_VIOLATION {
            return StorageError::Overlap;
        }
        if *code == SqlState::UNIQUE_VIOLATION {
            return StorageError::UniqueViolation {
                constraint: db.constraint().unwrap_or_default().to_owned(),
            };
        }
        if *code == SqlState::T_R_DEADLOCK_DETECTED {
            return StorageError::Deadlock(db.message().to_owned());
        }
        // 57014: cancelled, here by `statement_timeout`.
        if *code == SqlState::QUERY_CANCELED {
            return StorageError::TimedOut(db.message().to_owned());
        }
        if *code == SqlState::FOREIGN_KEY_VIOLATION {
            return StorageError::ForeignKey(db.message().to_owned());
        }
        // Text PostgreSQL cannot store (a NUL character) came from the client: bad input.
        if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE || *code == SqlState::UNTRANSLATABLE_CHARACTER {
            return StorageError::InvalidText(db.message().to_owned());
        }
        return StorageError::Query(format!("{}: {}", code.code(), db.message()));
    }
    if error.is_closed() {
        return StorageError::Unavailable(format!("connection closed: {error}"));
    }
    // Errors without a server response are I/O failures: the database is out of reach.
    match error.source() {
        Some(source) => StorageError::Unavailable(format!("{error}: {source}")),
        None => StorageError::Query(error.to_string()),
    }
}

fn map_run_error(error: RunError<tokio_postgres::Error>) -> StorageError {
    match error {
        RunError::User(error) => map_error(error),
        RunError::TimedOut => StorageError::Unavailable("timed out waiting for a database connection".into()),
    }
}
