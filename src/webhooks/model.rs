//! Webhooks and their deliveries as the API shows them (`WebhookOut`, `WebhookWithSecretOut` and
//! delivery objects), the input types that validate them, and their reads and writes.
//!
//! Invariant: a webhook's secret leaves the server only in the answers to creating it and to
//! regenerating it; nothing else reads it except the sender.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::topics;
use crate::error::ApiError;
use crate::params;
use crate::secret::random_token;
use crate::storage::{Binder, Db, Row, StorageError, Transaction, lock_user};
use crate::wire::bounded::Bounded;
use crate::wire::time::utc;

/// Longest URL (the column's size).
const MAX_URL_CHARS: usize = 500;
const MAX_DESCRIPTION_CHARS: usize = 255;

/// An absolute `http` or `https` URL with a host.
#[derive(Debug, Clone)]
pub struct WebhookUrl(pub url::Url);

impl<'de> Deserialize<'de> for WebhookUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        let invalid = |why: &str| serde::de::Error::custom(why);
        if raw.chars().count() > MAX_URL_CHARS {
            return Err(invalid("URL should have at most 500 characters"));
        }
        let url = url::Url::parse(raw.trim()).map_err(|e| invalid(&format!("Input should be a valid URL, {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("URL scheme should be 'http' or 'https'"));
        }
        if url.host().is_none() {
            return Err(invalid("Input should be a valid URL, empty host"));
        }
        Ok(WebhookUrl(url))
    }
}

impl utoipa::PartialSchema for WebhookUrl {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uri".into())))
            .max_length(Some(MAX_URL_CHARS))
            .description(Some("An absolute `http` or `https` URL with a host."))
            .into()
    }
}

impl utoipa::ToSchema for WebhookUrl {}

/// A description of at most 255 characters; empty means none.
#[derive(Debug, Clone)]
pub struct Description(pub Option<String>);

impl<'de> Deserialize<'de> for Description {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        if raw.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(serde::de::Error::custom("String should have at most 255 characters"));
        }
        Ok(Description(Some(raw).filter(|d| !d.trim().is_empty())))
    }
}

impl utoipa::PartialSchema for Description {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(MAX_DESCRIPTION_CHARS))
            .into()
    }
}

impl utoipa::ToSchema for Description {
    fn name() -> std::borrow::Cow<'static, str> {
        "WebhookDescription".into()
    }
}

/// At least one event name, duplicates dropped, in the order given. Names are checked against
/// the known ones by [`EventNames::check`] (a 400, as the wire format requires, not a 422).
#[derive(Debug, Clone)]
pub struct EventNames(Vec<String>);

/// Most names one list may hold (there are 13 event names; a few repeats are forgiven).
const MAX_EVENT_NAMES: usize = 32;

impl<'de> Deserialize<'de> for EventNames {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Bounded::<String, MAX_EVENT_NAMES>::deserialize(deserializer)?.into_inner();
        if raw.is_empty() {
            return Err(serde::de::Error::custom(
                "List should have at least 1 item after validation, not 0",
            ));
        }
        let mut names: Vec<String> = Vec::with_capacity(raw.len());
        for name in raw {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(EventNames(names))
    }
}

impl utoipa::PartialSchema for EventNames {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String))
            .min_items(Some(1))
            .max_items(Some(MAX_EVENT_NAMES))
            .description(Some("Event names (`GET /api/v1/webhooks/events`)."))
            .into()
    }
}

impl utoipa::ToSchema for EventNames {}

impl EventNames {
    /// The names, or a 400 listing the unknown ones.
    pub fn check(self) -> Result<Vec<String>, ApiError> {
        let unknown: Vec<&str> = self
            .0
            .iter()
            .map(String::as_str)
            .filter(|name| !topics::is_known(name))
            .collect();
        if unknown.is_empty() {
            Ok(self.0)
        } else {
            Err(ApiError::BadRequest(format!(
                "Invalid event types: {}",
                unknown.join(", ")
            )))
        }
    }
}

/// A new signing secret: 43 URL-safe characters (256 random bits).
pub fn new_secret() -> Result<String, ApiError> {
    random_token(32)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookOut {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    #[schema(required)]
    pub description: Option<String>,
    pub is_active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Only in the answers to creating and to regenerating the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip)]
    pub owner: i64,
}

const WEBHOOK_COLUMNS: &str = "id, user_id, url, description, is_active, created_at, updated_at";

impl WebhookOut {
    fn decode(row: &Row, events: Vec<String>) -> Result<WebhookOut, StorageError> {
        Ok(WebhookOut {
            id: row.get("id")?,
            url: row.get("url")?,
            events,
            description: row.get("description")?,
            is_active: row.get("is_active")?,
            created_at: utc(row.get("created_at")?),
            updated_at: utc(row.get("updated_at")?),
            secret: None,
            owner: row.get("user_id")?,
        })
    }
}

/// The webhooks of `rows`, with their events.
async fn with_events(db: &Db, rows: Vec<Row>) -> Result<Vec<WebhookOut>, StorageError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut binder = Binder::new();
    let mut ids = Vec::with_capacity(rows.len());
    for row in &rows {
        ids.push(binder.bind(row.get::<i64>("id")?));
    }
    let sql = format!(
        "SELECT webhook_id, event FROM webhook_events WHERE webhook_id IN ({}) ORDER BY webhook_id, position",
        ids.join(", ")
    );
    let events = db.query(&sql, binder.into_values()).await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.get("id")?;
            let names = events
                .iter()
                .filter(|e| e.get::<i64>("webhook_id").ok() == Some(id))
                .map(|e| e.get::<String>("event"))
                .collect::<Result<Vec<_>, _>>()?;
            WebhookOut::decode(row, names)
        })
        .collect()
}

pub async fn get(db: &Db, id: i64) -> Result<Option<WebhookOut>, StorageError> {
    let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1");
    let rows = db.query(&sql, params![id]).await?;
    Ok(with_events(db, rows).await?.pop())
}

/// The webhooks of `owner`, or everyone's, oldest first.
pub async fn list(db: &Db, owner: Option<i64>) -> Result<Vec<WebhookOut>, StorageError> {
    let rows = match owner {
        Some(owner) => {
            let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = $1 ORDER BY id");
            db.query(&sql, params![owner]).await?
        }
        None => {
            let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id");
            db.query(&sql, params![]).await?
        }
    };
    with_events(db, rows).await
}

async fn write_events(tx: &mut Box<dyn Transaction>, webhook: i64, events: &[String]) -> Result<(), StorageError> {
    tx.execute("DELETE FROM webhook_events WHERE webhook_id = $1", params![webhook])
        .await?;
    for (position, event) in events.iter().enumerate() {
        tx.execute(
            "INSERT INTO webhook_events (webhook_id, event, position) VALUES ($1, $2, $3)",
            params![webhook, event.as_str(), position as i64],
        )
        .await?;
    }
    Ok(())
}

pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub secret: String,
}

/// Stores a webhook (active) and returns its id, or `None` when `owner` has `max` already.
pub async fn create(
    db: &Db,
    owner: i64,
    new: &NewWebhook,
    max: usize,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StorageError> {
    let mut tx = db.begin().await?;
    // Concurrent creations by one owner are counted one after the other, never past `max`.
    lock_user(&mut tx, owner).await?;
    let count: i64 = tx
        .query_opt("SELECT COUNT(*) AS n FROM webhooks WHERE user_id = $1", params![owner])
        .await?
        .ok_or_else(|| StorageError::Decode("COUNT returned no row".into()))?
        .get("n")?;
    if count >= i64::try_from(max).unwrap_or(i64::MAX) {
        return Ok(None);
    }
    let row = tx
        .query_opt(
            "INSERT INTO webhooks (user_id, url, secret, description, is_active, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            params![
                owner,
                new.url.as_str(),
                new.secret.as_str(),
                new.description.clone(),
                true,
                now
            ],
        )
        .await?
        .ok_or_else(|| StorageError::Decode("INSERT returned no id".into()))?;
    let id: i64 = row.get("id")?;
    write_events(&mut tx, id, &new.events).await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// A change to a webhook; `None` fields are left as they are.
#[derive(Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `Some(None)` removes the description.
    pub description: Option<Option<String>>,
    pub is_active: Option<bool>,
}

pub async fn update(db: &Db, id: i64, patch: &WebhookPatch, now: DateTime<Utc>) -> Result<(), StorageError> {
    let mut tx = db.begin().await?;
    let mut binder = Binder::new();
    let mut assignments = vec![format!("updated_at = {}", binder.bind(now))];
    if let Some(url) = &patch.url {
        assignments.push(format!("url = {}", binder.bind(url.as_str())));
    }
    if let Some(description) = &patch.description {
        assignments.push(format!("description = {}", binder.bind(description.clone())));
    }
    if let Some(active) = patch.is_active {
        assignments.push(format!("is_active = {}", binder.bind(active)));
    }
    let sql = format!(
        "UPDATE webhooks SET {} WHERE id = {}",
        assignments.join(", "),
        binder.bind(id)
    );
    tx.execute(&sql, binder.into_values()).await?;
    if let Some(events) = &patch.events {
        write_events(&mut tx, id, events).await?;
    }
    tx.commit().await
}

pub async fn set_secret(db: &Db, id: i64, secret: &str, now: DateTime<Utc>) -> Result<(), StorageError> {
    db.execute(
        "UPDATE webhooks SET secret = $1, updated_at = $2 WHERE id = $3",
        params![secret, now, id],
    )
    .await
    .map(drop)
}

/// Deletes a webhook with its events and deliveries.
pub async fn delete(db: &Db, id: i64) -> Result<(), StorageError> {
    db.execute("DELETE FROM webhooks WHERE id = $1", params![id])
        .await
        .map(drop)
}

/// A delivery in a webhook's list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryOut {
    pub id: i64,
    pub event_type: String,
    pub status: String,
    #[schema(required)]
    pub status_code: Option<i64>,
    #[schema(required)]
    pub error_message: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(required, format = DateTime)]
    pub delivered_at: Option<String>,
    pub retry_count: i64,
}

/// One delivery in full.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryDetail {
    pub id: i64,
    pub webhook_id: i64,
    pub event_type: String,
    pub payload: Value,
    pub status: String,
    #[schema(required)]
    pub status_code: Option<i64>,
    #[schema(required)]
    pub response_body: Option<String>,
    #[schema(required)]
    pub error_message: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(required, format = DateTime)]
    pub delivered_at: Option<String>,
    pub retry_count: i64,
    #[schema(required, format = DateTime)]
    pub next_retry_at: Option<String>,
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event_type, payload, status, status_code, response_body, \
                                error_message, created_at, delivered_at, retry_count, next_retry_at";

impl DeliveryDetail {
    fn decode(row: &Row) -> Result<DeliveryDetail, StorageError> {
        let payload: String = row.get("payload")?;
        Ok(DeliveryDetail {
            id: row.get("id")?,
            webhook_id: row.get("webhook_id")?,
            event_type: row.get("event_type")?,
            payload: serde_json::from_str(&payload).unwrap_or(Value::String(payload)),
            status: row.get("status")?,
            status_code: row.get("status_code")?,
            response_body: row.get("response_body")?,
            error_message: row.get("error_message")?,
            created_at: utc(row.get("created_at")?),
            delivered_at: row.get::<Option<DateTime<Utc>>>("delivered_at")?.map(utc),
            retry_count: row.get("retry_count")?,
            next_retry_at: row.get::<Option<DateTime<Utc>>>("next_retry_at")?.map(utc),
        })
    }

    fn summary(self) -> DeliveryOut {
        DeliveryOut {
            id: self.id,
            event_type: self.event_type,
            status: self.status,
            status_code: self.status_code,
            error_message: self.error_message,
            created_at: self.created_at,
            delivered_at: self.delivered_at,
            retry_count: self.retry_count,
        }
    }
}

/// The latest `limit` deliveries of `webhook`, newest first.
pub async fn deliveries(db: &Db, webhook: i64, limit: i64) -> Result<Vec<DeliveryOut>, StorageError> {
    let sql =
        format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2");
    db.query(&sql, params![webhook, limit])
        .await?
        .iter()
        .map(|row| DeliveryDetail::decode(row).map(DeliveryDetail::summary))
        .collect()
}

pub async fn delivery(db: &Db, webhook: i64, id: i64) -> Result<Option<DeliveryDetail>, StorageError> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1 AND webhook_id = $2");
    db.query_opt(&sql, params![id, webhook])
        .await?
        .as_ref()
        .map(DeliveryDetail::decode)
        .transpose()
}
