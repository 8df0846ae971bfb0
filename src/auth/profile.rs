//! A user's own account as they see and tune it: their details and notification preferences.

use crate::params;
use crate::storage::{Db, StorageError};

/// The account fields a user sees about themselves.
#[derive(Debug, Clone)]
pub struct Profile {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub mfa_enabled: bool,
    pub email_notifications: bool,
    pub reminder_hours: i64,
}

pub async fn of_user(db: &Db, user_id: i64) -> Result<Option<Profile>, StorageError> {
    let Some(row) = db
        .query_opt(
            "SELECT id, username, email, email_verified, mfa_enabled, email_notifications, reminder_hours
             FROM users WHERE id = $1",
            params![user_id],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Profile {
        id: row.get("id")?,
        username: row.get("username")?,
        email: row.get("email")?,
        email_verified: row.get("email_verified")?,
        mfa_enabled: row.get("mfa_enabled")?,
        email_notifications: row.get("email_notifications")?,
        reminder_hours: row.get("reminder_hours")?,
    }))
}

/// Sets the preferences given, keeping the others.
pub async fn update_preferences(
    db: &Db,
    user_id: i64,
    email_notifications: Option<bool>,
    reminder_hours: Option<i64>,
) -> Result<(), StorageError> {
    db.execute(
        "UPDATE users SET email_notifications = COALESCE($2, email_notifications),
                          reminder_hours = COALESCE(CAST($3 AS BIGINT), reminder_hours)
         WHERE id = $1",
        params![user_id, email_notifications, reminder_hours],
    )
    .await?;
    Ok(())
}
