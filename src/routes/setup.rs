//! First-run setup: `/setup/status`, `/setup/initialize`, `/setup/unlock`.
//!
//! `initialize` needs a token in `X-Setup-Token`: while setup is incomplete, the one logged at
//! start-up (and kept in the data directory's `setup-token` file), unless the request is local
//! ([`authorize_first_admin`]); once reopened, `SETUP_REOPEN_TOKEN`.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::audit::Event;
use crate::auth::{password, rbac, setup, user_admin, users};
use crate::client_ip::is_local;
use crate::error::ApiError;
use crate::http::Json;
use crate::secret;
use crate::state::AppState;

pub fn declare(table: &mut RouteTable) {
    table
        .route(
            Method::GET,
            "/api/v1/setup/status",
            Access::Public,
            &["/setup/status"],
            status,
        )
        .route(
            Method::POST,
            "/api/v1/setup/initialize",
            Access::Public,
            &["/setup/initialize"],
            initialize,
        )
        .route(
            Method::POST,
            "/api/v1/setup/unlock",
            Access::Public,
            &["/setup/unlock"],
            unlock,
        );
}

async fn status(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (complete, reopened) = setup::flags(&state.db).await?;
    let users = user_admin::count(&state.db).await?;
    Ok(HttpResponse::Ok().json(json!({ "setup_complete": complete, "setup_reopened": reopened, "user_count": users })))
}

fn presented_token(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get("x-setup-token")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// Checks `X-Setup-Token` against `expected`, with the wire format's messages for the reopen token
/// (`kind` is "Setup reopen token" or "Setup token").
fn check_token(req: &HttpRequest, expected: Option<&str>, kind: &str) -> Result<(), ApiError> {
    let expected = expected.ok_or_else(|| ApiError::Forbidden(format!("{kind} is not configured.")))?;
    let presented = presented_token(req).ok_or_else(|| ApiError::Forbidden(format!("{kind} is required.")))?;
    if secret::same(presented, expected) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("Invalid {}.", kind.to_lowercase())))
    }
}

/// Whether `req` may make the first admin while setup is incomplete (by `initialize` or the
/// first registration): with the setup token, or — without one — only from this machine itself
/// (a loopback peer and no forwarding header, so a reverse proxy on the same host does not make
/// every visitor local). A presented token is always checked.
pub(crate) fn authorize_first_admin(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    if presented_token(req).is_none() && is_local(req) {
        return Ok(());
    }
    check_token(req, state.auth.setup_token.as_deref(), "Setup token").map_err(|error| match error {
        ApiError::Forbidden(detail) if presented_token(req).is_none() => ApiError::Forbidden(format!(
            "{detail} Setup is not complete, and the first account becomes the administrator: send the setup \
             token as X-Setup-Token (it is in the server's log and in the file setup-token in its data \
             directory), or set up from the server's own machine."
        )),
        other => other,
    })
}

/// Setup has just been completed: its token is no use any more.
pub(crate) fn completed(state: &AppState) {
    setup::remove_token_file(&state.settings.data_dir);
}

/// Who `initialize` makes the admin: an existing account, or a new one (username, hash).
enum Candidate {
    Existing(i64, String),
    New(String, String),
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Initialize {
    username: Option<String>,
    password: Option<String>,
    existing_username: Option<String>,
}

async fn initialize(
    state: web::Data<AppState>,
    req: HttpRequest,
    Json(body): Json<Initialize>,
) -> Result<HttpResponse, ApiError> {
    let (complete, reopened) = setup::flags(&state.db).await?;
    if complete && !reopened {
        return Err(ApiError::BadRequest("Setup already completed".into()));
    }
    if reopened {
        check_token(&req, state.settings.setup_reopen_token.as_deref(), "Setup reopen token")?;
    } else {
        authorize_first_admin(&req, &state)?;
    }
    let now = state.clock.now();
    let candidate = match (&body.existing_username, &body.username, &body.password) {
        (Some(existing), _, _) => {
            let account = users::by_username(&state.db, &existing.to_lowercase())
                .await?
                .ok_or_else(|| ApiError::NotFound("User not found".into()))?;
            Candidate::Existing(account.id, account.username)
        }
        (None, Some(username), Some(password)) => {
            let username = password::validate_credentials(username, password)?;
            Candidate::New(username, password::hash(password).await?)
        }
        _ => return Err(ApiError::BadRequest("Username and password are required".into())),
    };
    let mut tx = state.db.begin().await?;
    let (admin_id, admin_username) = match candidate {
        Candidate::Existing(id, username) => (id, username),
        Candidate::New(username, hash) => {
            let id = users::insert(&mut tx, &state.events.writer, &username, &hash, now)
                .await?
                .ok_or_else(|| ApiError::BadRequest("Username already registered".into()))?;
            (id, username)
        }
    };
    if !setup::claim_completion(tx.as_mut(), now, false).await? {
        return Err(ApiError::BadRequest("Setup already completed".into()));
    }
    setup::set_flag(tx.as_mut(), setup::REOPENED, false, now).await?;
    users::grant_role(tx.as_mut(), admin_id, rbac::USER).await?;
    users::grant_role(tx.as_mut(), admin_id, rbac::ADMIN).await?;
    tx.commit().await?;
    completed(&state);
    Event::new("setup_initialized", "system")
        .by(Some(admin_id), &admin_username)
        .on(Some(admin_id), &admin_username)
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(HttpResponse::Ok().json(json!({
        "message": "Setup completed successfully",
        "admin_user_id": admin_id,
        "admin_username": admin_username,
    })))
}

async fn unlock(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (complete, _) = setup::flags(&state.db).await?;
    if !complete {
        return Ok(HttpResponse::Ok().json(json!({ "message": "Setup is already open" })));
    }
    check_token(&req, state.settings.setup_reopen_token.as_deref(), "Setup reopen token")?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    setup::set_flag(tx.as_mut(), setup::COMPLETE, false, now).await?;
    setup::set_flag(tx.as_mut(), setup::REOPENED, true, now).await?;
    tx.commit().await?;
    Event::new("setup_reopened", "system")
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(HttpResponse::Ok().json(json!({ "message": "Setup reopened" })))
}
