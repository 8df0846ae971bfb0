//! MFA management: `/auth/mfa/setup`, `/verify`, `/disable`, `/backup-codes`. Sign-in with a
//! code is part of `/token` (see `routes::auth`). Disabling MFA and minting backup codes need
//! the password and a current code (`auth::mfa_lockout::reauthenticate`), counted per account.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::audit::Event;
use crate::auth::users::{self, Account};
use crate::auth::{Principal, mfa, mfa_lockout, mfa_store};
use crate::error::ApiError;
use crate::http::{Json, OptionalJson, secret_json};
use crate::state::AppState;

pub fn declare(table: &mut RouteTable) {
    let session = Access::Session;
    table
        .route(
            Method::POST,
            "/api/v1/auth/mfa/setup",
            session,
            &["/auth/mfa/setup"],
            setup,
        )
        .route(
            Method::POST,
            "/api/v1/auth/mfa/verify",
            session,
            &["/auth/mfa/verify"],
            verify,
        )
        .route(
            Method::POST,
            "/api/v1/auth/mfa/disable",
            session,
            &["/auth/mfa/disable"],
            disable,
        )
        .route(
            Method::POST,
            "/api/v1/auth/mfa/backup-codes",
            session,
            &["/auth/mfa/backup-codes"],
            backup_codes,
        );
}

fn not_enabled() -> ApiError {
    ApiError::BadRequest("MFA is not enabled".into())
}

fn already_enabled() -> ApiError {
    ApiError::BadRequest("MFA is already enabled".into())
}

async fn account(state: &AppState, principal: &Principal) -> Result<Account, ApiError> {
    users::by_id(&state.db, principal.user_id)
        .await?
        .ok_or_else(crate::auth::bad_credentials)
}

/// Starts (or restarts) enrolment: a new secret and backup codes; MFA is enabled by `verify`.
async fn setup(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    if account(&state, &principal).await?.mfa_enabled {
        return Err(already_enabled());
    }
    let secret = mfa::new_secret()?;
    let totp_uri = mfa::provisioning_uri(&secret, &principal.username)?;
    let codes = mfa::new_backup_codes()?;
    mfa_store::begin_enrolment(&state.db, principal.user_id, &secret, &codes).await?;
    Ok(secret_json(json!({
        "secret": secret,
        "qr_code": mfa::qr_code(&totp_uri)?,
        "backup_codes": codes,
        "totp_uri": totp_uri,
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MfaCode)]
struct Code {
    code: String,
}

async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    Json(body): Json<Code>,
) -> Result<HttpResponse, ApiError> {
    if body.code.len() != 6 || !body.code.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid(
            &["body", "code"],
            "MFA code must be 6 digits",
            &body.code,
        ));
    }
    let account = account(&state, &principal).await?;
    if account.mfa_enabled {
        return Err(already_enabled());
    }
    let invalid = || ApiError::BadRequest("Invalid MFA code".into());
    let secret = account.mfa_secret.ok_or_else(invalid)?;
    let step = mfa::totp_step(&secret, &account.username, &body.code, state.clock.now())?.ok_or_else(invalid)?;
    mfa_store::enable(&state.db, account.id, step).await?;
    Event::new("mfa_enabled", "user")
        .by_principal(&principal)
        .on(Some(account.id), &account.username)
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(HttpResponse::Ok().json(json!({ "message": "MFA enabled successfully" })))
}

/// Re-authentication for changes to the second factor: the password plus a current TOTP or backup
/// code as `code` (or `mfa_code`, the name `/token` takes).
#[derive(Deserialize, Default, utoipa::ToSchema)]
struct Reauthentication {
    password: Option<String>,
    #[serde(alias = "mfa_code")]
    code: Option<String>,
}

/// Disables MFA after re-authentication (password and a current code).
async fn disable(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    OptionalJson(body): OptionalJson<Reauthentication>,
) -> Result<HttpResponse, ApiError> {
    let account = reauthenticated(&state, &req, &principal, &body, "mfa_disable_failed").await?;
    mfa_store::disable(&state.db, account.id).await?;
    Event::new("mfa_disabled", "user")
        .by_principal(&principal)
        .on(Some(account.id), &account.username)
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(HttpResponse::Ok().json(json!({ "message": "MFA disabled successfully" })))
}

/// Replaces all backup codes with ten new ones, after re-authentication (a request without a body
/// is a 422 naming the fields to send).
async fn backup_codes(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    OptionalJson(body): OptionalJson<Reauthentication>,
) -> Result<HttpResponse, ApiError> {
    reauthenticated(&state, &req, &principal, &body, "mfa_backup_codes_failed").await?;
    let codes = mfa::new_backup_codes()?;
    mfa_store::replace_backup_codes(&state.db, principal.user_id, &codes).await?;
    Event::new("mfa_backup_codes_regenerated", "user")
        .by_principal(&principal)
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(secret_json(json!({
        "backup_codes": codes,
        "message": "Save these codes in a safe place - they won't be shown again",
    })))
}

/// The caller's account, once it has MFA on and the request proved the password and a current
/// code; a failure is counted (and audited as `failure_action`) by the per-account lockout.
async fn reauthenticated(
    state: &AppState,
    req: &HttpRequest,
    principal: &Principal,
    body: &Reauthentication,
    failure_action: &'static str,
) -> Result<Account, ApiError> {
    let account = account(state, principal).await?;
    if !account.mfa_enabled {
        return Err(not_enabled());
    }
    mfa_lockout::reauthenticate(
        &state.mfa_lockout(),
        req,
        &account,
        body.password.as_deref(),
        body.code.as_deref(),
        failure_action,
    )
    .await?;
    Ok(account)
}
