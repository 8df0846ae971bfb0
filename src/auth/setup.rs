//! First-run setup: who becomes the first administrator.
//!
//! Two flags in `system_settings` (`setup_complete`, `setup_reopened`), as in the original.
//! The first admin comes either from `POST /setup/initialize` (which, unlike the original, needs
//! the setup token logged at start-up, so a stranger who reaches a fresh server first cannot
//! take it over) or from the first registration while setup is incomplete. Both go through
//! [`claim_completion`], an atomic compare-and-set on `setup_complete`, inside the transaction
//! that creates the admin: of any number of racing requests exactly one wins.

use chrono::{DateTime, Utc};

use crate::error::ApiError;
use crate::params;
use crate::storage::{Db, StorageError, Transaction};

pub const COMPLETE: &str = "setup_complete";
pub const REOPENED: &str = "setup_reopened";

/// Initialises the flags on first start (complete when users already exist) and, while setup
/// is incomplete, returns a fresh setup token for this run (logged by the caller).
pub async fn prepare(db: &Db, now: DateTime<Utc>) -> Result<Option<String>, StorageError> {
    let users: i64 = db
        .query_one("SELECT COUNT(*) AS n FROM users", params![])
        .await?
        .get("n")?;
    for (key, value) in [(COMPLETE, users > 0), (REOPENED, false)] {
        db.execute(
            "INSERT INTO system_settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            params![key, value.to_string(), now],
        )
        .await?;
    }
    let (complete, _) = flags(db).await?;
    Ok((!complete).then(|| uuid::Uuid::new_v4().simple().to_string()))
}

async fn flag(db: &Db, key: &str) -> Result<bool, StorageError> {
    Ok(db
        .query_opt("SELECT value FROM system_settings WHERE key = $1", params![key])
        .await?
        .map(|row| row.get::<String>("value"))
        .transpose()?
        .is_some_and(|value| value == "true"))
}

/// `(setup_complete, setup_reopened)`.
pub async fn flags(db: &Db) -> Result<(bool, bool), StorageError> {
    Ok((flag(db, COMPLETE).await?, flag(db, REOPENED).await?))
}

pub async fn set_flag(tx: &mut dyn Transaction, key: &str, value: bool, now: DateTime<Utc>) -> Result<(), ApiError> {
    tx.execute(
        "UPDATE system_settings SET value = $2, updated_at = $3 WHERE key = $1",
        params![key, value.to_string(), now],
    )
    .await?;
    Ok(())
}

/// Marks setup complete if it was incomplete (and, with `require_not_reopened`, not reopened);
/// true for the one caller whose update took effect. On PostgreSQL the row lock makes a racing
/// transaction wait and then see `true`; on SQLite writers are serialised.
pub async fn claim_completion(
    tx: &mut dyn Transaction,
    now: DateTime<Utc>,
    require_not_reopened: bool,
) -> Result<bool, ApiError> {
    let sql = if require_not_reopened {
        "UPDATE system_settings SET value = 'true', updated_at = $1
         WHERE key = 'setup_complete' AND value = 'false'
           AND NOT EXISTS (SELECT 1 FROM system_settings WHERE key = 'setup_reopened' AND value = 'true')"
    } else {
        "UPDATE system_settings SET value = 'true', updated_at = $1 WHERE key = 'setup_complete' AND value = 'false'"
    };
    Ok(tx.execute(sql, params![now]).await? == 1)
}
