//! Setting and proving one's e-mail address.
//!
//! Setting it stores the address as claimed (unverified) and enqueues a verification message
//! in the same transaction. The message holds no code: the code (256 random bits) is drawn when
//! the message is claimed for sending ([`super::verification_code::issue_code`]), only its SHA-256 is stored, in the
//! verification the message names, and it is valid 24 hours from then. So no code is ever
//! written to the database in clear; a message whose verification was replaced meanwhile is
//! dropped unsent. Presenting the code marks the address verified. Only verified addresses get
//! mail.
//!
//! Invariants:
//! - Only verified addresses are unique (`users.verified_email`): a claim never blocks the real
//!   owner, and when an address is verified, the other accounts' unverified claims of it and
//!   their pending codes are dropped in the same transaction.
//! - Verification messages are throttled per user and per recipient
//!   (`EMAIL_VERIFICATIONS_PER_USER_PER_HOUR`, `EMAIL_VERIFICATIONS_PER_RECIPIENT_PER_HOUR`),
//!   counted from the outbox in the requesting transaction, after the user's row is locked.

use chrono::{DateTime, Duration, Utc};

use reserver_actors::Clock;

use super::Email;
use super::EmailSettings;
use crate::error::ApiError;
use crate::params;
use crate::secret;
use crate::storage::{Db, Transaction, lock_user};

/// The window of the verification throttles.
const THROTTLE_WINDOW: Duration = Duration::hours(1);

/// Longest address SMTP carries (RFC 5321: a 256-octet path less the angle brackets).
const MAX_LENGTH: usize = 254;

pub const SUBJECT: &str = "Verify your e-mail address";

/// What requesting and confirming a verification needs: the accounts and the outbox, the time,
/// the mail sender (to know it runs and to wake it) and the throttles.
pub struct Verifier<'a> {
    pub db: &'a Db,
    pub clock: &'a dyn Clock,
    pub email: &'a Email,
    pub settings: &'a EmailSettings,
}

fn require_enabled(email: &Email) -> Result<(), ApiError> {
    if email.enabled() {
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

/// A 429 when `limit` verification messages matching `filter` (bound to `value`) were written
/// within the window; `Retry-After` says when the oldest of them leaves it.
async fn throttle(
    tx: &mut Box<dyn Transaction>,
    filter: &str,
    value: crate::storage::Value,
    limit: u32,
    what: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let sql = format!(
        "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM email_outbox
         WHERE verifies_user IS NOT NULL AND {filter} AND created_at > $2"
    );
    let row = tx
        .query_opt(&sql, vec![value, (now - THROTTLE_WINDOW).into()])
        .await?
        .ok_or_else(|| ApiError::Internal("COUNT returned no row".into()))?;
    let (count, oldest): (i64, Option<DateTime<Utc>>) = (row.get("n")?, row.get("oldest")?);
    match oldest {
        Some(oldest) if count >= i64::from(limit) => Err(ApiError::TooManyRequests {
            detail: format!("Too many verification messages {what}: at most {limit} per hour"),
            retry_after_seconds: u64::try_from((oldest + THROTTLE_WINDOW - now).num_seconds())
                .unwrap_or(0)
                .max(1),
        }),
        _ => Ok(()),
    }
}

/// Sets `user`'s address (claimed, unverified) and enqueues the message that proves it.
pub async fn request(verifier: &Verifier<'_>, user: i64, raw: &str) -> Result<(), ApiError> {
    require_enabled(verifier.email)?;
    let address = parse_address(raw)?;
    let settings = verifier.settings;
    let now = verifier.clock.now();
    let mut tx = verifier.db.begin().await?;
    lock_user(&mut tx, user).await?;
    let taken = tx
        .query_opt(
            "SELECT id FROM users WHERE LOWER(verified_email) = LOWER($1) AND id <> $2",
            params![address.as_str(), user],
        )
        .await?;
    if taken.is_some() {
        return Err(ApiError::Conflict("Email already registered".into()));
    }
    throttle(
        &mut tx,
        "verifies_user = $1",
        user.into(),
        settings.verifications_per_user,
        "for this account",
        now,
    )
    .await?;
    let to_address = "LOWER(recipient) = LOWER($1)";
    throttle(
        &mut tx,
        to_address,
        address.as_str().into(),
        settings.verifications_per_recipient,
        "to this address",
        now,
    )
    .await?;
    tx.execute(
        "UPDATE users SET email = $1, email_verified = $2, verified_email = NULL WHERE id = $3",
        params![address.as_str(), false, user],
    )
    .await?;
    tx.execute("DELETE FROM email_verifications WHERE user_id = $1", params![user])
        .await?;
    let message = super::store::enqueue_verification(&mut tx, user, &address, SUBJECT, now).await?;
    // No code yet: it is drawn when the message is sent. Until then nothing matches.
    tx.execute(
        "INSERT INTO email_verifications (user_id, email, code_hash, expires_at, created_at, outbox_id)
         VALUES ($1, $2, '', $3, $3, $4)",
        params![user, address.as_str(), now, message],
    )
    .await?;
    tx.commit().await?;
    verifier.email.wake();
    Ok(())
}

/// Marks `user`'s address verified if `code` is the one mailed for it and still valid, and drops
/// every other account's unverified claim of that address.
pub async fn confirm(verifier: &Verifier<'_>, user: i64, code: &str) -> Result<(), ApiError> {
    require_enabled(verifier.email)?;
    let invalid = || ApiError::BadRequest("Invalid or expired verification code".into());
    let now = verifier.clock.now();
    let mut tx = verifier.db.begin().await?;
    let pending = tx
        .query_opt(
            "SELECT email, code_hash, expires_at FROM email_verifications WHERE user_id = $1",
            params![user],
        )
        .await?
        .ok_or_else(invalid)?;
    let expires: DateTime<Utc> = pending.get("expires_at")?;
    let hash: String = pending.get("code_hash")?;
    if hash.is_empty() || now >= expires || !secret::same(&secret::digest(code.trim()), &hash) {
        return Err(invalid());
    }
    let email: String = pending.get("email")?;
    tx.execute(
        "UPDATE users SET email = NULL WHERE LOWER(email) = LOWER($1) AND id <> $2 AND email_verified = $3",
        params![email.as_str(), user, false],
    )
    .await?;
    tx.execute(
        "DELETE FROM email_verifications WHERE LOWER(email) = LOWER($1) OR user_id = $2",
        params![email.as_str(), user],
    )
    .await?;
    tx.execute(
        "UPDATE users SET email_verified = $1, verified_email = email WHERE id = $2 AND email = $3",
        params![true, user, email.as_str()],
    )
    .await
    .map_err(|error| {
        if error.is_unique_violation_of("email") {
            // Another account proved it first.
            ApiError::Conflict("Email already registered".into())
        } else {
            error.into()
        }
    })?;
    tx.commit().await?;
    // The user's bookings may be due for reminders now.
    verifier.email.wake();
    Ok(())
}
