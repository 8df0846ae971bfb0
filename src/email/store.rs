//! The e-mail outbox: messages enqueued in a change's transaction, and the sender's
//! [`MailStore`] over SQL.
//!
//! A claim is one `UPDATE … WHERE status = 'pending' AND next_attempt_at <= now … RETURNING`
//! that moves `next_attempt_at` to the end of the claim and stamps the claim's token — the same
//! scheme as webhook deliveries (`webhooks::store`): on PostgreSQL a concurrent claimer re-checks
//! the condition on the updated row and skips it; SQLite serialises writes. Only the claim's
//! token records the outcome, so each attempt is made by one process.
//!
//! A message keeps its body only while it is pending: recording it sent or given up wipes it.
//! Verification messages are stored without one and rendered when claimed
//! ([`super::verification_code`]); notices end [`with_footer`].

use chrono::{DateTime, Duration, Utc};
use reserver_actors::mail::{MailStore, Outcome, Outgoing};
use reserver_actors::webhook::StoreResult;

use crate::params;
use crate::storage::{Db, StorageError, Transaction};

/// Writes a message to send after `tx` commits (due at once); returns its id.
async fn insert(
    tx: &mut Box<dyn Transaction>,
    recipient: &str,
    subject: &str,
    body: &str,
    verifies_user: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, StorageError> {
    tx.query_opt(
        "INSERT INTO email_outbox (recipient, subject, body, status, attempts, next_attempt_at, created_at, verifies_user)
         VALUES ($1, $2, $3, 'pending', 0, $4, $4, $5) RETURNING id",
        params![recipient, subject, body, now, verifies_user],
    )
    .await?
    .ok_or_else(|| StorageError::Decode("INSERT returned no id".into()))?
    .get("id")
}

/// Writes a message to send after `tx` commits (due at once).
pub async fn enqueue(
    tx: &mut Box<dyn Transaction>,
    recipient: &str,
    subject: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    insert(tx, recipient, subject, body, None, now).await.map(drop)
}

/// Writes the message that verifies `user`'s address `recipient`, without a body: it is
/// rendered, with a fresh code, when the message is claimed (see [`super::verify`]).
pub async fn enqueue_verification(
    tx: &mut Box<dyn Transaction>,
    user: i64,
    recipient: &str,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<i64, StorageError> {
    insert(tx, recipient, subject, "", Some(user), now).await
}

/// `text` with the note that tells how to stop these messages.
pub fn with_footer(text: &str) -> String {
    format!(
        "{text}\n\n--\nYou receive this because e-mail notifications are on for your account. Switch them off \
         with PATCH /api/v1/users/me/preferences {{\"email_notifications\": false}}."
    )
}

/// The longest `reminder_hours` a user may choose: bookings starting later need no look yet.
const LONGEST_REMINDER: Duration = Duration::hours(168);

/// Reminders are looked for again at least this often (bookings beyond the horizon come into it).
const REMINDER_RECHECK: Duration = Duration::hours(24);

/// The reminder's subject: hours until the start, rounded down, plus one (wire format).
fn reminder_subject(resource: &str, start: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!(
        "Reminder: {resource} reservation in {} hour(s)",
        (start - now).num_hours() + 1
    )
}

/// A verification message whose verification was replaced or completed before it was sent: it
/// is given up unsent.
async fn drop_superseded(db: &Db, id: i64, claim: &str) -> Result<(), StorageError> {
    db.execute(
        "UPDATE email_outbox SET status = 'failed', last_error = $1, next_attempt_at = NULL, claim = NULL
         WHERE id = $2 AND claim = $3",
        params!["superseded by a later request for this account", id, claim],
    )
    .await
    .map(drop)
}

pub struct SqlMailStore {
    db: Db,
}

impl SqlMailStore {
    pub fn new(db: Db) -> SqlMailStore {
        SqlMailStore { db }
    }
}

impl MailStore for SqlMailStore {
    fn claim_due(&self, now: DateTime<Utc>, limit: usize, until: DateTime<Utc>) -> StoreResult<Vec<Outgoing>> {
        let db = self.db.clone();
        Box::pin(async move {
            let claim = uuid::Uuid::new_v4().simple().to_string();
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = db
                .query_write(
                    "UPDATE email_outbox SET claim = $1, next_attempt_at = $2
                     WHERE id IN (SELECT id FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= $3
                                  ORDER BY next_attempt_at, id LIMIT $4)
                       AND status = 'pending' AND next_attempt_at <= $3
                     RETURNING id, recipient, subject, body, attempts, verifies_user",
                    params![claim.as_str(), until, now, limit],
                )
                .await?;
            let mut claimed = Vec::with_capacity(rows.len());
            for row in rows {
                let id: i64 = row.get("id")?;
                let body = match row.get::<Option<i64>>("verifies_user")? {
                    None => row.get("body")?,
                    Some(user) => match super::verification_code::issue_code(&db, id, user, now).await? {
                        Some(body) => body,
                        None => {
                            drop_superseded(&db, id, &claim).await?;
                            continue;
                        }
                    },
                };
                claimed.push(Outgoing {
                    id,
                    claim: claim.clone(),
                    recipient: row.get("recipient")?,
                    subject: row.get("subject")?,
                    body,
                    failures: u32::try_from(row.get::<i64>("attempts")?).unwrap_or(u32::MAX),
                });
            }
            Ok(claimed)
        })
    }

    fn next_due(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let db = self.db.clone();
        Box::pin(async move {
            let row = db
                .query_one(
                    "SELECT MIN(next_attempt_at) AS due FROM email_outbox WHERE status = $1",
                    params!["pending"],
                )
                .await?;
            Ok(row.get("due")?)
        })
    }

    fn settle(&self, message: &Outgoing, outcome: &Outcome) -> StoreResult<()> {
        let db = self.db.clone();
        let (id, claim) = (message.id, message.claim.clone());
        let (status, attempts, error, next, sent_at) = match outcome.clone() {
            Outcome::Sent { at } => ("sent", message.failures, None, None, Some(at)),
            Outcome::Retry {
                failures,
                error,
                next_attempt_at,
            } => ("pending", failures, Some(error), Some(next_attempt_at), None),
            Outcome::Failed { failures, error } => ("failed", failures, Some(error), None, None),
        };
        // Only a message still to send keeps its body.
        let wiped = (status != "pending").then_some("");
        Box::pin(async move {
            db.execute(
                "UPDATE email_outbox
                    SET status = $1, attempts = $2, last_error = COALESCE($3, last_error), next_attempt_at = $4,
                        sent_at = $5, claim = NULL, body = COALESCE($8, body)
                  WHERE id = $6 AND claim = $7",
                params![
                    status,
                    i64::from(attempts),
                    error,
                    next,
                    sent_at,
                    id,
                    claim.as_str(),
                    wiped
                ],
            )
            .await?;
            Ok(())
        })
    }

    /// Active bookings of verified, opted-in owners within the horizon are candidates; one
    /// whose owner's `reminder_hours` before its start has come is marked `reminded_at` and its
    /// message enqueued in one transaction, the mark guarded by `reminded_at IS NULL` so of
    /// several processes exactly one writes it.
    fn remind(&self, now: DateTime<Utc>) -> StoreResult<DateTime<Utc>> {
        let db = self.db.clone();
        Box::pin(async move {
            let candidates = db
                .query(
                    "SELECT r.id, r.start_time, u.email, u.reminder_hours, s.name
                     FROM reservations r JOIN users u ON u.id = r.user_id JOIN resources s ON s.id = r.resource_id
                     WHERE r.status = $1 AND r.reminded_at IS NULL AND r.start_time > $2 AND r.start_time <= $3
                       AND u.email IS NOT NULL AND u.email_verified = $4 AND u.email_notifications = $4",
                    params!["active", now, now + LONGEST_REMINDER, true],
                )
                .await?;
            let mut next = now + REMINDER_RECHECK;
            for row in candidates {
                let start: DateTime<Utc> = row.get("start_time")?;
                let due = start - Duration::hours(row.get::<i64>("reminder_hours")?);
                if due > now {
                    next = next.min(due);
                    continue;
                }
                let id: i64 = row.get("id")?;
                let mut tx = db.begin().await?;
                let marked = tx
                    .execute(
                        "UPDATE reservations SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL AND status = $3",
                        params![now, id, "active"],
                    )
                    .await?;
                if marked == 1 {
                    let (email, name): (String, String) = (row.get("email")?, row.get("name")?);
                    let text = format!(
                        "Your reservation of {name} starts at {} (UTC).",
                        start.format("%Y-%m-%d %H:%M")
                    );
                    let subject = reminder_subject(&name, start, now);
                    enqueue(&mut tx, &email, &subject, &with_footer(&text), now).await?;
                }
                tx.commit().await?;
            }
            Ok(next)
        })
    }
}
