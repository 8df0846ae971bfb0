//! `/api/v1/notifications`: the caller's in-app notifications.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::http::{Path, Query};
use crate::notifications;
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::Authenticated;
    table
        .route(Method::GET, "/api/v1/notifications", Authenticated, &[], list)
        .route(Method::POST, "/api/v1/notifications/mark-all-read", Authenticated, &[], mark_all_read)
        .route(Method::POST, "/api/v1/notifications/{notification_id}/read", Authenticated, &[], mark_read);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    #[serde(default)]
    unread_only: bool,
}

async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::parse(&page, notifications::SORT_KEYS, "created_at", true)?;
    Ok(HttpResponse::Ok()
        .json(notifications::page_of_user(&state.db, principal.user_id, params.unread_only, &page).await?))
}

#[derive(Deserialize)]
struct NotificationId {
    notification_id: i64,
}

async fn mark_read(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<NotificationId>,
) -> Result<HttpResponse, ApiError> {
    let notification = notifications::mark_read(&state.db, principal.user_id, path.notification_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Notification not found".into()))?;
    Ok(HttpResponse::Ok().json(notification))
}

async fn mark_all_read(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    let updated = notifications::mark_all_read(&state.db, principal.user_id).await?;
    Ok(HttpResponse::Ok().json(json!({ "message": "Notifications marked as read", "updated": updated })))
}
