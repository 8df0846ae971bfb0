//! `Idempotency-Key`: a write repeated with the same key (per user, within 24 hours) returns the
//! first response and does nothing more; the same key with a different request is a 422.
//!
//! Mounted by the route table on every authenticated POST, PUT, PATCH and DELETE, after the
//! route guard (the key belongs to the caller) and before the handler:
//! 1. the key is *claimed* by inserting its row (the primary key `(user_id, key)` makes exactly
//!    one of several concurrent requests the owner);
//! 2. the owner runs the handler and stores the response (a 5xx is not stored: the claim is
//!    dropped so that a retry runs again; nor is a response marked `Cache-Control: no-store`,
//!    which carries a secret that must not rest in the database);
//! 3. any other request with the key waits for the owner's response and replays it.
//!
//! A booking also writes its reservation ids into the claim *in its own transaction*, so when a
//! server dies between the commit and storing the response, the retry (once the claim is stale)
//! answers with the reservations that were booked instead of booking again.

use std::time::Duration;

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::auth::secret::hex;
use crate::error::ApiError;
use crate::params;
use crate::reservations::queries;
use crate::state::AppState;
use crate::storage::{Db, StorageError};
use crate::time_zone::OutputZone;

/// How long a key is remembered.
const RETENTION: chrono::Duration = chrono::Duration::hours(24);
/// A claim without a response after this long belongs to a request that died.
const STALE_AFTER: chrono::Duration = chrono::Duration::seconds(30);
/// How long a repeated request waits for the first one to finish.
const WAIT_FOR_OWNER: Duration = Duration::from_secs(10);

const KEY_HEADER: &str = "idempotency-key";
const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The request's `Idempotency-Key`, for handlers that tie it to a booking's transaction.
pub fn key_of(req: &actix_web::HttpRequest) -> Option<String> {
    req.headers()
        .get(KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// What the table holds for a key.
struct Claim {
    request_hash: String,
    response: Option<(u16, String)>,
    reservation_ids: Option<Vec<i64>>,
    created_at: DateTime<Utc>,
}

pub async fn remember(mut req: ServiceRequest, next: Next<BoxBody>) -> Result<ServiceResponse<BoxBody>, Error> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.call(req).await;
    }
    let Some(key) = req.headers().get(KEY_HEADER).map(|v| v.to_str().map(str::to_owned)) else {
        return next.call(req).await;
    };
    let Some(principal) = req.extensions().get::<Principal>().cloned() else {
        // Only authenticated writes are idempotent: the key is scoped to its user.
        return next.call(req).await;
    };
    let key = match key {
        Ok(key) if (1..=255).contains(&key.len()) => key,
        _ => {
            let error = ApiError::BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters".into());
            return Ok(req.error_response(error));
        }
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    let body = req.extract::<Bytes>().await?;
    let hash = request_hash(&req, &body);
    req.set_payload(Payload::from(body));

    let user = principal.user_id;
    let deadline = tokio::time::Instant::now() + WAIT_FOR_OWNER;
    loop {
        let now = state.clock.now();
        if claim(&state.db, user, &key, &hash, now).await.map_err(ApiError::from)? {
            return run_as_owner(&state, user, &key, req, next).await;
        }
        let Some(existing) = read(&state.db, user, &key).await.map_err(ApiError::from)? else {
            continue;
        };
        if existing.request_hash != hash {
            let error =
                ApiError::UnprocessableEntity("This Idempotency-Key was already used with a different request".into());
            return Ok(req.error_response(error));
        }
        if let Some((status, body)) = existing.response {
            return Ok(req.into_response(replay(status, body)));
        }
        if now - existing.created_at > STALE_AFTER {
            // The first request died. If it booked, answer with what it booked; otherwise run
            // the request again in its place.
            if let Some(ids) = existing.reservation_ids {
                let response = rebuild_booking(&state, &ids, now).await?;
                store_response(&state.db, user, &key, 201, &response)
                    .await
                    .map_err(ApiError::from)?;
                return Ok(req.into_response(replay(201, response)));
            }
            release(&state.db, user, &key).await.map_err(ApiError::from)?;
            continue;
        }
        if tokio::time::Instant::now() >= deadline {
            let error = ApiError::Conflict("A request with this Idempotency-Key is still in progress".into());
            return Ok(req.error_response(error));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs the request as the owner of the claim and stores its response.
async fn run_as_owner(
    state: &AppState,
    user: i64,
    key: &str,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let outcome = next.call(req).await;
    let response = match outcome {
        Ok(response) => response,
        Err(error) => {
            release(&state.db, user, key).await.map_err(ApiError::from)?;
            return Err(error);
        }
    };
    let status = response.status();
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
    if status.is_server_error() || carries_secret(&head) {
        release(&state.db, user, key).await.map_err(ApiError::from)?;
    } else {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        store_response(&state.db, user, key, status.as_u16(), &text)
            .await
            .map_err(ApiError::from)?;
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}

/// True for a response that must not be kept anywhere (`Cache-Control: no-store`).
fn carries_secret(head: &HttpResponse<()>) -> bool {
    head.headers()
        .get(actix_web::http::header::CACHE_CONTROL)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|directive| directive.trim().eq_ignore_ascii_case("no-store"))
        })
}

/// SHA-256 of the method, path, query and body: what makes two requests "the same".
fn request_hash(req: &ServiceRequest, body: &Bytes) -> String {
    let mut hasher = Sha256::new();
    for part in [
        req.method().as_str().as_bytes(),
        req.path().as_bytes(),
        req.query_string().as_bytes(),
    ] {
        hasher.update(part);
        hasher.update([0]);
    }
    hasher.update(body);
    hex(&hasher.finalize())
}

fn replay(status: u16, body: String) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    response.content_type("application/json");
    response.insert_header((
        HeaderName::from_static(REPLAYED_HEADER),
        HeaderValue::from_static("true"),
    ));
    response.body(body)
}

/// Claims `key` for this request; false when someone else holds it.
async fn claim(db: &Db, user: i64, key: &str, hash: &str, now: DateTime<Utc>) -> Result<bool, StorageError> {
    db.execute(
        "DELETE FROM idempotency_keys WHERE user_id = $1 AND created_at < $2",
        params![user, now - RETENTION],
    )
    .await?;
    let inserted = db
        .execute(
            "INSERT INTO idempotency_keys (user_id, idempotency_key, request_hash, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, idempotency_key) DO NOTHING",
            params![user, key, hash, now],
        )
        .await?;
    Ok(inserted == 1)
}

async fn read(db: &Db, user: i64, key: &str) -> Result<Option<Claim>, StorageError> {
    let Some(row) = db
        .query_opt(
            "SELECT request_hash, response_status, response_body, reservation_ids, created_at
             FROM idempotency_keys WHERE user_id = $1 AND idempotency_key = $2",
            params![user, key],
        )
        .await?
    else {
        return Ok(None);
    };
    let status: Option<i64> = row.get("response_status")?;
    let body: Option<String> = row.get("response_body")?;
    let ids: Option<String> = row.get("reservation_ids")?;
    Ok(Some(Claim {
        request_hash: row.get("request_hash")?,
        response: status
            .zip(body)
            .map(|(status, body)| (u16::try_from(status).unwrap_or(200), body)),
        reservation_ids: ids.and_then(|ids| serde_json::from_str(&ids).ok()),
        created_at: row.get("created_at")?,
    }))
}

async fn store_response(db: &Db, user: i64, key: &str, status: u16, body: &str) -> Result<(), StorageError> {
    db.execute(
        "UPDATE idempotency_keys SET response_status = $1, response_body = $2 WHERE user_id = $3 AND idempotency_key = $4",
        params![i64::from(status), body, user, key],
    )
    .await
    .map(drop)
}

async fn release(db: &Db, user: i64, key: &str) -> Result<(), StorageError> {
    db.execute(
        "DELETE FROM idempotency_keys WHERE user_id = $1 AND idempotency_key = $2",
        params![user, key],
    )
    .await
    .map(drop)
}

/// The answer a booking would have given: one reservation, or the list of a series.
async fn rebuild_booking(state: &AppState, ids: &[i64], now: DateTime<Utc>) -> Result<String, ApiError> {
    let zone = OutputZone(chrono_tz::Tz::UTC);
    let mut reservations = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(reservation) = queries::one(&state.db, *id, now, zone).await? {
            reservations.push(reservation);
        }
    }
    let body = match reservations.as_slice() {
        [single] => serde_json::to_string(single),
        many => serde_json::to_string(many),
    };
    body.map_err(ApiError::internal)
}
