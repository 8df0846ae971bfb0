//! Second-factor guessing, limited per account.
//!
//! The sign-in lockout ([`super::lockout`]) counts failures per username *and address*, so that
//! a stranger cannot lock the owner out. But someone who already knows the password and holds
//! many addresses (an IPv6 /64, a pool of proxies) would get a fresh allowance of TOTP guesses
//! at each one. So every wrong code — at sign-in, or when re-authenticating before the second
//! factor itself is changed ([`reauthenticate`]) — also counts against the *account*, whatever
//! its address. After `MFA_MAX_FAILURES` of them in a row the account's MFA step is locked for
//! `MFA_LOCKOUT_MINUTES` (429 with `Retry-After`, even for the right code), and the owner is
//! told: an `mfa_locked` audit event and, when their address is verified, an e-mail written in
//! the transaction that sets the lock.
//!
//! Invariants:
//! - An attempt is counted *before* its code is checked, by one conditional `UPDATE` that
//!   refuses it while locked or while `max_failures` attempts are already counted: however many
//!   guesses arrive in parallel, at most `max_failures` codes are checked between two successes
//!   or locks.
//! - An accepted code resets the count; the first attempt after a lock has ended starts a new one.
//! - A lock is set by exactly one request (`… WHERE mfa_locked_until IS NULL`), which alone
//!   writes the notices; a count left full by attempts that never finished locks (and so ends)
//!   like any other.

use actix_web::HttpRequest;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::audit::Event;
use super::users::Account;
use super::{mfa, password};
use crate::email::Email;
use crate::error::{ApiError, FieldError};
use crate::params;
use crate::storage::Db;
use reserver_actors::Clock;

/// `MFA_MAX_FAILURES` and `MFA_LOCKOUT_MINUTES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaLockoutConfig {
    pub max_failures: i64,
    pub duration: Duration,
}

impl Default for MfaLockoutConfig {
    fn default() -> Self {
        MfaLockoutConfig {
            max_failures: 5,
            duration: Duration::minutes(15),
        }
    }
}

/// What the MFA step's lockout needs: the accounts, failure counts and outbox, the time, the
/// mail sender (for the owner's notice) and the limits.
pub struct Lockout<'a> {
    pub db: &'a Db,
    pub clock: &'a dyn Clock,
    pub email: &'a Email,
    pub config: MfaLockoutConfig,
}

/// What became of a code presented at the MFA step.
pub enum Outcome {
    Accepted,
    /// Wrong (the count allows more attempts).
    Wrong,
    /// Refused unchecked, or this failure locked the step: the 429 to answer.
    Locked(ApiError),
}

/// An attempt counted by [`admit`], to be settled by [`Attempt::succeeded`] or [`Attempt::failed`].
struct Attempt<'a> {
    account: &'a Account,
}

/// Counts an attempt at `account`'s MFA step; `None` when the step is locked (or full).
async fn admit<'a>(
    lockout: &Lockout<'_>,
    account: &'a Account,
    now: DateTime<Utc>,
) -> Result<Option<Attempt<'a>>, ApiError> {
    let admitted = lockout
        .db
        .execute(
            "UPDATE users SET
                 mfa_failures = CASE WHEN mfa_locked_until IS NULL THEN mfa_failures + 1 ELSE 1 END,
                 mfa_locked_until = NULL
             WHERE id = $1
               AND (mfa_locked_until <= $2 OR (mfa_locked_until IS NULL AND mfa_failures < $3))",
            params![account.id, now, lockout.config.max_failures],
        )
        .await?;
    Ok((admitted == 1).then_some(Attempt { account }))
}

impl Attempt<'_> {
    async fn succeeded(self, lockout: &Lockout<'_>) -> Result<(), ApiError> {
        lockout
            .db
            .execute(
                "UPDATE users SET mfa_failures = 0 WHERE id = $1 AND mfa_locked_until IS NULL",
                params![self.account.id],
            )
            .await?;
        Ok(())
    }

    /// The code was wrong: [`Outcome::Locked`] if this failure used up the count.
    async fn failed(self, lockout: &Lockout<'_>, req: &HttpRequest, now: DateTime<Utc>) -> Result<Outcome, ApiError> {
        if lock_if_exhausted(lockout, req, self.account, now).await? {
            Ok(Outcome::Locked(locked(lockout, self.account.id, now).await?))
        } else {
            Ok(Outcome::Wrong)
        }
    }
}

/// Locks the step if its count is used up and it is not locked yet; true for the one request
/// that sets the lock, which also writes the owner's notices.
async fn lock_if_exhausted(
    lockout: &Lockout<'_>,
    req: &HttpRequest,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let config = lockout.config;
    let until = now + config.duration;
    let mut tx = lockout.db.begin().await?;
    let locked = tx
        .execute(
            "UPDATE users SET mfa_locked_until = $2
             WHERE id = $1 AND mfa_locked_until IS NULL AND mfa_failures >= $3",
            params![account.id, until, config.max_failures],
        )
        .await?;
    if locked == 0 {
        return Ok(false);
    }
    let mailed = mail_owner(lockout, &mut tx, account, until, now).await?;
    tx.commit().await?;
    if mailed {
        lockout.email.wake();
    }
    Event::new("mfa_locked", "user")
        .on(Some(account.id), &account.username)
        .details(format!(
            "{} wrong second-factor codes in a row: the MFA step is locked until {}",
            config.max_failures,
            until.to_rfc3339()
        ))
        .record(lockout.db, lockout.clock, req)
        .await;
    Ok(true)
}

/// Writes the lock notice to the owner's verified address, if any (security mail: sent whatever
/// their notification preference). True when a message was written.
async fn mail_owner(
    lockout: &Lockout<'_>,
    tx: &mut Box<dyn crate::storage::Transaction>,
    account: &Account,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    if !lockout.email.enabled() {
        return Ok(false);
    }
    let Some(row) = tx
        .query_opt(
            "SELECT email FROM users WHERE id = $1 AND email IS NOT NULL AND email_verified = $2",
            params![account.id, true],
        )
        .await?
    else {
        return Ok(false);
    };
    let recipient: String = row.get("email")?;
    let body = format!(
        "There were {} wrong second-factor codes in a row for your account '{}', so signing in with a code \
         is locked until {} UTC.\n\nIf this was not you, someone knows your password: have it changed \
         (an administrator can reset it), which also ends every session.",
        lockout.config.max_failures,
        account.username,
        until.format("%Y-%m-%d %H:%M"),
    );
    crate::email::store::enqueue(tx, &recipient, "Second-factor sign-in locked", &body, now).await?;
    Ok(true)
}

/// The 429 of a locked step, with the time left.
async fn locked(lockout: &Lockout<'_>, user_id: i64, now: DateTime<Utc>) -> Result<ApiError, ApiError> {
    let until: Option<DateTime<Utc>> = lockout
        .db
        .query_opt("SELECT mfa_locked_until FROM users WHERE id = $1", params![user_id])
        .await?
        .map(|row| row.get("mfa_locked_until"))
        .transpose()?
        .flatten();
    let seconds = until.map_or(0, |until| (until - now).num_seconds()).max(1);
    Ok(ApiError::TooManyRequests {
        detail: format!(
            "Too many wrong MFA codes: the second factor of this account is locked. Try again in {} minutes.",
            (seconds + 59) / 60
        ),
        retry_after_seconds: seconds.unsigned_abs(),
    })
}

/// Refuses an attempt that found the step locked or full (locking it in the latter case, so
/// that the refusal ends).
async fn refuse(
    lockout: &Lockout<'_>,
    req: &HttpRequest,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<Outcome, ApiError> {
    lock_if_exhausted(lockout, req, account, now).await?;
    Ok(Outcome::Locked(locked(lockout, account.id, now).await?))
}

/// Whether `code` is a current TOTP code or an unused backup code of `account` (using it up).
async fn accepts(lockout: &Lockout<'_>, account: &Account, code: &str, now: DateTime<Utc>) -> Result<bool, ApiError> {
    match account.mfa_secret.as_deref() {
        Some(secret) => mfa::accept_code(lockout.db, account.id, &account.username, secret, code, now).await,
        None => Ok(false),
    }
}

/// Checks a code (TOTP or backup code) at `account`'s MFA step, counted against the account.
pub async fn check_code(
    lockout: &Lockout<'_>,
    req: &HttpRequest,
    account: &Account,
    code: &str,
) -> Result<Outcome, ApiError> {
    let now = lockout.clock.now();
    let Some(attempt) = admit(lockout, account, now).await? else {
        return refuse(lockout, req, account, now).await;
    };
    if accepts(lockout, account, code, now).await? {
        attempt.succeeded(lockout).await?;
        Ok(Outcome::Accepted)
    } else {
        attempt.failed(lockout, req, now).await
    }
}

/// Re-authentication before the second factor itself is changed (new backup codes, MFA off):
/// the current password and a current code, counted like codes at sign-in, so that a stolen
/// session can neither mint codes nor switch MFA off, nor guess its way there. A failure is
/// audited as `failure_action`.
pub async fn reauthenticate(
    lockout: &Lockout<'_>,
    req: &HttpRequest,
    account: &Account,
    given_password: Option<&str>,
    code: Option<&str>,
    failure_action: &'static str,
) -> Result<(), ApiError> {
    let code = code.map(str::trim).filter(|code| !code.is_empty());
    let (Some(given_password), Some(code)) = (given_password, code) else {
        return Err(missing_credentials(given_password.is_none(), code.is_none()));
    };
    let now = lockout.clock.now();
    let outcome = match admit(lockout, account, now).await? {
        None => refuse(lockout, req, account, now).await?,
        Some(attempt) => {
            // The code is checked (and so used up) only behind the right password.
            let password_ok = password::verify(given_password, Some(&account.hashed_password)).await;
            if !password_ok {
                let outcome = attempt.failed(lockout, req, now).await?;
                let wrong = ("invalid password", "Invalid password");
                return Err(refused(lockout, req, account, failure_action, wrong, outcome).await);
            }
            if accepts(lockout, account, code, now).await? {
                attempt.succeeded(lockout).await?;
                return Ok(());
            }
            attempt.failed(lockout, req, now).await?
        }
    };
    let wrong = ("invalid MFA code", "Invalid MFA code");
    Err(refused(lockout, req, account, failure_action, wrong, outcome).await)
}

/// The 422 naming what a re-authentication left out (not a guess: nothing is counted).
fn missing_credentials(password: bool, code: bool) -> ApiError {
    let missing = |field: &str, msg: &str| FieldError {
        kind: "missing".into(),
        loc: vec![json!("body"), json!(field)],
        msg: msg.into(),
        input: serde_json::Value::Null,
    };
    let mut errors = Vec::new();
    if password {
        errors.push(missing("password", "Field required: the current password"));
    }
    if code {
        errors.push(missing(
            "code",
            "Field required: a current MFA code or an unused backup code",
        ));
    }
    ApiError::Validation(errors)
}

/// Audits a refused re-authentication and gives its answer: the lock's 429, or the 400 of
/// `wrong` (the audited reason and the message).
async fn refused(
    lockout: &Lockout<'_>,
    req: &HttpRequest,
    account: &Account,
    action: &'static str,
    wrong: (&str, &str),
    outcome: Outcome,
) -> ApiError {
    let (reason, error) = match outcome {
        Outcome::Locked(error) => ("MFA step locked", error),
        Outcome::Wrong | Outcome::Accepted => (wrong.0, ApiError::BadRequest(wrong.1.into())),
    };
    Event::new(action, "user")
        .by(Some(account.id), &account.username)
        .on(Some(account.id), &account.username)
        .failed(reason)
        .record(lockout.db, lockout.clock, req)
        .await;
    error
}
