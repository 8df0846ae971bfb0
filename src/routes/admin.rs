//! Account administration: list users, reset a password, disable and re-enable an account.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::audit::Event;
use crate::auth::{Permission, Principal, password, sessions, user_admin, users};
use crate::error::ApiError;
use crate::http::{Json, Path, Query};
use crate::state::AppState;

pub fn declare(table: &mut RouteTable) {
    let admin = Access::Permission(Permission::UserAdmin);
    table
        .route(Method::GET, "/api/v1/auth/admin/users", admin, &[], list)
        .route(
            Method::POST,
            "/api/v1/auth/admin/reset-password",
            admin,
            &[],
            reset_password,
        )
        .route(
            Method::POST,
            "/api/v1/auth/admin/users/{user_id}/disable",
            admin,
            &[],
            disable,
        )
        .route(
            Method::POST,
            "/api/v1/auth/admin/users/{user_id}/enable",
            admin,
            &[],
            enable,
        );
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Page {
    #[serde(default)]
    skip: i64,
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    50
}

/// Pydantic's bound error for a query parameter.
pub(crate) fn out_of_range(name: &str, value: i64, min: i64, max: i64) -> ApiError {
    ApiError::out_of_range(&["query", name], value, min, max)
}

async fn list(state: web::Data<AppState>, Query(page): Query<Page>) -> Result<HttpResponse, ApiError> {
    if page.skip < 0 {
        return Err(out_of_range("skip", page.skip, 0, i64::MAX));
    }
    if !(1..=1000).contains(&page.limit) {
        return Err(out_of_range("limit", page.limit, 1, 1000));
    }
    let out: Vec<_> = user_admin::list(&state.db, page.limit, page.skip)
        .await?
        .into_iter()
        .map(|user| {
            json!({
                "id": user.id,
                "username": user.username,
                "email": user.email,
                "is_active": user.is_active,
                "mfa_enabled": user.mfa_enabled,
                "created_at": user.created_at,
                "roles": user.roles,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Reset {
    username: String,
    new_password: String,
}

/// Sets a user's password (under the full password policy), ends all their
/// sessions and clears their failed sign-ins.
async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    Json(body): Json<Reset>,
) -> Result<HttpResponse, ApiError> {
    if body.username.is_empty() {
        return Err(ApiError::invalid(
            &["body", "username"],
            "Username is required",
            &body.username,
        ));
    }
    let account = users::by_username(&state.db, &body.username)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("User '{}' not found", body.username)))?;
    if account.id == principal.user_id {
        return Err(ApiError::BadRequest(
            "Cannot reset your own password through admin endpoint. Use profile settings instead.".into(),
        ));
    }
    password::check_password(&body.new_password, Some(&account.username))
        .map_err(|message| ApiError::invalid(&["body", "new_password"], message, "********"))?;
    let hash = password::hash(&body.new_password).await?;
    let mut tx = state.db.begin().await?;
    user_admin::set_password(tx.as_mut(), account.id, &hash).await?;
    sessions::revoke_all(state.clock.as_ref(), tx.as_mut(), account.id).await?;
    user_admin::clear_login_attempts(tx.as_mut(), &account.username).await?;
    tx.commit().await?;
    Event::new("password_reset", "user")
        .by_principal(&principal)
        .on(Some(account.id), &account.username)
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(HttpResponse::Ok().json(json!({
        "message": format!("Password for user '{}' has been reset successfully", account.username)
    })))
}

#[derive(Deserialize)]
struct UserId {
    user_id: i64,
}

async fn disable(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    Path(path): Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    set_active(&state, &req, &principal, path.user_id, false).await
}

async fn enable(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    Path(path): Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    set_active(&state, &req, &principal, path.user_id, true).await
}

/// Disabling ends the account's sessions too, so re-enabling it does not revive old tokens.
async fn set_active(
    state: &AppState,
    req: &HttpRequest,
    principal: &Principal,
    user_id: i64,
    active: bool,
) -> Result<HttpResponse, ApiError> {
    if user_id == principal.user_id && !active {
        return Err(ApiError::BadRequest("You cannot disable your own account".into()));
    }
    let account = users::by_id(&state.db, user_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("User not found".into()))?;
    let mut tx = state.db.begin().await?;
    user_admin::set_active(tx.as_mut(), user_id, active).await?;
    if !active {
        sessions::revoke_all(state.clock.as_ref(), tx.as_mut(), user_id).await?;
    }
    tx.commit().await?;
    Event::new(if active { "user_enabled" } else { "user_disabled" }, "user")
        .by_principal(principal)
        .on(Some(user_id), &account.username)
        .record(&state.db, state.clock.as_ref(), req)
        .await;
    let verb = if active { "enabled" } else { "disabled" };
    Ok(HttpResponse::Ok().json(json!({
        "message": format!("User '{}' has been {verb}", account.username),
        "id": user_id,
        "username": account.username,
        "is_active": active,
    })))
}
