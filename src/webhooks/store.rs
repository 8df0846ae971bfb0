//! The dispatcher's [`DeliveryStore`] over SQL, and the claims of deliveries sent on request
//! (`/test`, `/retry`).
//!
//! A claim is one `UPDATE … WHERE status = 'pending' AND due_at <= now … RETURNING`: it moves
//! `due_at` to the end of the claim and stamps the claim's token. On PostgreSQL a concurrent
//! claimer blocks on the row and re-checks the condition against the updated row, which no
//! longer holds, so of several server processes exactly one takes each delivery; on SQLite
//! writes are serialised. Only the claim's token may record the outcome.

use chrono::{DateTime, Utc};
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

pub struct SqlDeliveryStore {
    db: Db,
}

impl SqlDeliveryStore {
    pub fn new(db: Db) -> SqlDeliveryStore {
        SqlDeliveryStore { db }
    }
}

impl DeliveryStore for SqlDeliveryStore {
    fn claim_due(&self, now: DateTime<Utc>, limit: usize, until: DateTime<Utc>) -> StoreResult<Vec<Claimed>> {
        let db = self.db.clone();
        Box::pin(async move {
            let claim = new_claim();
            let sql = format!(
                "UPDATE webhook_deliveries SET claim = $1, due_at = $2
                 WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                              WHERE d.status = 'pending' AND d.due_at <= $3 AND w.is_active = $4
                              ORDER BY d.due_at, d.id LIMIT $5)
                   AND status = 'pending' AND due_at <= $3
                 RETURNING {CLAIMED}"
            );
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = db
                .query_write(&sql, params![claim.as_str(), until, now, true, limit])
                .await?;
            Ok(with_targets(&db, rows, &claim).await?)
        })
    }

    fn next_due(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let db = self.db.clone();
        Box::pin(async move {
            let row = db
                .query_one(
                    "SELECT MIN(d.due_at) AS due FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                     WHERE d.status = 'pending' AND w.is_active = $1",
                    params![true],
                )
                .await?;
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
