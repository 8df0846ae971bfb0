//! The stored roles: listing them, a user's roles, creating one, and counting the active
//! administrators (who must never drop to none). Granting and revoking a role is
//! `auth::users`; what a role may do is the policy in `auth::rbac`.

use super::rbac;
use crate::params;
use crate::storage::{Db, Row, StorageError, Transaction};

#[derive(Debug, Clone)]
pub struct Role {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
}

fn role(row: &Row) -> Result<Role, StorageError> {
    Ok(Role {
        id: row.get("id")?,
        name: row.get("name")?,
        description: row.get("description")?,
    })
}

/// Every role, in id order.
pub async fn all(db: &Db) -> Result<Vec<Role>, StorageError> {
    db.query("SELECT id, name, description FROM roles ORDER BY id", params![])
        .await?
        .iter()
        .map(role)
        .collect()
}

/// `user_id`'s roles, in id order.
pub async fn of_user(db: &Db, user_id: i64) -> Result<Vec<Role>, StorageError> {
    db.query(
        "SELECT r.id, r.name, r.description FROM roles r JOIN user_roles ur ON ur.role_id = r.id
         WHERE ur.user_id = $1 ORDER BY r.id",
        params![user_id],
    )
    .await?
    .iter()
    .map(role)
    .collect()
}

/// Whether a role is called `name`.
pub async fn exists(db: &Db, name: &str) -> Result<bool, StorageError> {
    Ok(db
        .query_opt("SELECT id FROM roles WHERE name = $1", params![name])
        .await?
        .is_some())
}

/// Creates the role; a concurrent creation of the same name is a unique violation of `name`.
pub async fn create(db: &Db, name: &str, description: Option<&str>) -> Result<Role, StorageError> {
    let rows = db
        .query_write(
            "INSERT INTO roles (name, description) VALUES ($1, $2) RETURNING id, name, description",
            params![name, description],
        )
        .await?;
    rows.first()
        .map(role)
        .unwrap_or_else(|| Err(StorageError::Query("INSERT returned no row".into())))
}

/// How many active accounts hold the admin role, as `tx` sees it.
pub async fn active_admins(tx: &mut dyn Transaction) -> Result<i64, StorageError> {
    Ok(tx
        .query_opt(
            "SELECT COUNT(*) AS n FROM user_roles ur JOIN roles r ON r.id = ur.role_id
             JOIN users u ON u.id = ur.user_id WHERE r.name = $1 AND u.is_active = $2",
            params![rbac::ADMIN, true],
        )
        .await?
        .map(|row| row.get("n"))
        .transpose()?
        .unwrap_or(0))
}
