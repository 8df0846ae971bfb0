//! The dispatcher's [`DeliveryStore`] over SQL, and the claims of deliveries sent on request
//! (`/test`, `/retry`).
//!
//! A claim is one `UPDATE … WHERE status = 'pending' AND due_at <= now … RETURNING`: it moves
//! `due_at` to the end of the claim and stamps the claim's token. On PostgreSQL a concurrent
//! claimer blocks on the row and re-checks the condition against the updated row, which no
//! longer holds, so of several server processes exactly one takes each delivery; on SQLite
//! writes are serialised. Only the claim's token may record the outcome.
//!
//! **Fair shares.** Of the deliveries due, a claim takes each owner's in turn (round robin: every
//! owner's oldest first, then every owner's second, …), and never more of one owner's than
//! bring that owner's requests in flight, across processes, to the per-owner cap (deliveries
//! under a live claim count as in flight). So one owner's slow or silent receivers hold at most
//! that many of the sending slots, and everyone else's deliveries go out meanwhile. Two
//! processes claiming at the same instant may each fill the cap once (a soft bound); the claim
//! itself stays exclusive. [`DeliveryStore::next_due`] leaves out deliveries their owner's cap
//! holds back, so the dispatcher sleeps until a slot of that owner frees instead of spinning.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reserver_actors::Clock;
use reserver_actors::webhook::{Claimed, DeliveryStore, Secret, Settlement, StoreFailure, StoreResult};

use crate::params;
use crate::storage::{Binder, Db, Row, StorageError};

impl From<StorageError> for StoreFailure {
    fn from(error: StorageError) -> Self {
        StoreFailure(error.to_string())
    }
}

/// Columns a claim returns.
const CLAIMED: &str = "id, webhook_id, event_type, payload, retry_count";

fn new_claim() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The claimed `rows` with their webhooks' URL and secret (a delivery whose webhook was deleted
/// meanwhile went with it).
async fn with_targets(db: &Db, rows: Vec<Row>, claim: &str) -> Result<Vec<Claimed>, StorageError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut binder = Binder::new();
    let mut ids = Vec::with_capacity(rows.len());
    for row in &rows {
        ids.push(binder.bind(row.get::<i64>("webhook_id")?));
    }
    let sql = format!("SELECT id, url, secret FROM webhooks WHERE id IN ({})", ids.join(", "));
    let targets = db.query(&sql, binder.into_values()).await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let webhook: i64 = row.get("webhook_id")?;
        let Some(target) = targets.iter().find(|t| t.get::<i64>("id").ok() == Some(webhook)) else {
            continue;
        };
        claimed.push(Claimed {
            id: row.get("id")?,
            claim: claim.to_owned(),
            url: target.get("url")?,
            secret: Secret(target.get("secret")?),
            event: row.get("event_type")?,
            body: row.get("payload")?,
            failures: u32::try_from(row.get::<i64>("retry_count")?).unwrap_or(u32::MAX),
        });
    }
    Ok(claimed)
}

/// Requests in flight per owner at `$1` (now): deliveries under a live claim.
const IN_FLIGHT: &str =
    "SELECT w.user_id, COUNT(*) AS n FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                         WHERE d.status = 'pending' AND d.claim IS NOT NULL AND d.due_at > $1
                         GROUP BY w.user_id";

pub struct SqlDeliveryStore {
    db: Db,
    clock: Arc<dyn Clock>,
    /// Most requests in flight to one owner's webhooks.
    per_owner: i64,
}

impl SqlDeliveryStore {
    pub fn new(db: Db, clock: Arc<dyn Clock>, per_owner: usize) -> SqlDeliveryStore {
        SqlDeliveryStore {
            db,
            clock,
            per_owner: i64::try_from(per_owner.max(1)).unwrap_or(i64::MAX),
        }
    }
}

impl DeliveryStore for SqlDeliveryStore {
    fn claim_due(&self, now: DateTime<Utc>, limit: usize, until: DateTime<Utc>) -> StoreResult<Vec<Claimed>> {
        let (db, per_owner) = (self.db.clone(), self.per_owner);
        Box::pin(async move {
            let claim = new_claim();
            // `turn`: the delivery's place among its owner's due ones; it may go while the owner's
            // requests in flight plus those before it stay under the cap. Taken by turn first:
            // round robin between owners.
            let sql = format!(
                "WITH busy AS ({IN_FLIGHT}),
                 due AS (SELECT d.id, d.due_at, w.user_id,
                                ROW_NUMBER() OVER (PARTITION BY w.user_id ORDER BY d.due_at, d.id) AS turn
                         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                         WHERE d.status = 'pending' AND d.due_at <= $1 AND w.is_active = $2)
                 UPDATE webhook_deliveries SET claim = $3, due_at = $4
                 WHERE id IN (SELECT due.id FROM due LEFT JOIN busy ON busy.user_id = due.user_id
                              WHERE due.turn + COALESCE(busy.n, 0) <= $5
                              ORDER BY due.turn, due.due_at, due.id LIMIT $6)
                   AND status = 'pending' AND due_at <= $1
                 RETURNING {CLAIMED}"
            );
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = db
                .query_write(&sql, params![now, true, claim.as_str(), until, per_owner, limit])
                .await?;
            Ok(with_targets(&db, rows, &claim).await?)
        })
    }

    fn next_due(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let (db, per_owner, now) = (self.db.clone(), self.per_owner, self.clock.now());
        Box::pin(async move {
            // Due deliveries of owners at their cap wait for a slot of that owner: their own
            // claims' ends (in the future) are among the rows, and a finished send looks again.
            let sql = format!(
                "WITH busy AS ({IN_FLIGHT})
                 SELECT MIN(d.due_at) AS due FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                 LEFT JOIN busy ON busy.user_id = w.user_id
                 WHERE d.status = 'pending' AND w.is_active = $2 AND (d.due_at > $1 OR COALESCE(busy.n, 0) < $3)"
            );
            let row = db.query_one(&sql, params![now, true, per_owner]).await?;
            Ok(row.get("due")?)
        })
    }

    fn settle(&self, delivery: &Claimed, settlement: &Settlement) -> StoreResult<()> {
        let db = self.db.clone();
        let (id, claim, s) = (delivery.id, delivery.claim.clone(), settlement.clone());
        Box::pin(async move {
            db.execute(
                "UPDATE webhook_deliveries
                    SET status = $1, retry_count = $2, status_code = $3, response_body = $4, error_message = $5,
                        delivered_at = $6, next_retry_at = $7, due_at = $7, claim = NULL
                  WHERE id = $8 AND claim = $9",
                params![
                    s.status.as_str(),
                    i64::from(s.retry_count),
                    s.status_code.map(i64::from),
                    s.response_body,
                    s.error_message,
                    s.delivered_at,
                    s.next_retry_at,
                    id,
                    claim.as_str()
                ],
            )
            .await?;
            Ok(())
        })
    }
}

/// Why a delivery could not be claimed on request.
pub enum ManualClaim {
    Claimed(Claimed),
    AlreadyDelivered,
    /// A dispatcher is sending it right now.
    InFlight,
    NotFound,
}

/// Claims delivery `delivery` of webhook `webhook` to send it again now, whatever its state
/// (pending, or failed for good), unless it was delivered or is being sent.
pub async fn claim_for_retry(
    db: &Db,
    webhook: i64,
    delivery: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<ManualClaim, StorageError> {
    let claim = new_claim();
    let sql = format!(
        "UPDATE webhook_deliveries SET status = 'pending', claim = $1, due_at = $2
         WHERE id = $3 AND webhook_id = $4 AND status <> 'delivered' AND (claim IS NULL OR due_at <= $5)
         RETURNING {CLAIMED}"
    );
    let rows = db
        .query_write(&sql, params![claim.as_str(), until, delivery, webhook, now])
        .await?;
    if let Some(claimed) = with_targets(db, rows, &claim).await?.pop() {
        return Ok(ManualClaim::Claimed(claimed));
    }
    let status = db
        .query_opt(
            "SELECT status FROM webhook_deliveries WHERE id = $1 AND webhook_id = $2",
            params![delivery, webhook],
        )
        .await?
        .map(|row| row.get::<String>("status"))
        .transpose()?;
    Ok(match status.as_deref() {
        None => ManualClaim::NotFound,
        Some("delivered") => ManualClaim::AlreadyDelivered,
        Some(_) => ManualClaim::InFlight,
    })
}

/// A new delivery of `body` to webhook `webhook`, claimed by the caller until `until`.
pub async fn insert_claimed(
    db: &Db,
    webhook: i64,
    event: &str,
    body: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<Claimed>, StorageError> {
    let claim = new_claim();
    let sql = format!(
        "INSERT INTO webhook_deliveries (webhook_id, event_type, payload, status, created_at, due_at, claim)
         VALUES ($1, $2, $3, 'pending', $4, $5, $6) RETURNING {CLAIMED}"
    );
    let rows = db
        .query_write(&sql, params![webhook, event, body, now, until, claim.as_str()])
        .await?;
    Ok(with_targets(db, rows, &claim).await?.pop())
}
