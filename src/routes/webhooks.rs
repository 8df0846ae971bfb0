//! `/api/v1/webhooks`: a user's webhooks, their secrets and delivery history, test sends and
//! manual retries. Everything but the event list needs `webhook:manage`, and each webhook is
//! its owner's: anyone else (without `webhook:manage_any`) is told it does not exist.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use reserver_actors::webhook::{DeliveryStatus, Settlement};
use serde::Deserialize;
use serde_json::json;

use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::{Permission, Principal, authorize_owner};
use crate::error::ApiError;
use crate::http::{Json, OptionalJson, Path, Query, secret_json, secret_json_with};
use crate::state::AppState;
use crate::webhooks::model::{self, Description, EventNames, NewWebhook, WebhookOut, WebhookPatch, WebhookUrl};
use crate::webhooks::store::{self, ManualClaim};
use crate::webhooks::{project, signature, topics};
use crate::wire::time::utc;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Authenticated, Permission as Needs, Public};
    let manage = Needs(Permission::WebhookManage);
    table
        .route(Method::GET, "/api/v1/webhooks/events", Public, &[], events)
        .route(Method::GET, "/api/v1/webhooks/signature-example", Authenticated, &[], signature_example)
        .route(Method::POST, "/api/v1/webhooks", manage, &[], create)
        .route(Method::GET, "/api/v1/webhooks", manage, &[], list)
        .route(Method::GET, "/api/v1/webhooks/{webhook_id}", manage, &[], get_one)
        .route(Method::PATCH, "/api/v1/webhooks/{webhook_id}", manage, &[], update)
        .route(Method::DELETE, "/api/v1/webhooks/{webhook_id}", manage, &[], delete)
        .route(Method::POST, "/api/v1/webhooks/{webhook_id}/regenerate-secret", manage, &[], regenerate_secret)
        .route(Method::GET, "/api/v1/webhooks/{webhook_id}/deliveries", manage, &[], deliveries)
        .route(Method::POST, "/api/v1/webhooks/{webhook_id}/test", manage, &[], test)
        .route(Method::GET, "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}", manage, &[], delivery)
        .route(Method::POST, "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", manage, &[], retry);
}

#[derive(Deserialize)]
struct WebhookId {
    webhook_id: i64,
}

#[derive(Deserialize)]
struct DeliveryPath {
    webhook_id: i64,
    delivery_id: i64,
}

fn not_found() -> ApiError {
    ApiError::NotFound("Webhook not found".into())
}

fn delivery_not_found() -> ApiError {
    ApiError::NotFound("Delivery not found".into())
}

/// The webhook, if the caller may act on it (its owner, or `webhook:manage_any`); else 404.
async fn visible(state: &AppState, principal: &Principal, id: i64) -> Result<WebhookOut, ApiError> {
    let webhook = model::get(&state.db, id).await?.ok_or_else(not_found)?;
    authorize_owner(principal, webhook.owner, Permission::WebhookManageAny, not_found())?;
    Ok(webhook)
}

/// The URL, unless it is a literal address webhooks may not reach (a name is checked each time
/// it is resolved, when sending).
fn reachable(state: &AppState, url: WebhookUrl) -> Result<String, ApiError> {
    state
        .webhooks
        .config
        .allowed
        .check_url(&url.0)
        .map_err(|why| ApiError::invalid(&["body", "url"], why, url.0.as_str()))?;
    Ok(url.0.to_string())
}

async fn events() -> HttpResponse {
    let events: Vec<_> = topics::TOPICS
        .iter()
        .map(|topic| json!({ "type": topic.name, "description": topic.description }))
        .collect();
    HttpResponse::Ok().json(events)
}

async fn signature_example() -> HttpResponse {
    HttpResponse::Ok().json(signature::example())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewWebhookBody {
    url: WebhookUrl,
    events: EventNames,
    description: Option<Description>,
}

async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    Json(body): Json<NewWebhookBody>,
) -> Result<HttpResponse, ApiError> {
    let events = body.events.check()?;
    let new = NewWebhook {
        url: reachable(&state, body.url)?,
        events,
        description: body.description.and_then(|d| d.0),
        secret: model::new_secret()?,
    };
    let max = state.webhooks.config.max_per_user;
    let id = model::create(&state.db, principal.user_id, &new, max, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::Conflict(format!("Webhook limit reached: at most {max} webhooks per user")))?;
    let mut created = model::get(&state.db, id).await?.ok_or_else(not_found)?;
    created.secret = Some(new.secret);
    Ok(secret_json_with(StatusCode::CREATED, created))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Everyone's webhooks (with `webhook:manage_any`).
    #[serde(default)]
    all: bool,
}

async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let owner = if params.all {
        principal.require(Permission::WebhookManageAny)?;
        None
    } else {
        Some(principal.user_id)
    };
    Ok(HttpResponse::Ok().json(model::list(&state.db, owner).await?))
}

async fn get_one(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(visible(&state, &principal, path.webhook_id).await?))
}

/// `null` or absent fields are left unchanged; an empty description
/// removes it.
#[derive(Deserialize, utoipa::ToSchema)]
struct PatchBody {
    url: Option<WebhookUrl>,
    events: Option<EventNames>,
    description: Option<Description>,
    is_active: Option<bool>,
}

async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<WebhookId>,
    Json(body): Json<PatchBody>,
) -> Result<HttpResponse, ApiError> {
    let webhook = visible(&state, &principal, path.webhook_id).await?;
    let patch = WebhookPatch {
        events: body.events.map(EventNames::check).transpose()?,
        url: body.url.map(|url| reachable(&state, url)).transpose()?,
        description: body.description.map(|d| d.0),
        is_active: body.is_active,
    };
    model::update(&state.db, webhook.id, &patch, state.clock.now()).await?;
    // Re-activated: its pending deliveries are due again.
    state.webhooks.wake();
    Ok(HttpResponse::Ok().json(model::get(&state.db, webhook.id).await?.ok_or_else(not_found)?))
}

async fn delete(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    let webhook = visible(&state, &principal, path.webhook_id).await?;
    model::delete(&state.db, webhook.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn regenerate_secret(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    let webhook = visible(&state, &principal, path.webhook_id).await?;
    let secret = model::new_secret()?;
    model::set_secret(&state.db, webhook.id, &secret, state.clock.now()).await?;
    let mut regenerated = model::get(&state.db, webhook.id).await?.ok_or_else(not_found)?;
    regenerated.secret = Some(secret);
    Ok(secret_json(regenerated))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DeliveriesParams {
    limit: Option<i64>,
}

async fn deliveries(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<WebhookId>,
    Query(params): Query<DeliveriesParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            &["query", "limit"],
            "limit must be between 1 and 100",
            limit,
        ));
    }
    let webhook = visible(&state, &principal, path.webhook_id).await?;
    Ok(HttpResponse::Ok().json(model::deliveries(&state.db, webhook.id, limit).await?))
}

async fn delivery(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<DeliveryPath>,
) -> Result<HttpResponse, ApiError> {
    let webhook = visible(&state, &principal, path.webhook_id).await?;
    let delivery = model::delivery(&state.db, webhook.id, path.delivery_id)
        .await?
        .ok_or_else(delivery_not_found)?;
    Ok(HttpResponse::Ok().json(delivery))
}

fn delivered(settlement: &Settlement) -> bool {
    settlement.status == DeliveryStatus::Delivered
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
struct TestBody {
    event_type: Option<String>,
}

/// Sends a test event now and answers with the outcome. The body may be left out (the web frontend
/// sends none).
async fn test(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<WebhookId>,
    OptionalJson(body): OptionalJson<TestBody>,
) -> Result<HttpResponse, ApiError> {
    let webhook = visible(&state, &principal, path.webhook_id).await?;
    let event = body.event_type.unwrap_or_else(|| topics::DEFAULT_TEST_TOPIC.to_owned());
    if !topics::is_known(&event) {
        return Err(ApiError::BadRequest(format!("Invalid event type: {event}")));
    }
    let now = state.clock.now();
    let data = json!({
        "test": true,
        "message": "This is a test webhook delivery",
        "webhook_id": webhook.id,
        "triggered_by": principal.username,
        "triggered_at": utc(now),
    });
    let payload = project::body(&event, now, &data);
    let until = now + state.webhooks.config.lease();
    let claimed = store::insert_claimed(&state.db, webhook.id, &event, &payload, now, until)
        .await?
        .ok_or_else(not_found)?;
    let delivery_id = claimed.id;
    let settlement = state.webhooks.send(claimed).await?;
    let message = if delivered(&settlement) {
        "Test webhook delivered successfully".to_owned()
    } else {
        format!("Test webhook delivery failed: {}", settlement.error())
    };
    Ok(HttpResponse::Ok().json(json!({
        "success": delivered(&settlement),
        "message": message,
        "delivery_id": delivery_id,
    })))
}

/// Sends a delivery again now (a pending one early, or a failed one once more).
async fn retry(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<DeliveryPath>,
) -> Result<HttpResponse, ApiError> {
    let webhook = visible(&state, &principal, path.webhook_id).await?;
    let now = state.clock.now();
    let until = now + state.webhooks.config.lease();
    let claimed = match store::claim_for_retry(&state.db, webhook.id, path.delivery_id, now, until).await? {
        ManualClaim::Claimed(claimed) => claimed,
        ManualClaim::AlreadyDelivered => return Err(ApiError::BadRequest("Delivery was already successful".into())),
        ManualClaim::InFlight => return Err(ApiError::Conflict("Delivery is being sent right now".into())),
        ManualClaim::NotFound => return Err(delivery_not_found()),
    };
    let settlement = state.webhooks.send(claimed).await?;
    let message = if delivered(&settlement) {
        "Retry successful".to_owned()
    } else {
        format!("Retry failed: {}", settlement.error())
    };
    Ok(HttpResponse::Ok().json(json!({
        "success": delivered(&settlement),
        "message": message,
        "status": settlement.status.as_str(),
    })))
}
