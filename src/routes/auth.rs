//! Registration and tokens: `/register`, `/token` (password login, with MFA when enabled),
//! `/token/refresh` (rotation with reuse detection), `/logout`.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::audit::Event;
use crate::auth::lockout::{self, LoginKey};
use crate::auth::mfa_lockout::{self, Outcome};
use crate::auth::sessions::{self, Issued};
use crate::auth::{Principal, password, rbac, setup, users};
use crate::client_ip::client_key;
use crate::error::{ApiError, FieldError};
use crate::http::{Form, Json, Query, secret_json};
use crate::state::AppState;

pub fn declare(table: &mut RouteTable) {
    table
        .route(
            Method::POST,
            "/api/v1/register",
            Access::Public,
            &["/register"],
            register,
        )
        .route(Method::POST, "/api/v1/token", Access::Public, &["/token"], token)
        .route(Method::POST, "/api/v1/token/refresh", Access::Public, &[], refresh)
        .route(Method::POST, "/api/v1/logout", Access::Session, &[], logout);
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Registration {
    username: String,
    password: String,
}

/// Creates an account with the `user` role. While first-run setup is incomplete (and not
/// reopened), the account that completes it atomically also becomes the first admin — so then
/// registering needs the setup token or a local request (`routes::setup::authorize_first_admin`);
/// anyone else is refused with a 403 that names the token, rather than given an ordinary
/// account on a server that has no administrator yet.
async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<Registration>,
) -> Result<HttpResponse, ApiError> {
    let username = password::validate_credentials(&body.username, &body.password)?;
    if setup::flags(&state.db).await? == (false, false) {
        super::setup::authorize_first_admin(&req, &state)?;
    }
    let taken = || ApiError::BadRequest("Username already registered".into());
    if users::exists(&state.db, &username).await? {
        return Err(taken());
    }
    let hash = password::hash(&body.password).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let id = users::insert(&mut tx, &state.events.writer, &username, &hash, now)
        .await?
        .ok_or_else(taken)?;
    users::grant_role(tx.as_mut(), id, rbac::USER).await?;
    let first_admin = setup::claim_completion(tx.as_mut(), now, true).await?;
    if first_admin {
        users::grant_role(tx.as_mut(), id, rbac::ADMIN).await?;
    }
    tx.commit().await?;
    if first_admin {
        super::setup::completed(&state);
    }
    let event = Event::new("register", "user")
        .by(Some(id), &username)
        .on(Some(id), &username);
    let event = if first_admin {
        event.details("first user: became admin and completed setup")
    } else {
        event
    };
    event.record(&state.db, state.clock.as_ref(), &req).await;
    Ok(HttpResponse::Created().json(json!({ "id": id, "username": username })))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LoginForm {
    username: String,
    password: String,
    #[schema(schema_with = password_grant)]
    grant_type: Option<String>,
    /// Sent by the web frontend once the server asks for MFA.
    mfa_code: Option<String>,
}

/// The schema of `LoginForm::grant_type`: the password grant is the only one this form takes.
fn password_grant() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["password"]))
        .build()
}

fn token_response(issued: Issued) -> HttpResponse {
    secret_json(json!({
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "token_type": "bearer",
    }))
}

/// Password login (OAuth2 password form): [`sign_in`], answered with the tokens.
async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    Form(form): Form<LoginForm>,
) -> Result<HttpResponse, ApiError> {
    if let Some(grant_type) = form.grant_type.as_deref().filter(|g| !g.is_empty() && *g != "password") {
        return Err(ApiError::invalid(
            &["body", "grant_type"],
            "grant_type must be 'password'",
            grant_type,
        ));
    }
    let credentials = Credentials {
        username: &form.username,
        password: &form.password,
        mfa_code: form.mfa_code.as_deref(),
    };
    Ok(token_response(sign_in(&state, &req, credentials).await?))
}

/// What a password sign-in presents.
pub(super) struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub mfa_code: Option<&'a str>,
}

/// A password sign-in, the one implementation behind `POST /token` and the dashboard's
/// `POST /web/session`: throttled per username and client address (an IPv6 client by its
/// /64), the MFA step also limited per account (`auth::mfa_lockout`), every refusal audited;
/// on success a new session is opened and its tokens returned.
pub(super) async fn sign_in(
    state: &AppState,
    req: &HttpRequest,
    credentials: Credentials<'_>,
) -> Result<Issued, ApiError> {
    // No account can have a longer name: refused before anything (a lockout row) is written.
    if credentials.username.chars().count() > password::MAX_USERNAME_CHARS {
        return Err(ApiError::invalid(
            &["body", "username"],
            format!("Username must be at most {} characters", password::MAX_USERNAME_CHARS),
            credentials.username,
        ));
    }
    let username = credentials.username.to_lowercase();
    let ip_address = client_key(req, &state.settings.trusted_proxies);
    let key = LoginKey {
        username: &username,
        ip_address: &ip_address,
    };
    let now = state.clock.now();
    let failed = |reason: &'static str| Event::new("login_failed", "user").by(None, &username).failed(reason);
    let attempt = match lockout::admit(&state.db, &key, now).await {
        Ok(attempt) => attempt,
        Err(locked) => {
            failed("account locked")
                .record(&state.db, state.clock.as_ref(), req)
                .await;
            return Err(locked);
        }
    };
    let account = users::by_username(&state.db, &username).await?;
    let matches = password::verify(
        credentials.password,
        account.as_ref().map(|a| a.hashed_password.as_str()),
    )
    .await;
    let account = match account {
        Some(account) if matches => account,
        _ => {
            failed("invalid credentials")
                .record(&state.db, state.clock.as_ref(), req)
                .await;
            let message = "Invalid username or password.";
            return Err(attempt.failed(&state.db, &key, "invalid_credentials", message).await?);
        }
    };
    // The password was right: what follows is not a guess to count against the pair.
    if !account.is_active {
        attempt.forget(&state.db).await?;
        failed("account disabled")
            .record(&state.db, state.clock.as_ref(), req)
            .await;
        return Err(ApiError::Unauthorized("Account is disabled".into()));
    }
    if account.mfa_enabled {
        let Some(code) = credentials.mfa_code.filter(|c| !c.trim().is_empty()) else {
            attempt.forget(&state.db).await?;
            return Err(ApiError::Unauthorized("MFA code required".into()));
        };
        match mfa_lockout::check_code(&state.mfa_lockout(), req, &account, code).await? {
            Outcome::Accepted => {}
            Outcome::Wrong => {
                failed("invalid MFA code")
                    .record(&state.db, state.clock.as_ref(), req)
                    .await;
                return Err(attempt
                    .failed(&state.db, &key, "invalid_mfa_code", "Invalid MFA code.")
                    .await?);
            }
            Outcome::Locked(locked) => {
                // Counted against the account already; the pair's count is for password guesses.
                attempt.forget(&state.db).await?;
                failed("MFA locked").record(&state.db, state.clock.as_ref(), req).await;
                return Err(locked);
            }
        }
    }
    attempt.succeeded(&state.db).await?;
    let issued = sessions::open(&state.sessions(), account.id, &username).await?;
    Event::new("login", "user")
        .by(Some(account.id), &username)
        .on(Some(account.id), &username)
        .record(&state.db, state.clock.as_ref(), req)
        .await;
    Ok(issued)
}

#[derive(Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RefreshParams {
    refresh_token: Option<String>,
}

/// Exchanges a refresh token, sent as the `refresh_token` query parameter (wire format)
/// or, better kept out of access logs, in a JSON body `{"refresh_token": "…"}`.
async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    Query(query): Query<RefreshParams>,
    body: Option<Json<RefreshParams>>,
) -> Result<HttpResponse, ApiError> {
    let presented = body
        .and_then(|Json(body)| body.refresh_token)
        .or(query.refresh_token)
        .ok_or_else(|| {
            ApiError::Validation(vec![FieldError {
                kind: "missing".into(),
                loc: vec![json!("query"), json!("refresh_token")],
                msg: "Field required".into(),
                input: serde_json::Value::Null,
            }])
        })?;
    Ok(token_response(rotate(&state, &req, &presented).await?))
}

/// Exchanges a refresh token for the next pair (rotation), the one implementation behind
/// `/token/refresh` and the dashboard's `/web/session/refresh`. A rotated token presented again
/// revokes its session and is audited as a reuse.
pub(super) async fn rotate(state: &AppState, req: &HttpRequest, presented: &str) -> Result<Issued, ApiError> {
    match sessions::refresh(&state.sessions(), presented).await {
        Ok(issued) => Ok(issued),
        Err(error) => {
            if matches!(error, sessions::RefreshError::Revoked) {
                Event::new("refresh_token_reuse", "session")
                    .details("a rotated refresh token was presented again: its session was revoked")
                    .failed(error.to_string())
                    .record(&state.db, state.clock.as_ref(), req)
                    .await;
            }
            Err(error.into())
        }
    }
}

/// Ends every session of the caller: refresh tokens and access tokens alike stop working.
async fn logout(state: web::Data<AppState>, req: HttpRequest, principal: Principal) -> Result<HttpResponse, ApiError> {
    let revoked = sign_out(&state, &req, &principal).await?;
    Ok(HttpResponse::Ok().json(json!({ "message": "Successfully logged out", "revoked_tokens": revoked })))
}

/// Ends every session of the caller (`sessions::revoke_all`) and audits it, the one
/// implementation behind `/logout` and the dashboard's `DELETE /web/session`. The number of
/// sessions ended.
pub(super) async fn sign_out(state: &AppState, req: &HttpRequest, principal: &Principal) -> Result<u64, ApiError> {
    let mut tx = state.db.begin().await?;
    let revoked = sessions::revoke_all(state.clock.as_ref(), tx.as_mut(), principal.user_id).await?;
    tx.commit().await?;
    Event::new("logout", "session")
        .by_principal(principal)
        .record(&state.db, state.clock.as_ref(), req)
        .await;
    Ok(revoked)
}
