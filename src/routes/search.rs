//! `/api/v1/search`: search over resources and reservations, suggestions, popular tags, a
//! resource's free and busy periods, and saved searches (see [`crate::search`]). Every route
//! needs a signed-in user.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::table::RouteTable;
use crate::auth::{Access, Permission, Principal};
use crate::error::ApiError;
use crate::http::{Json as Body, Path, Query};
use crate::search::{self, ReservationCriteria, ResourceCriteria, SearchType, Searcher, Terms, Window};
use crate::state::AppState;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::Authenticated;
    table
        .route(Method::GET, "/api/v1/search/resources", Authenticated, &[], resources)
        .route(Method::GET, "/api/v1/search/reservations", Authenticated, &[], reservations)
        .route(Method::GET, "/api/v1/search/suggestions", Authenticated, &[], suggestions)
        .route(Method::GET, "/api/v1/search/tags/popular", Authenticated, &[], popular_tags)
        .route(Method::GET, "/api/v1/search/resources/{resource_id}/availability", Authenticated, &[], availability)
        .route(Method::GET, "/api/v1/search/saved", Authenticated, &[], saved)
        .route(Method::POST, "/api/v1/search/saved", Authenticated, &[], save)
        .route(Method::DELETE, "/api/v1/search/saved/{search_id}", Authenticated, &[], delete_saved)
        .route(Method::POST, "/api/v1/search/saved/{search_id}/execute", Authenticated, &[], execute);
}

fn default_limit() -> i64 {
    50
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Paging {
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ResourceParams {
    query: Option<String>,
    tags: Option<String>,
    /// `category:value`, repeatable (or comma-separated).
    #[param(inline)]
    label: Option<crate::labels::LabelFilterList>,
    status: Option<String>,
    available_only: Option<bool>,
    available_from: Option<String>,
    available_until: Option<String>,
    requires_approval: Option<bool>,
    group_id: Option<i64>,
    building: Option<String>,
}

fn envelope<T: serde::Serialize>(results: Vec<T>, total: i64, window: Window) -> Json {
    let has_more = window.offset + (results.len() as i64) < total;
    json!({ "results": results, "total": total, "limit": window.limit, "offset": window.offset, "has_more": has_more })
}

async fn resources(
    state: web::Data<AppState>,
    Query(params): Query<ResourceParams>,
    Query(paging): Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let window = Window::new(paging.limit, paging.offset)?;
    let labels = params.label.map(|list| {
        Terms::List(
            list.into_inner()
                .iter()
                .flat_map(|item| item.split(',').map(str::to_owned).collect::<Vec<_>>())
                .collect(),
        )
    });
    let criteria = ResourceCriteria {
        query: params.query,
        tags: params.tags.map(Terms::Text),
        labels,
        status: params.status,
        available_only: params.available_only,
        available_from: params.available_from,
        available_until: params.available_until,
        requires_approval: params.requires_approval,
        group_id: params.group_id,
        building: params.building,
    };
    let (hits, total) = search::resources(&state.db, &criteria, window, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(envelope(hits, total, window)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReservationParams {
    user_id: Option<i64>,
    resource_id: Option<i64>,
    status: Option<String>,
    start_from: Option<String>,
    start_until: Option<String>,
    created_from: Option<String>,
    created_until: Option<String>,
    #[serde(default)]
    include_cancelled: bool,
}

fn searcher(principal: &Principal) -> Searcher {
    Searcher {
        user_id: principal.user_id,
        reads_any: principal.can(Permission::ReservationReadAny),
    }
}

async fn reservations(
    state: web::Data<AppState>,
    principal: Principal,
    Query(params): Query<ReservationParams>,
    Query(paging): Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let window = Window::new(paging.limit, paging.offset)?;
    let criteria = ReservationCriteria {
        user_id: params.user_id,
        resource_id: params.resource_id,
        status: params.status.map(Terms::Text),
        start_from: params.start_from,
        start_until: params.start_until,
        created_from: params.created_from,
        created_until: params.created_until,
        include_cancelled: Some(params.include_cancelled),
    };
    let (hits, total) = search::reservations(&state.db, &criteria, searcher(&principal), window).await?;
    Ok(HttpResponse::Ok().json(envelope(hits, total, window)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SuggestionParams {
    query: String,
    #[serde(default = "ten")]
    limit: i64,
}

fn ten() -> i64 {
    10
}

fn twenty() -> i64 {
    20
}

async fn suggestions(
    state: web::Data<AppState>,
    Query(params): Query<SuggestionParams>,
) -> Result<HttpResponse, ApiError> {
    if params.query.is_empty() {
        return Err(ApiError::invalid(
            &["query", "query"],
            "query must not be empty",
            params.query,
        ));
    }
    if !(1..=50).contains(&params.limit) {
        return Err(ApiError::out_of_range(&["query", "limit"], params.limit, 1, 50));
    }
    Ok(HttpResponse::Ok().json(search::suggestions(&state.db, &params.query, params.limit).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PopularParams {
    #[serde(default = "twenty")]
    limit: i64,
}

async fn popular_tags(
    state: web::Data<AppState>,
    Query(params): Query<PopularParams>,
) -> Result<HttpResponse, ApiError> {
    if !(1..=100).contains(&params.limit) {
        return Err(ApiError::out_of_range(&["query", "limit"], params.limit, 1, 100));
    }
    Ok(HttpResponse::Ok().json(search::popular_tags(&state.db, params.limit).await?))
}

#[derive(Deserialize)]
struct ResourceId {
    resource_id: i64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AvailabilityParams {
    #[serde(default = "seven")]
    days_ahead: i64,
}

fn seven() -> i64 {
    7
}

async fn availability(
    state: web::Data<AppState>,
    Path(path): Path<ResourceId>,
    Query(params): Query<AvailabilityParams>,
) -> Result<HttpResponse, ApiError> {
    if !(1..=30).contains(&params.days_ahead) {
        return Err(ApiError::out_of_range(
            &["query", "days_ahead"],
            params.days_ahead,
            1,
            30,
        ));
    }
    let body = search::availability(&state.db, path.resource_id, params.days_ahead, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SavedParams {
    #[param(inline)]
    search_type: Option<SearchType>,
}

async fn saved(
    state: web::Data<AppState>,
    principal: Principal,
    Query(params): Query<SavedParams>,
) -> Result<HttpResponse, ApiError> {
    let list = search::saved(&state.db, principal.user_id, params.search_type).await?;
    Ok(HttpResponse::Ok().json(json!({ "count": list.len(), "saved_searches": list })))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewSaved {
    name: String,
    search_type: SearchType,
    #[schema(value_type = Object)]
    filters: serde_json::Map<String, Json>,
}

/// The largest number a saved search's filters may hold. Filters hold ids, counts and flags;
/// a number near the limits of a double does not survive PostgreSQL's `jsonb` (which keeps
/// it as an exact decimal that reads back out of range), so the list of saved searches could
/// not be read any more.
const MAX_FILTER_NUMBER: f64 = 1e15;

/// Whether every number in `value` lies within `±limit`.
fn numbers_within(value: &Json, limit: f64) -> bool {
    match value {
        Json::Number(number) => number.as_f64().is_some_and(|n| n.abs() <= limit),
        Json::Array(items) => items.iter().all(|item| numbers_within(item, limit)),
        Json::Object(fields) => fields.values().all(|field| numbers_within(field, limit)),
        Json::Null | Json::Bool(_) | Json::String(_) => true,
    }
}

async fn save(
    state: web::Data<AppState>,
    principal: Principal,
    Body(body): Body<NewSaved>,
) -> Result<HttpResponse, ApiError> {
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            &["body", "name"],
            "name must be 1-100 characters",
            body.name,
        ));
    }
    let filters = Json::Object(body.filters);
    if filters.to_string().len() > 16 * 1024 {
        return Err(ApiError::invalid(
            &["body", "filters"],
            "filters may be at most 16 KiB",
            (),
        ));
    }
    if !numbers_within(&filters, MAX_FILTER_NUMBER) {
        return Err(ApiError::invalid(
            &["body", "filters"],
            "numbers in filters must lie within ±10^15",
            (),
        ));
    }
    let id = search::save(
        &state.db,
        principal.user_id,
        &name,
        body.search_type,
        filters,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true, "id": id, "name": name, "search_type": body.search_type,
    })))
}

#[derive(Deserialize)]
struct SearchId {
    search_id: i64,
}

async fn delete_saved(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<SearchId>,
) -> Result<HttpResponse, ApiError> {
    search::delete_saved(&state.db, principal.user_id, path.search_id).await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true, "message": "Saved search deleted" })))
}

async fn execute(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<SearchId>,
    Query(paging): Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let window = Window::new(paging.limit, paging.offset)?;
    let saved = search::saved_one(&state.db, principal.user_id, path.search_id).await?;
    let (results, total) = match saved.search_type {
        SearchType::Resources => {
            let criteria = search::resource_criteria(&saved.filters)?;
            let (hits, total) = search::resources(&state.db, &criteria, window, state.clock.now()).await?;
            (hits.iter().map(search::short_resource).collect::<Vec<_>>(), total)
        }
        SearchType::Reservations => {
            let criteria = search::reservation_criteria(&saved.filters)?;
            let (hits, total) = search::reservations(&state.db, &criteria, searcher(&principal), window).await?;
            (hits.iter().map(search::short_reservation).collect(), total)
        }
    };
    let has_more = window.offset + (results.len() as i64) < total;
    Ok(HttpResponse::Ok().json(json!({
        "saved_search_name": saved.name,
        "search_type": saved.search_type,
        "results": results,
        "total": total,
        "has_more": has_more,
    })))
}
