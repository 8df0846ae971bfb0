//! Roles: list and create them, assign and remove them, and the caller's own.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::audit::Event;
use crate::auth::roles::{self, Role};
use crate::auth::{Permission, Principal, users};
use crate::error::ApiError;
use crate::http::Json;
use crate::state::AppState;

pub fn declare(table: &mut RouteTable) {
    let manage = Access::Permission(Permission::RoleManage);
    table
        .route(
            Method::GET,
            "/api/v1/roles",
            Access::Permission(Permission::RoleRead),
            &["/roles"],
            list,
        )
        .route(Method::POST, "/api/v1/roles", manage, &["/roles"], create)
        .route(Method::POST, "/api/v1/roles/assign", manage, &["/roles/assign"], assign)
        .route(
            Method::DELETE,
            "/api/v1/roles/assign",
            manage,
            &["/roles/assign"],
            remove,
        )
        .route(
            Method::GET,
            "/api/v1/roles/my-roles",
            Access::Authenticated,
            &["/roles/my-roles"],
            mine,
        );
}

fn role_out(role: &Role) -> Value {
    json!({
        "id": role.id,
        "name": role.name,
        "description": role.description,
    })
}

async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let roles = roles::all(&state.db).await?;
    Ok(HttpResponse::Ok().json(roles.iter().map(role_out).collect::<Vec<_>>()))
}

async fn mine(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    let roles = roles::of_user(&state.db, principal.user_id).await?;
    Ok(HttpResponse::Ok().json(roles.iter().map(role_out).collect::<Vec<_>>()))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewRole {
    name: String,
    description: Option<String>,
}

/// Creates a role. It carries no permissions until the policy names it.
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    Json(body): Json<NewRole>,
) -> Result<HttpResponse, ApiError> {
    let name = body.name.trim();
    if !(1..=50).contains(&name.chars().count()) || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            &["body", "name"],
            "Role name must be 1-50 printable characters",
            &body.name,
        ));
    }
    let exists = || ApiError::BadRequest("Role already exists".into());
    if roles::exists(&state.db, name).await? {
        return Err(exists());
    }
    let role = roles::create(&state.db, name, body.description.as_deref())
        .await
        .map_err(|e| {
            if e.is_unique_violation_of("name") {
                exists()
            } else {
                e.into()
            }
        })?;
    Event::new("role_created", "role")
        .by_principal(&principal)
        .on(Some(role.id), name)
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(HttpResponse::Ok().json(role_out(&role)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = RoleAssignment)]
struct Assignment {
    user_id: Option<i64>,
    username: Option<String>,
    role_name: String,
}

/// The user an assignment names, by id or (exact) username.
async fn target(state: &AppState, body: &Assignment) -> Result<(i64, String), ApiError> {
    let account = match (body.user_id, body.username.as_deref()) {
        (Some(id), _) => users::by_id(&state.db, id)
            .await?
            .ok_or_else(|| ApiError::NotFound("User not found".into()))?,
        (None, Some(username)) => users::by_username(&state.db, username)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("User '{username}' not found")))?,
        (None, None) => return Err(ApiError::BadRequest("Either user_id or username is required".into())),
    };
    Ok((account.id, account.username))
}

async fn assign(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    Json(body): Json<Assignment>,
) -> Result<HttpResponse, ApiError> {
    change(&state, &req, &principal, &body, true).await?;
    Ok(HttpResponse::Ok().json(json!({ "message": format!("Role '{}' assigned successfully", body.role_name) })))
}

async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    Json(body): Json<Assignment>,
) -> Result<HttpResponse, ApiError> {
    change(&state, &req, &principal, &body, false).await?;
    Ok(HttpResponse::Ok().json(json!({ "message": format!("Role '{}' removed successfully", body.role_name) })))
}

async fn change(
    state: &AppState,
    req: &HttpRequest,
    principal: &Principal,
    body: &Assignment,
    grant: bool,
) -> Result<(), ApiError> {
    let (user_id, username) = target(state, body).await?;
    let mut tx = state.db.begin().await?;
    let known = if grant {
        users::grant_role(tx.as_mut(), user_id, &body.role_name).await?
    } else {
        users::revoke_role(tx.as_mut(), user_id, &body.role_name).await?
    };
    if !known {
        return Err(ApiError::NotFound("Role not found".into()));
    }
    // Without an admin nobody could manage the server any more (setup is complete).
    if roles::active_admins(tx.as_mut()).await? == 0 {
        return Err(ApiError::BadRequest("Cannot remove the last admin".into()));
    }
    tx.commit().await?;
    Event::new(if grant { "role_assigned" } else { "role_removed" }, "user")
        .by_principal(principal)
        .on(Some(user_id), &username)
        .details(format!("role: {}", body.role_name))
        .record(&state.db, state.clock.as_ref(), req)
        .await;
    Ok(())
}
