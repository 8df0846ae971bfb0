//! The caller's own account: `GET /users/me`, `PATCH /users/me/preferences`, and the e-mail
//! address (`PUT /users/me/email`, `POST /users/me/email/verify`; see `email::verify`).

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::{Principal, profile};
use crate::error::ApiError;
use crate::http::Json;
use crate::state::AppState;

pub fn declare(table: &mut RouteTable) {
    table
        .route(
            Method::GET,
            "/api/v1/users/me",
            Access::Authenticated,
            &["/users/me"],
            me,
        )
        .route(
            Method::PATCH,
            "/api/v1/users/me/preferences",
            Access::Authenticated,
            &[],
            update_preferences,
        )
        .route(Method::PUT, "/api/v1/users/me/email", Access::Session, &[], set_email)
        .route(
            Method::POST,
            "/api/v1/users/me/email/verify",
            Access::Session,
            &[],
            verify_email,
        );
}

/// The `UserDetailOut` fields of `user_id`.
async fn details(state: &AppState, user_id: i64) -> Result<serde_json::Map<String, Value>, ApiError> {
    let user = profile::of_user(&state.db, user_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("User not found".into()))?;
    let mut out = serde_json::Map::new();
    out.insert("id".into(), json!(user.id));
    out.insert("username".into(), json!(user.username));
    out.insert("email".into(), json!(user.email));
    out.insert("email_verified".into(), json!(user.email_verified));
    out.insert("mfa_enabled".into(), json!(user.mfa_enabled));
    out.insert("email_notifications".into(), json!(user.email_notifications));
    out.insert("reminder_hours".into(), json!(user.reminder_hours));
    Ok(out)
}

async fn me(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(own_details(&state, &principal).await?))
}

/// The caller's own account as `GET /users/me` answers it (the dashboard's session shows it too).
pub(super) async fn own_details(
    state: &AppState,
    principal: &Principal,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let mut out = details(state, principal.user_id).await?;
    out.insert("is_admin".into(), json!(principal.is_admin()));
    Ok(out)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Preferences {
    email_notifications: Option<bool>,
    reminder_hours: Option<i64>,
}

async fn update_preferences(
    state: web::Data<AppState>,
    principal: Principal,
    Json(body): Json<Preferences>,
) -> Result<HttpResponse, ApiError> {
    if let Some(hours) = body.reminder_hours.filter(|h| !(1..=168).contains(h)) {
        let rule = if hours < 1 {
            "greater than or equal to 1"
        } else {
            "less than or equal to 168"
        };
        return Err(ApiError::Validation(vec![crate::error::FieldError {
            kind: if hours < 1 {
                "greater_than_equal"
            } else {
                "less_than_equal"
            }
            .into(),
            loc: vec![json!("body"), json!("reminder_hours")],
            msg: format!("Input should be {rule}"),
            input: json!(hours),
        }]));
    }
    profile::update_preferences(
        &state.db,
        principal.user_id,
        body.email_notifications,
        body.reminder_hours,
    )
    .await?;
    // Reminders follow the new preferences at once.
    state.email.wake();
    Ok(HttpResponse::Ok().json(details(&state, principal.user_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct EmailIn {
    email: String,
}

/// Sets the caller's address, unverified, and mails it a verification code.
async fn set_email(
    state: web::Data<AppState>,
    principal: Principal,
    Json(body): Json<EmailIn>,
) -> Result<HttpResponse, ApiError> {
    crate::email::verify::request(&state.verifier(), principal.user_id, &body.email).await?;
    let mut out = details(&state, principal.user_id).await?;
    out.insert("message".into(), json!("Verification code sent"));
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct CodeIn {
    code: String,
}

async fn verify_email(
    state: web::Data<AppState>,
    principal: Principal,
    Json(body): Json<CodeIn>,
) -> Result<HttpResponse, ApiError> {
    crate::email::verify::confirm(&state.verifier(), principal.user_id, &body.code).await?;
    Ok(HttpResponse::Ok().json(details(&state, principal.user_id).await?))
}
