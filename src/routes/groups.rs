//! `/api/v1/resource-groups`: groups (buildings, floors, rooms), their tree, and the place of
//! each resource in the hierarchy. Reads for any signed-in user, writes for administrators
//! (see [`crate::groups`]).

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::table::RouteTable;
use crate::auth::{Access, Permission};
use crate::error::ApiError;
use crate::groups::{self, GroupFields, GroupPatch};
use crate::http::{Json, Path, Query};
use crate::state::AppState;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Authenticated, Permission as Needs};
    let manage = Needs(Permission::GroupManage);
    table
        .route(Method::POST, "/api/v1/resource-groups", manage, &[], create)
        .route(Method::GET, "/api/v1/resource-groups", Authenticated, &[], list)
        .route(Method::GET, "/api/v1/resource-groups/tree", Authenticated, &[], tree)
        .route(Method::GET, "/api/v1/resource-groups/buildings", Authenticated, &[], buildings)
        .route(Method::GET, "/api/v1/resource-groups/ungrouped", Authenticated, &[], ungrouped)
        .route(Method::POST, "/api/v1/resource-groups/resources/set-parent", manage, &[], set_parent)
        .route(Method::GET, "/api/v1/resource-groups/resources/{resource_id}/children", Authenticated, &[], children)
        .route(Method::GET, "/api/v1/resource-groups/{group_id}", Authenticated, &[], get_one)
        .route(Method::PATCH, "/api/v1/resource-groups/{group_id}", manage, &[], update)
        .route(Method::DELETE, "/api/v1/resource-groups/{group_id}", manage, &[], delete)
        .route(Method::GET, "/api/v1/resource-groups/{group_id}/resources", Authenticated, &[], resources)
        .route(Method::POST, "/api/v1/resource-groups/{group_id}/resources", manage, &[], assign)
        .route(Method::DELETE, "/api/v1/resource-groups/{group_id}/resources/{resource_id}", manage, &[], unassign);
}

/// A field that may be absent (`None`), null (`Some(None)`) or set.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Trimmed text of at most `max` characters (at least one when `required`).
fn text(field: &str, value: String, max: usize, required: bool) -> Result<String, ApiError> {
    let trimmed = value.trim();
    let count = trimmed.chars().count();
    if count > max || (required && count == 0) {
        let rule = if required {
            format!("{field} must be 1-{max} characters")
        } else {
            format!("{field} must be at most {max} characters")
        };
        return Err(ApiError::invalid(&["body", field], rule, value));
    }
    Ok(trimmed.to_owned())
}

/// Optional text: blank becomes null.
fn optional(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    Ok(value
        .map(|value| text(field, value, max, false))
        .transpose()?
        .filter(|value| !value.is_empty()))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewGroup {
    name: String,
    description: Option<String>,
    parent_id: Option<i64>,
    building: Option<String>,
    floor: Option<String>,
    room: Option<String>,
}

async fn create(state: web::Data<AppState>, Json(body): Json<NewGroup>) -> Result<HttpResponse, ApiError> {
    let fields = GroupFields {
        name: text("name", body.name, 200, true)?,
        description: optional("description", body.description, 500)?,
        parent_id: body.parent_id,
        building: optional("building", body.building, 200)?,
        floor: optional("floor", body.floor, 50)?,
        room: optional("room", body.room, 100)?,
    };
    let group = groups::create(&state.db, &state.events.writer, fields, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(group))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    parent_id: Option<i64>,
    building: Option<String>,
    #[serde(default)]
    include_children: bool,
}

async fn list(state: web::Data<AppState>, Query(params): Query<ListParams>) -> Result<HttpResponse, ApiError> {
    let groups = groups::list(
        &state.db,
        params.parent_id,
        params.building.as_deref(),
        params.include_children,
    )
    .await?;
    Ok(HttpResponse::Ok().json(groups))
}

async fn tree(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(groups::tree(&state.db).await?))
}

async fn buildings(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let buildings = groups::buildings(&state.db).await?;
    Ok(HttpResponse::Ok().json(json!({ "buildings": buildings })))
}

async fn ungrouped(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(groups::ungrouped(&state.db, state.clock.now()).await?))
}

#[derive(Deserialize)]
struct GroupId {
    group_id: i64,
}

#[derive(Deserialize)]
struct ResourceId {
    resource_id: i64,
}

#[derive(Deserialize)]
struct GroupResource {
    group_id: i64,
    resource_id: i64,
}

async fn get_one(state: web::Data<AppState>, Path(path): Path<GroupId>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(groups::one(&state.db, path.group_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct GroupChanges {
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    parent_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    building: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    floor: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    room: Option<Option<String>>,
}

async fn update(
    state: web::Data<AppState>,
    Path(path): Path<GroupId>,
    Json(body): Json<GroupChanges>,
) -> Result<HttpResponse, ApiError> {
    let name = match body.name {
        None => None,
        Some(None) => return Err(ApiError::invalid(&["body", "name"], "name must not be null", ())),
        Some(Some(name)) => Some(text("name", name, 200, true)?),
    };
    let clearable =
        |field: &str, value: Option<Option<String>>, max: usize| -> Result<Option<Option<String>>, ApiError> {
            value.map(|value| optional(field, value, max)).transpose()
        };
    let patch = GroupPatch {
        name,
        description: clearable("description", body.description, 500)?,
        parent_id: body.parent_id,
        building: clearable("building", body.building, 200)?,
        floor: clearable("floor", body.floor, 50)?,
        room: clearable("room", body.room, 100)?,
    };
    let group = groups::update(&state.db, &state.events.writer, path.group_id, patch, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(group))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DeleteParams {
    #[serde(default)]
    cascade: bool,
}

async fn delete(
    state: web::Data<AppState>,
    Path(path): Path<GroupId>,
    Query(params): Query<DeleteParams>,
) -> Result<HttpResponse, ApiError> {
    groups::delete(
        &state.db,
        &state.events.writer,
        path.group_id,
        params.cascade,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ResourcesParams {
    #[serde(default)]
    include_children: bool,
}

async fn resources(
    state: web::Data<AppState>,
    Path(path): Path<GroupId>,
    Query(params): Query<ResourcesParams>,
) -> Result<HttpResponse, ApiError> {
    let list = groups::resources_of(&state.db, path.group_id, params.include_children, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GroupAssignment)]
struct Assignment {
    resource_id: i64,
    /// Accepted and ignored, as in the original: the path names the group.
    #[serde(rename = "group_id")]
    _group_id: Option<i64>,
}

async fn assign(
    state: web::Data<AppState>,
    Path(path): Path<GroupId>,
    Json(body): Json<Assignment>,
) -> Result<HttpResponse, ApiError> {
    let message = groups::assign(
        &state.db,
        &state.events.writer,
        path.group_id,
        body.resource_id,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "message": message })))
}

async fn unassign(state: web::Data<AppState>, Path(path): Path<GroupResource>) -> Result<HttpResponse, ApiError> {
    let message = groups::unassign(
        &state.db,
        &state.events.writer,
        path.group_id,
        path.resource_id,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "message": message })))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ParentChange {
    resource_id: i64,
    #[serde(default)]
    parent_id: Option<i64>,
}

async fn set_parent(state: web::Data<AppState>, Json(body): Json<ParentChange>) -> Result<HttpResponse, ApiError> {
    let message = groups::set_parent(
        &state.db,
        &state.events.writer,
        body.resource_id,
        body.parent_id,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "message": message })))
}

async fn children(state: web::Data<AppState>, Path(path): Path<ResourceId>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(groups::children(&state.db, path.resource_id, state.clock.now()).await?))
}
