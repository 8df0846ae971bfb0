//! The second factor's state on an account, as stored: enrolment (a secret waiting for its
//! first code), enabling, disabling, and replacing the backup codes. Each change is one
//! transaction; `routes::mfa` decides when a change is allowed.

use super::mfa;
use crate::error::ApiError;
use crate::params;
use crate::storage::Db;

/// Starts (or restarts) enrolment of a user without MFA: a new `secret` and backup `codes`.
pub async fn begin_enrolment(db: &Db, user_id: i64, secret: &str, codes: &[String]) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    tx.execute(
        "UPDATE users SET mfa_secret = $2, mfa_last_step = NULL WHERE id = $1 AND mfa_enabled = $3",
        params![user_id, secret, false],
    )
    .await?;
    mfa::store_backup_codes(tx.as_mut(), user_id, codes).await?;
    tx.commit().await?;
    Ok(())
}

/// Enables MFA, remembering the TOTP `step` of the code that proved the enrolment.
pub async fn enable(db: &Db, user_id: i64, step: i64) -> Result<(), ApiError> {
    db.execute(
        "UPDATE users SET mfa_enabled = $2, mfa_last_step = $3 WHERE id = $1",
        params![user_id, true, step],
    )
    .await?;
    Ok(())
}

/// Disables MFA: the secret and every backup code go.
pub async fn disable(db: &Db, user_id: i64) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    tx.execute(
        "UPDATE users SET mfa_enabled = $2, mfa_secret = NULL, mfa_last_step = NULL WHERE id = $1",
        params![user_id, false],
    )
    .await?;
    tx.execute("DELETE FROM mfa_backup_codes WHERE user_id = $1", params![user_id])
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the user's backup codes with `codes`.
pub async fn replace_backup_codes(db: &Db, user_id: i64, codes: &[String]) -> Result<(), ApiError> {
    let mut tx = db.begin().await?;
    mfa::store_backup_codes(tx.as_mut(), user_id, codes).await?;
    tx.commit().await?;
    Ok(())
}
