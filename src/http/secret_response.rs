//! Answers that carry a secret (a token, a client secret, TOTP material, backup codes).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use serde::Serialize;

/// A 200 JSON answer carrying a secret: marked `Cache-Control: no-store`, so no cache keeps it
/// and the `Idempotency-Key` store never writes it down (see `idempotency`).
pub fn secret_json(body: impl Serialize) -> HttpResponse {
    secret_json_with(StatusCode::OK, body)
}

/// [`secret_json`] with another status (a `201 Created` that reveals a new secret).
pub fn secret_json_with(status: StatusCode, body: impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(body)
}
