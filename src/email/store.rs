//! The e-mail outbox: messages enqueued in a change's transaction, and the sender's
//! [`MailStore`] over SQL.
//!
//! A claim is one `UPDATE … WHERE status = 'pending' AND next_attempt_at <= now … RETURNING`
//! that moves `next_attempt_at` to the end of the claim and stamps the claim's token — the same
//! scheme as webhook deliveries (`webhooks::store`): on PostgreSQL a concurrent claimer re-checks
//! the condition on the updated row and skips it; SQLite serialises writes. Only the claim's
//! token records the outcome, so each attempt is made by one process.

use chrono::{DateTime, Utc};
use reserver_actors::mail::{MailStore, Outcome, Outgoing};
use reserver_actors::webhook::StoreResult;

use crate::params;
use crate::storage::{Db, StorageError, Transaction};

/// Writes a message to send after `tx` commits (due at once).
pub async fn enqueue(
    tx: &mut Box<dyn Transaction>,
    recipient: &str,
    subject: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO email_outbox (recipient, subject, body, status, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
        params![recipient, subject, body, now],
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
                     RETURNING id, recipient, subject, body, attempts",
                    params![claim.as_str(), until, now, limit],
                )
                .await?;
            let mut claimed = Vec::with_capacity(rows.len());
            for row in rows {
                claimed.push(Outgoing {
                    id: row.get("id")?,
                    claim: claim.clone(),
                    recipient: row.get("recipient")?,
                    subject: row.get("subject")?,
                    body: row.get("body")?,
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
        Box::pin(async move {
            db.execute(
                "UPDATE email_outbox
                    SET status = $1, attempts = $2, last_error = COALESCE($3, last_error), next_attempt_at = $4,
                        sent_at = $5, claim = NULL
                  WHERE id = $6 AND claim = $7",
                params![status, i64::from(attempts), error, next, sent_at, id, claim.as_str()],
            )
            .await?;
            Ok(())
        })
    }
}
