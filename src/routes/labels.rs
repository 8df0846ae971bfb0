//! `/api/v1/labels`: labels, their categories, merges, and the labels of each resource. Reads
//! for any signed-in user, writes for administrators (see [`crate::labels`]).

use std::collections::BTreeSet;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::table::RouteTable;
use crate::auth::{Access, Permission};
use crate::error::ApiError;
use crate::http::{Json, Path, Query};
use crate::labels::{self, DEFAULT_COLOR, LabelFields, LabelPatch};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::wire::bounded::Bounded;

/// Most label ids one request may name (a merge's sources, a resource's labels).
const MAX_IDS: usize = 500;

/// Label ids (an alias: the schema derive reads no const argument).
type Ids = Bounded<i64, MAX_IDS>;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Authenticated, Permission as Needs};
    // The original's check_permission("resource", "create"): 403 "Admin access required".
    let manage = Needs(Permission::ResourceCreate);
    table
        .route(Method::GET, "/api/v1/labels", Authenticated, &[], list)
        .route(Method::POST, "/api/v1/labels", manage, &[], create)
        .route(Method::GET, "/api/v1/labels/categories", Authenticated, &[], categories)
        .route(Method::POST, "/api/v1/labels/merge", manage, &[], merge)
        .route(Method::GET, "/api/v1/labels/resources/{resource_id}", Authenticated, &[], of_resource)
        .route(Method::PUT, "/api/v1/labels/resources/{resource_id}", manage, &[], replace)
        .route(Method::GET, "/api/v1/labels/{label_id}", Authenticated, &[], get_one)
        .route(Method::PUT, "/api/v1/labels/{label_id}", manage, &[], update)
        .route(Method::DELETE, "/api/v1/labels/{label_id}", manage, &[], delete);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    category: Option<String>,
    search: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    Query(params): Query<ListParams>,
    Query(paging): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    if let Some(key) = paging.sort_by.as_deref()
        && !labels::SORT_KEYS.iter().any(|k| k.name == key)
    {
        let names: Vec<&str> = labels::SORT_KEYS.iter().map(|k| k.name).collect();
        let why = format!("sort_by must be one of: {}", names.join(", "));
        return Err(ApiError::invalid(&["query", "sort_by"], why, key));
    }
    let page = Page::parse(&paging, labels::SORT_KEYS, "category", false)?;
    let category = params.category.filter(|c| !c.trim().is_empty());
    let search = params.search.filter(|s| !s.trim().is_empty());
    let body = labels::page(&state.db, category.as_deref(), search.as_deref(), &page).await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Trimmed text of 1 to `max` characters.
fn required(field: &str, value: String, max: usize) -> Result<String, ApiError> {
    let trimmed = value.trim();
    let count = trimmed.chars().count();
    if count == 0 || count > max {
        return Err(ApiError::invalid(
            &["body", field],
            format!("{field} must be 1-{max} characters"),
            value,
        ));
    }
    Ok(trimmed.to_owned())
}

/// `#RRGGBB`.
fn color(value: String) -> Result<String, ApiError> {
    let valid = value.len() == 7 && value.starts_with('#') && value[1..].chars().all(|c| c.is_ascii_hexdigit());
    if !valid {
        return Err(ApiError::invalid(
            &["body", "color"],
            "color must be a hex colour like #6366f1",
            value,
        ));
    }
    Ok(value)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewLabel {
    category: String,
    value: String,
    color: Option<String>,
    description: Option<String>,
}

async fn create(state: web::Data<AppState>, Json(body): Json<NewLabel>) -> Result<HttpResponse, ApiError> {
    let fields = LabelFields {
        category: required("category", body.category, 100)?,
        value: required("value", body.value, 200)?,
        color: color(body.color.unwrap_or_else(|| DEFAULT_COLOR.to_owned()))?,
        description: body.description,
    };
    let label = labels::create(&state.db, fields, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(label))
}

async fn categories(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(labels::categories(&state.db).await?))
}

#[derive(Deserialize)]
struct LabelId {
    label_id: i64,
}

#[derive(Deserialize)]
struct ResourceId {
    resource_id: i64,
}

async fn get_one(state: web::Data<AppState>, Path(path): Path<LabelId>) -> Result<HttpResponse, ApiError> {
    let label = labels::get(&state.db, path.label_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Label not found".into()))?;
    Ok(HttpResponse::Ok().json(label))
}

/// A field that may be absent (`None`), null (`Some(None)`) or set.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LabelChanges {
    category: Option<String>,
    value: Option<String>,
    color: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
}

async fn update(
    state: web::Data<AppState>,
    Path(path): Path<LabelId>,
    Json(body): Json<LabelChanges>,
) -> Result<HttpResponse, ApiError> {
    let patch = LabelPatch {
        category: body.category.map(|c| required("category", c, 100)).transpose()?,
        value: body.value.map(|v| required("value", v, 200)).transpose()?,
        color: body.color.map(color).transpose()?,
        description: body.description,
    };
    let label = labels::update(&state.db, path.label_id, patch, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(label))
}

async fn delete(state: web::Data<AppState>, Path(path): Path<LabelId>) -> Result<HttpResponse, ApiError> {
    let name = labels::delete(&state.db, path.label_id).await?;
    Ok(HttpResponse::Ok().json(json!({ "message": format!("Label '{name}' deleted successfully") })))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Merge {
    #[schema(inline)]
    source_label_ids: Ids,
    target_label_id: i64,
}

async fn merge(state: web::Data<AppState>, Json(body): Json<Merge>) -> Result<HttpResponse, ApiError> {
    let sources = body.source_label_ids.into_inner();
    if sources.is_empty() {
        return Err(ApiError::invalid(
            &["body", "source_label_ids"],
            "at least one source label is required",
            sources,
        ));
    }
    let distinct: BTreeSet<i64> = sources.iter().copied().collect();
    if distinct.len() != sources.len() {
        return Err(ApiError::invalid(
            &["body", "source_label_ids"],
            "Duplicate label IDs in source list",
            sources,
        ));
    }
    let merged = labels::merge(&state.db, &distinct, body.target_label_id, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(merged))
}

async fn of_resource(state: web::Data<AppState>, Path(path): Path<ResourceId>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(labels::of_resource(&state.db, path.resource_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = LabelAssignment)]
struct Assignment {
    #[schema(inline)]
    label_ids: Ids,
}

async fn replace(
    state: web::Data<AppState>,
    Path(path): Path<ResourceId>,
    Json(body): Json<Assignment>,
) -> Result<HttpResponse, ApiError> {
    let ids: BTreeSet<i64> = body.label_ids.into_inner().into_iter().collect();
    let labels = labels::replace(&state.db, path.resource_id, &ids, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(labels))
}
