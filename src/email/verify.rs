//! Setting and proving one's e-mail address. Setting it stores the address unverified and mails
//! a one-time code (256 random bits, kept only as its SHA-256, valid 24 hours) in the same
//! transaction; presenting the code marks the address verified. Only verified addresses get mail.

use chrono::{DateTime, Duration, Utc};

use crate::auth::secret;
use crate::error::ApiError;
use crate::params;
use crate::state::AppState;

/// How long a verification code is accepted.
pub const CODE_LIFETIME: Duration = Duration::hours(24);

/// Longest address SMTP carries (RFC 5321: a 256-octet path less the angle brackets).
const MAX_LENGTH: usize = 254;

fn require_enabled(state: &AppState) -> Result<(), ApiError> {
    if state.email.enabled() {
        Ok(())
    } else {
        Err(ApiError::Disabled("E-mail is not enabled on this server".into()))
    }
}

/// `raw` as an address mail can be sent to, or the 422 that says why not.
pub fn parse_address(raw: &str) -> Result<String, ApiError> {
    let address = raw.trim();
    let invalid = |why: &str| ApiError::invalid(&["body", "email"], why, raw);
    if address.len() > MAX_LENGTH {
        return Err(invalid("value is not a valid email address: it is too long"));
    }
    address
        .parse::<lettre::Address>()
        .map_err(|error| invalid(&format!("value is not a valid email address: {error}")))?;
    Ok(address.to_owned())
}

/// Sets `user`'s address (unverified) and mails the code that proves it.
pub async fn request(state: &AppState, user: i64, raw: &str) -> Result<(), ApiError> {
    require_enabled(state)?;
    let address = parse_address(raw)?;
    let code = secret::random_token(32)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let taken = tx
        .query_opt(
            "SELECT id FROM users WHERE LOWER(email) = LOWER($1) AND id <> $2",
            params![address.as_str(), user],
        )
        .await?;
    if taken.is_some() {
        return Err(ApiError::Conflict("Email already registered".into()));
    }
    tx.execute(
        "UPDATE users SET email = $1, email_verified = $2 WHERE id = $3",
        params![address.as_str(), false, user],
    )
    .await
    .map_err(|error| {
        if error.is_unique_violation_of("email") {
            // Another account took it since the check.
            ApiError::Conflict("Email already registered".into())
        } else {
            error.into()
        }
    })?;
    tx.execute("DELETE FROM email_verifications WHERE user_id = $1", params![user])
        .await?;
    tx.execute(
        "INSERT INTO email_verifications (user_id, email, code_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)",
        params![user, address.as_str(), secret::digest(&code), now + CODE_LIFETIME, now],
    )
    .await?;
    let body = format!(
        "Your verification code is:\n\n{code}\n\nSend it to POST /api/v1/users/me/email/verify within 24 hours.\n\
         If you did not ask for this, ignore this message: the address stays unverified."
    );
    super::store::enqueue(&mut tx, &address, "Verify your e-mail address", &body, now).await?;
    tx.commit().await?;
    state.email.wake();
    Ok(())
}

/// Marks `user`'s address verified if `code` is the one mailed for it and still valid.
pub async fn confirm(state: &AppState, user: i64, code: &str) -> Result<(), ApiError> {
    require_enabled(state)?;
    let invalid = || ApiError::BadRequest("Invalid or expired verification code".into());
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let pending = tx
        .query_opt(
            "SELECT email, code_hash, expires_at FROM email_verifications WHERE user_id = $1",
            params![user],
        )
        .await?
        .ok_or_else(invalid)?;
    let expires: DateTime<Utc> = pending.get("expires_at")?;
    let hash: String = pending.get("code_hash")?;
    if now >= expires || !secret::same(&secret::digest(code.trim()), &hash) {
        return Err(invalid());
    }
    let email: String = pending.get("email")?;
    tx.execute(
        "UPDATE users SET email_verified = $1 WHERE id = $2 AND email = $3",
        params![true, user, email.as_str()],
    )
    .await?;
    tx.execute("DELETE FROM email_verifications WHERE user_id = $1", params![user])
        .await?;
    tx.commit().await?;
    // The user's bookings may be due for reminders now.
    state.email.wake();
    Ok(())
}
