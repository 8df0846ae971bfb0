//! The account store's administrative side: the user list with roles, and the changes an
//! administrator makes to someone else's account (password, enabled flag, failed sign-ins).
//! The writes take the caller's transaction, so `routes::admin` can end the account's
//! sessions in the same commit.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::params;
use crate::storage::{Db, StorageError, Transaction};

/// One account in the administrators' list.
#[derive(Debug, Clone)]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub is_active: bool,
    pub mfa_enabled: bool,
    pub created_at: DateTime<Utc>,
    /// Role names, alphabetical.
    pub roles: Vec<String>,
}

/// A page of accounts in id order, `limit` of them after skipping `skip`.
pub async fn list(db: &Db, limit: i64, skip: i64) -> Result<Vec<UserSummary>, StorageError> {
    let rows = db
        .query(
            "SELECT id, username, email, is_active, mfa_enabled, created_at FROM users ORDER BY id LIMIT $1 OFFSET $2",
            params![limit, skip],
        )
        .await?;
    let mut roles: HashMap<i64, Vec<String>> = HashMap::new();
    for row in db
        .query(
            "SELECT ur.user_id, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
             WHERE ur.user_id IN (SELECT id FROM users ORDER BY id LIMIT $1 OFFSET $2)
             ORDER BY r.name",
            params![limit, skip],
        )
        .await?
    {
        roles.entry(row.get("user_id")?).or_default().push(row.get("name")?);
    }
    rows.iter()
        .map(|row| {
            let id: i64 = row.get("id")?;
            Ok(UserSummary {
                id,
                username: row.get("username")?,
                email: row.get("email")?,
                is_active: row.get("is_active")?,
                mfa_enabled: row.get("mfa_enabled")?,
                created_at: row.get("created_at")?,
                roles: roles.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

/// Sets the account's password hash.
pub async fn set_password(tx: &mut dyn Transaction, user_id: i64, hash: &str) -> Result<(), StorageError> {
    tx.execute(
        "UPDATE users SET hashed_password = $2 WHERE id = $1",
        params![user_id, hash],
    )
    .await?;
    Ok(())
}

/// Forgets the failed (and successful) sign-ins recorded for `username`, lifting a lockout.
pub async fn clear_login_attempts(tx: &mut dyn Transaction, username: &str) -> Result<(), StorageError> {
    tx.execute("DELETE FROM login_attempts WHERE username = $1", params![username])
        .await?;
    Ok(())
}

/// Enables or disables the account.
pub async fn set_active(tx: &mut dyn Transaction, user_id: i64, active: bool) -> Result<(), StorageError> {
    tx.execute(
        "UPDATE users SET is_active = $2 WHERE id = $1",
        params![user_id, active],
    )
    .await?;
    Ok(())
}

/// How many accounts there are.
pub async fn count(db: &Db) -> Result<i64, StorageError> {
    db.query_one("SELECT COUNT(*) AS n FROM users", params![])
        .await?
        .get("n")
}
