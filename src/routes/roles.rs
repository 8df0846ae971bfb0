//! Roles: list and create them, assign and remove them, and the caller's own.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::audit::Event;
use crate::auth::{Permission, Principal, rbac, users};
use crate::error::ApiError;
use crate::http::{Access, Json, RouteTable};
use crate::params;
use crate::state::AppState;
use crate::storage::Row;

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

fn role_out(row: &Row) -> Result<Value, ApiError> {
    Ok(json!({
        "id": row.get::<i64>("id")?,
        "name": row.get::<String>("name")?,
        "description": row.get::<Option<String>>("description")?,
    }))
}

async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let rows = state
        .db
        .query("SELECT id, name, description FROM roles ORDER BY id", params![])
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(role_out).collect::<Result<Vec<_>, _>>()?))
}

async fn mine(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    let rows = state
        .db
        .query(
            "SELECT r.id, r.name, r.description FROM roles r JOIN user_roles ur ON ur.role_id = r.id
             WHERE ur.user_id = $1 ORDER BY r.id",
            params![principal.user_id],
        )
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(role_out).collect::<Result<Vec<_>, _>>()?))
}

#[derive(Deserialize)]
struct NewRole {
    name: String,
    description: Option<String>,
}

/// Creates a role. It carries no permissions until the policy names it (as in the original).
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
    if state
        .db
        .query_opt("SELECT id FROM roles WHERE name = $1", params![name])
        .await?
        .is_some()
    {
        return Err(exists());
    }
    let row = state
        .db
        .query_write(
            "INSERT INTO roles (name, description) VALUES ($1, $2) RETURNING id, name, description",
            params![name, body.description.as_deref()],
        )
        .await
        .map_err(|e| {
            if e.is_unique_violation_of("name") {
                exists()
            } else {
                e.into()
            }
        })?;
    let row = row
        .first()
        .ok_or_else(|| ApiError::Internal("INSERT returned no row".into()))?;
    Event::new("role_created", "role")
        .by_principal(&principal)
        .on(Some(row.get("id")?), name)
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(HttpResponse::Ok().json(role_out(row)?))
}

#[derive(Deserialize)]
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
    let admins: i64 = tx
        .query_opt(
            "SELECT COUNT(*) AS n FROM user_roles ur JOIN roles r ON r.id = ur.role_id
             JOIN users u ON u.id = ur.user_id WHERE r.name = $1 AND u.is_active = $2",
            params![rbac::ADMIN, true],
        )
        .await?
        .map(|row| row.get("n"))
        .transpose()?
        .unwrap_or(0);
    if admins == 0 {
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
