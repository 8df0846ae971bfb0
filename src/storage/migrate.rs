//! Applies the embedded migrations of `reserver-schema` at start-up.
//!
//! Each applied migration is recorded in `schema_migrations` with a checksum of its text, in the
//! same transaction as its statements, so a migration is either fully applied and recorded or not
//! at all. A database whose newest recorded version is unknown to this binary was migrated by a
//! newer release: the server refuses to start rather than run old code against a new schema.
//! On PostgreSQL an advisory lock serialises servers that start at the same moment.
//!
//! The runner is this module rather than a crate such as refinery, whose rusqlite support pins old
//! rusqlite releases; it is short and gives the "newer release" check.

use chrono::Utc;
use reserver_schema::Migration;

use super::{BackendKind, Db, StorageError};
use crate::params;

/// Arbitrary key of the advisory lock that serialises migration runs on PostgreSQL.
const MIGRATION_LOCK_KEY: i64 = 0x7265_7365_7276_6572; // "reserver"

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "the database is at schema version {found}, newer than the {known} this binary knows: \
         it was migrated by a newer release of resource-reserver; run that release or newer"
    )]
    NewerThanBinary { found: i64, known: i64 },
    #[error("migration {version} ({name}) was changed after it was applied (checksum mismatch); refusing to start")]
    Modified { version: i64, name: String },
    #[error("migration {version} ({name}) failed")]
    Failed {
        version: i64,
        name: &'static str,
        source: StorageError,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a run did: the versions it applied (empty when the database was current).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied: Vec<i64>,
    pub current_version: i64,
}

/// FNV-1a of the migration text: detects edits, not tampering.
fn checksum(sql: &str) -> String {
    let hash = sql.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

pub(super) async fn run(db: &Db) -> Result<MigrationReport, MigrationError> {
    let migrations: &[Migration] = match db.kind() {
        BackendKind::Postgres => reserver_schema::POSTGRES,
        BackendKind::Sqlite => reserver_schema::SQLITE,
    };
    let known = migrations.last().map_or(0, |m| m.version);

    let mut tx = db.begin().await?;
    if db.kind() == BackendKind::Postgres {
        // A migration may rebuild a large table or wait for another server's: exempt from the
        // statement timeout meant for requests.
        tx.execute_batch("SET LOCAL statement_timeout = 0").await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", params![MIGRATION_LOCK_KEY])
            .await?;
    }
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             checksum   TEXT NOT NULL,
             applied_at TEXT NOT NULL
         )",
    )
    .await?;
    let rows = tx
        .query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
            params![],
        )
        .await?;
    let mut applied_versions = Vec::with_capacity(rows.len());
    for row in &rows {
        let version: i64 = row.get("version")?;
        let name: String = row.get("name")?;
        if version > known {
            return Err(MigrationError::NewerThanBinary { found: version, known });
        }
        let expected = migrations.iter().find(|m| m.version == version);
        if expected.is_none_or(|m| checksum(m.sql) != row.get::<String>("checksum").unwrap_or_default()) {
            return Err(MigrationError::Modified { version, name });
        }
        applied_versions.push(version);
    }

    let mut applied = Vec::new();
    for migration in migrations.iter().filter(|m| !applied_versions.contains(&m.version)) {
        let failed = |source| MigrationError::Failed {
            version: migration.version,
            name: migration.name,
            source,
        };
        tx.execute_batch(migration.sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
            params![
                migration.version,
                migration.name,
                checksum(migration.sql),
                Utc::now().to_rfc3339()
            ],
        )
        .await?;
        tracing::info!(version = migration.version, name = migration.name, "applied migration");
        applied.push(migration.version);
    }
    tx.commit().await?;
    Ok(MigrationReport {
        applied,
        current_version: known,
    })
}
