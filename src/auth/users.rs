//! The account store: users and their roles, as the rest of identity reads and writes them.

use chrono::{DateTime, Utc};

use crate::error::ApiError;
use crate::events::{EventWriter, NewEvent};
use crate::params;
use crate::storage::{Db, Row, StorageError, Transaction};

/// A user as login and account management need it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub hashed_password: String,
    pub is_active: bool,
    pub mfa_enabled: bool,
    pub mfa_secret: Option<String>,
    pub mfa_last_step: Option<i64>,
}

const ACCOUNT_COLUMNS: &str = "id, username, hashed_password, is_active, mfa_enabled, mfa_secret, mfa_last_step";

fn account(row: &Row) -> Result<Account, StorageError> {
    Ok(Account {
        id: row.get("id")?,
        username: row.get("username")?,
        hashed_password: row.get("hashed_password")?,
        is_active: row.get("is_active")?,
        mfa_enabled: row.get("mfa_enabled")?,
        mfa_secret: row.get("mfa_secret")?,
        mfa_last_step: row.get("mfa_last_step")?,
    })
}

/// The account named `username` (already lower-case).
pub async fn by_username(db: &Db, username: &str) -> Result<Option<Account>, ApiError> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE username = $1");
    Ok(db
        .query_opt(&sql, params![username])
        .await?
        .as_ref()
        .map(account)
        .transpose()?)
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<Account>, ApiError> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE id = $1");
    Ok(db
        .query_opt(&sql, params![id])
        .await?
        .as_ref()
        .map(account)
        .transpose()?)
}

pub async fn exists(db: &Db, username: &str) -> Result<bool, ApiError> {
    Ok(db
        .query_opt("SELECT id FROM users WHERE username = $1", params![username])
        .await?
        .is_some())
}

/// Inserts a user with its `user_created` event; `Ok(None)` when the username is taken.
pub async fn insert(
    tx: &mut Box<dyn Transaction>,
    events: &EventWriter,
    username: &str,
    hashed_password: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, ApiError> {
    let inserted = tx
        .query_opt(
            "INSERT INTO users (username, hashed_password, created_at) VALUES ($1, $2, $3) RETURNING id",
            params![username, hashed_password, now],
        )
        .await;
    let id = match inserted {
        Ok(Some(row)) => row.get::<i64>("id")?,
        Ok(None) => return Err(StorageError::Decode("INSERT returned no id".into()).into()),
        Err(error) if error.is_unique_violation_of("username") => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    events
        .record_unattributed(tx, vec![NewEvent::user_created(id, username)], now)
        .await?;
    Ok(Some(id))
}

/// Gives `user_id` the role `role` (case-insensitive); false when no such role exists.
/// Assigning a role the user holds already is a no-op.
pub async fn grant_role(tx: &mut dyn Transaction, user_id: i64, role: &str) -> Result<bool, ApiError> {
    let Some(role_id) = role_id(tx, role).await? else {
        return Ok(false);
    };
    tx.execute(
        "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        params![user_id, role_id],
    )
    .await?;
    Ok(true)
}

/// Takes `role` from `user_id`; false when no such role exists.
pub async fn revoke_role(tx: &mut dyn Transaction, user_id: i64, role: &str) -> Result<bool, ApiError> {
    let Some(role_id) = role_id(tx, role).await? else {
        return Ok(false);
    };
    tx.execute(
        "DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2",
        params![user_id, role_id],
    )
    .await?;
    Ok(true)
}

async fn role_id(tx: &mut dyn Transaction, role: &str) -> Result<Option<i64>, ApiError> {
    Ok(tx
        .query_opt("SELECT id FROM roles WHERE LOWER(name) = LOWER($1)", params![role])
        .await?
        .map(|row| row.get::<i64>("id"))
        .transpose()?)
}
