//! What the route table does not know about each operation: its summary, multipart body and
//! success answer, keyed by method and canonical path (aliases share their canonical path's
//! entry); its query parameters and JSON or form body are the handler's types'
//! (`super::Inputs`). A route of the table without an entry here is missing from the
//! document, and the coverage test (`tests/api/openapi.rs`) fails.
//!
//! Entries are written as data, one per route in the route table's order, so that adding a
//! route means adding a line here next to its neighbours. An answer the handler serialises from
//! a type is that type's derived schema ([`schema_of`]); an answer it builds as a `json!` value is
//! described here, next to the entries, in the same words.

use actix_web::http::Method;
use serde_json::{Value, json};

use super::schemas::{array_of, boolean, date_time, integer, named, nullable, object, page_of, schema_of, string};
use crate::analytics::{CreatedDay, Dashboard, Heatmap, PeakTimes, Popular, UserPattern, Utilisation};
use crate::groups::{GroupOut, ResourceInGroupOut};
use crate::hours::model::{BlackoutOut, BusinessHoursOut};
use crate::hours::slots::TimeSlot;
use crate::labels::LabelOut;
use crate::notifications::NotificationOut;
use crate::quotas::Tier;
use crate::quotas::stats::Stats;
use crate::reservations::model::ReservationOut;
use crate::resources::board::Board;
use crate::resources::model::ResourceOut;
use crate::search::{ReservationHit, ResourceHit, SavedSearch, SearchType};
use crate::waitlist::WaitlistOut;
use crate::webhooks::model::{DeliveryDetail, DeliveryOut, WebhookOut};

/// The catalogue's description of one operation.
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    pub path: &'static str,
    pub summary: &'static str,
    /// Schemas of path parameters that are not integer ids.
    pub path_params: Vec<(&'static str, Value)>,
    /// The OpenAPI request body object of a body no handler type describes (a multipart upload,
    /// read from the stream); a JSON or form body is the handler's (`super::Inputs`).
    pub body: Option<Value>,
    /// Success answers by status: OpenAPI response objects.
    pub responses: Vec<(u16, Value)>,
    /// Error statuses beyond those the access rule and path imply (401, 403, 404, 422, 429, 503).
    pub errors: Vec<u16>,
}

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

fn op(method: Method, path: &'static str, summary: &'static str) -> Operation {
    // A write may break a rule (400), name an object in its body that does not exist (404),
    // conflict with existing data (409) or be too large (413).
    let errors = if method == Method::GET {
        vec![400]
    } else {
        vec![400, 404, 409, 413]
    };
    Operation {
        method,
        path,
        summary,
        path_params: Vec::new(),
        body: None,
        responses: Vec::new(),
        errors,
    }
}

impl Operation {
    fn body(mut self, media_type: &str, schema: Value) -> Self {
        self.body = Some(json!({ "required": true, "content": { media_type: { "schema": schema } } }));
        self
    }

    fn multipart_body(self, schema: Value) -> Self {
        self.body("multipart/form-data", schema)
    }

    fn path_param(mut self, name: &'static str, schema: Value) -> Self {
        self.path_params.push((name, schema));
        self
    }

    fn returns(mut self, status: u16, schema: Value) -> Self {
        self.responses.push((
            status,
            json!({ "description": "Success", "content": { "application/json": { "schema": schema } } }),
        ));
        self
    }

    fn text(mut self, status: u16, media_type: &str) -> Self {
        self.responses.push((
            status,
            json!({ "description": "Success", "content": { media_type: { "schema": string() } } }),
        ));
        self
    }

    fn no_content(mut self) -> Self {
        self.responses.push((204, json!({ "description": "Done; no body" })));
        self
    }

    fn switching_protocols(mut self) -> Self {
        self.responses.push((
            101,
            json!({ "description": "Upgraded to a WebSocket; the protocol is described in the book" }),
        ));
        self
    }

    fn errors(mut self, statuses: &[u16]) -> Self {
        self.errors.extend_from_slice(statuses);
        self
    }
}

/// `{"message": "…"}`, the answer of many writes.
fn message() -> Value {
    object(&["message"], json!({ "message": string() }))
}

fn csv_file() -> Value {
    object(
        &["file"],
        json!({ "file": { "type": "string", "contentMediaType": "text/csv" } }),
    )
}

// The answers handlers build as `json!` values; those serialised from a type are `schema_of`.

fn number() -> Value {
    json!({ "type": "number" })
}

fn date() -> Value {
    json!({ "type": "string", "format": "date" })
}

/// A string that is always `value`.
fn constant(value: &str) -> Value {
    json!({ "type": "string", "const": value })
}

fn one_of_strings(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// An object of counts (or other values) keyed by name.
fn map_of(values: Value) -> Value {
    json!({ "type": "object", "additionalProperties": values })
}

/// An object whose every property is required.
fn all_required(properties: Value) -> Value {
    let names: Vec<&str> = properties
        .as_object()
        .map(|properties| properties.keys().map(String::as_str).collect())
        .unwrap_or_default();
    object(&names, properties.clone())
}

/// `schema` with the properties `extra` (all required) added.
fn with(schema: Value, extra: Value) -> Value {
    json!({ "allOf": [schema, all_required(extra)] })
}

/// `{"success": true, …}`, the answer of the approval, search and webhook actions.
fn success_and(extra: Value) -> Value {
    let mut properties = json!({ "success": boolean() });
    if let (Some(properties), Some(extra)) = (properties.as_object_mut(), extra.as_object()) {
        properties.extend(extra.clone());
    }
    all_required(properties)
}

/// The window of an analytics answer (`crate::analytics::Span`, with `days` where given).
fn period(with_days: bool) -> Value {
    let mut properties = json!({ "start": date_time(), "end": date_time() });
    if with_days {
        properties["days"] = integer();
    }
    all_required(properties)
}

/// An offset-paged search answer (`routes::search::envelope`).
fn search_results(item: Value) -> Value {
    all_required(json!({
        "results": array_of(item),
        "total": integer(),
        "limit": integer(),
        "offset": integer(),
        "has_more": boolean(),
    }))
}

/// A list that is a page with pagination parameters and a plain array without (the original's shape).
fn page_or_list(item: Value) -> Value {
    json!({ "anyOf": [page_of(item.clone()), array_of(item)] })
}

fn bulk_outcome() -> Value {
    let created = object(
        &["index", "resource_name", "start_time", "end_time", "status"],
        json!({
            "index": integer(),
            "resource_name": string(),
            "start_time": date_time(),
            "end_time": date_time(),
            "status": string(),
            "reservation_id": integer(),
            "would_create": boolean(),
        }),
    );
    object(
        &["total", "success", "failed", "dry_run", "created", "errors"],
        json!({
            "total": integer(),
            "success": integer(),
            "failed": integer(),
            "dry_run": boolean(),
            "created": array_of(created),
            "errors": array_of(named("BulkItemError")),
            "message": string(),
        }),
    )
}

fn schedule() -> Value {
    let period = all_required(json!({ "start_time": date_time(), "end_time": date_time() }));
    all_required(json!({
        "success": boolean(),
        "data": all_required(json!({
            "base_available": boolean(),
            "blackout_dates": array_of(all_required(json!({ "date": date(), "reason": nullable(string()) }))),
            "closed_periods": array_of(period.clone()),
            "current_time": date_time(),
            "free_periods": array_of(period),
            "is_currently_available": boolean(),
            "is_open_now": boolean(),
            "reservations": array_of(all_required(json!({
                "id": integer(),
                "start_time": date_time(),
                "end_time": date_time(),
                "status": string(),
                "user_id": nullable(integer()),
                "user_name": nullable(string()),
            }))),
            "resource_id": integer(),
            "resource_name": string(),
            "timezone": string(),
        })),
    }))
}

fn resource_status() -> Value {
    object(
        &[
            "resource_id",
            "resource_name",
            "base_available",
            "status",
            "is_available_for_reservation",
            "is_currently_in_use",
            "is_unavailable",
            "current_time",
            "is_open",
            "closed_reason",
            "blackout_reason",
            "next_open_time",
        ],
        json!({
            "resource_id": integer(),
            "resource_name": string(),
            "base_available": boolean(),
            "status": one_of_strings(&["available", "in_use", "unavailable"]),
            "is_available_for_reservation": boolean(),
            "is_currently_in_use": boolean(),
            "is_unavailable": boolean(),
            "current_time": date_time(),
            "is_open": boolean(),
            "closed_reason": nullable(one_of_strings(&["closed", "blackout"])),
            "blackout_reason": nullable(string()),
            "next_open_time": nullable(date_time()),
            // Under maintenance only.
            "unavailable_since": date_time(),
            "auto_reset_hours": nullable(integer()),
            "hours_unavailable": number(),
            "hours_until_auto_reset": nullable(number()),
            "will_auto_reset": boolean(),
            // While a booking is in progress only.
            "current_reservation": all_required(json!({
                "id": integer(),
                "start_time": date_time(),
                "end_time": date_time(),
                "user_id": nullable(integer()),
            })),
        }),
    )
}

fn resource_import() -> Value {
    let preview = all_required(json!({
        "preview": boolean(),
        "created_count": integer(),
        "would_create": array_of(all_required(json!({
            "line": integer(),
            "name": string(),
            "description": nullable(string()),
            "tags": array_of(string()),
            "available": boolean(),
            "timezone": string(),
        }))),
        "errors": array_of(string()),
    }));
    let done = all_required(json!({
        "created_count": integer(),
        "created": array_of(integer()),
        "errors": array_of(string()),
    }));
    json!({ "anyOf": [preview, done] })
}

fn metrics_summary() -> Value {
    all_required(json!({
        "uptime_seconds": number(),
        "requests": all_required(json!({
            "total": integer(), "errors": integer(), "avg_duration_ms": number(), "error_rate": number(),
        })),
        "cache": all_required(json!({
            "hits": integer(), "misses": integer(), "hit_rate": number(), "sets": integer(), "deletes": integer(),
            "errors": integer(),
        })),
        "database": all_required(json!({
            "queries": integer(), "avg_query_duration_ms": number(), "errors": integer(), "pool_size": integer(),
            "pool_checked_out": integer(),
        })),
        "websocket": all_required(json!({
            "active_connections": integer(), "total_connections": integer(), "messages_sent": integer(),
            "messages_received": integer(),
        })),
    }))
}

fn signature_example() -> Value {
    all_required(json!({
        "algorithm": string(),
        "header": string(),
        "format": string(),
        "example": all_required(json!({ "payload": string(), "secret": string(), "signature": string() })),
        "timestamped": object(
            &["header", "timestamp_header", "signed_message", "timestamp", "signature"],
            json!({
                "header": string(),
                "timestamp_header": string(),
                "signed_message": string(),
                "timestamp": integer(),
                "signature": string(),
            }),
        ),
    }))
}

/// A maintenance change's answer: the message and the resource's new state.
fn maintenance(extra: Value) -> Value {
    let mut resource = json!({ "id": integer(), "name": string(), "status": string() });
    if let (Some(resource), Some(extra)) = (resource.as_object_mut(), extra.as_object()) {
        resource.extend(extra.clone());
    }
    all_required(json!({ "message": string(), "resource": all_required(resource) }))
}

fn quota_config() -> Value {
    all_required(json!({
        "tiers": array_of(all_required(json!({
            "tier": schema_of::<Tier>(),
            "rate_limit_per_minute": integer(),
            "daily_quota": nullable(integer()),
        }))),
        "endpoint_limits": array_of(all_required(json!({ "endpoint": string(), "limit_per_minute": integer() }))),
    }))
}

fn my_usage() -> Value {
    all_required(json!({
        "user_id": integer(),
        "username": string(),
        "tier": schema_of::<Tier>(),
        "rate_limit_per_minute": integer(),
        "daily_quota": nullable(integer()),
        "daily_used": integer(),
        "daily_remaining": nullable(integer()),
        "total_requests": integer(),
        "percentage_used": number(),
    }))
}

fn quota_alert() -> Value {
    all_required(json!({
        "user_id": integer(),
        "username": string(),
        "tier": schema_of::<Tier>(),
        "daily_quota": nullable(integer()),
        "daily_used": integer(),
        "percentage_used": number(),
    }))
}

fn audit_statistics() -> Value {
    all_required(json!({
        "by_action": map_of(integer()),
        "by_entity_type": map_of(integer()),
        "by_success": all_required(json!({ "success": integer(), "failed": integer() })),
        "most_active_users": array_of(all_required(json!({ "username": string(), "action_count": integer() }))),
        "total_entries": integer(),
    }))
}

fn oauth_client() -> Value {
    all_required(json!({
        "id": integer(),
        "client_id": string(),
        "client_name": string(),
        "redirect_uris": array_of(string()),
        "grant_types": string(),
        "scope": string(),
        "created_at": date_time(),
    }))
}

fn new_oauth_client() -> Value {
    all_required(json!({
        "client_id": string(),
        "client_secret": string(),
        "client_name": string(),
        "redirect_uris": array_of(string()),
        "grant_types": string(),
        "scope": string(),
        "message": string(),
    }))
}

fn search_availability() -> Value {
    all_required(json!({
        "resource_id": integer(),
        "resource_name": string(),
        "days_ahead": integer(),
        "availability": array_of(object(
            &["start", "end", "available"],
            json!({
                "start": date_time(),
                "end": date_time(),
                "available": boolean(),
                // Busy periods.
                "reservation_id": integer(),
                // Free periods.
                "duration_hours": number(),
            }),
        )),
    }))
}

/// The short rows of an executed saved search (`search::short_resource`, `short_reservation`).
fn saved_search_results() -> Value {
    let resource = all_required(json!({
        "id": integer(),
        "name": string(),
        "available": boolean(),
        "status": string(),
        "tags": array_of(string()),
    }));
    let reservation = all_required(json!({
        "id": integer(),
        "user_id": integer(),
        "resource_id": integer(),
        "start_time": date_time(),
        "end_time": date_time(),
        "status": string(),
    }));
    all_required(json!({
        "saved_search_name": string(),
        "search_type": schema_of::<SearchType>(),
        "results": array_of(json!({ "anyOf": [resource, reservation] })),
        "total": integer(),
        "has_more": boolean(),
    }))
}

fn recurring_answer() -> Value {
    let reservations = array_of(schema_of::<ReservationOut>());
    let skipped = all_required(json!({
        "start_time": date_time(),
        "end_time": date_time(),
        "reason": string(),
    }));
    json!({ "anyOf": [
        reservations.clone(),
        all_required(json!({ "created": reservations, "skipped": array_of(skipped) })),
    ] })
}

fn available_slots() -> Value {
    all_required(json!({
        "date": date(),
        "slots": array_of(schema_of::<TimeSlot>()),
        "business_hours": nullable(schema_of::<BusinessHoursOut>()),
        "is_blackout": boolean(),
        "blackout_reason": nullable(string()),
    }))
}

/// Every described operation.
#[rustfmt::skip] // one entry per route, in the route table's order
pub fn all() -> Vec<Operation> {
    let reservation = schema_of::<ReservationOut>;
    let resource = schema_of::<ResourceOut>;
    let label = schema_of::<LabelOut>;
    let group = schema_of::<GroupOut>;
    let grouped = || array_of(schema_of::<ResourceInGroupOut>());
    let hours = || array_of(schema_of::<BusinessHoursOut>());
    let blackout = schema_of::<BlackoutOut>;
    let webhook = schema_of::<WebhookOut>;
    let waitlist = schema_of::<WaitlistOut>;
    let audit_entries = || array_of(named("AuditEntry"));
    vec![
        // admin
        op(GET, "/api/v1/auth/admin/users", "List users").returns(200, array_of(named("AdminUser"))),
        op(POST, "/api/v1/auth/admin/reset-password", "Reset a user's password").returns(200, message()),
        op(POST, "/api/v1/auth/admin/users/{user_id}/disable", "Disable an account").returns(200, all_required(json!({ "message": string(), "id": integer(), "username": string(), "is_active": boolean() }))),
        op(POST, "/api/v1/auth/admin/users/{user_id}/enable", "Enable an account").returns(200, all_required(json!({ "message": string(), "id": integer(), "username": string(), "is_active": boolean() }))),
        // analytics
        op(GET, "/api/v1/analytics/dashboard", "Dashboard").returns(200, schema_of::<Dashboard>()),
        op(GET, "/api/v1/analytics/utilization", "Utilization").errors(&[404]).returns(200, all_required(json!({ "period": period(true), "utilization": array_of(schema_of::<Utilisation>()) }))),
        op(GET, "/api/v1/analytics/popular-resources", "Popular resources").returns(200, all_required(json!({ "period": period(true), "resources": array_of(schema_of::<Popular>()) }))),
        op(GET, "/api/v1/analytics/peak-times", "Peak times").returns(200, schema_of::<PeakTimes>()),
        op(GET, "/api/v1/analytics/user-patterns", "User patterns").returns(200, all_required(json!({ "period": period(true), "users": array_of(schema_of::<UserPattern>()) }))),
        op(GET, "/api/v1/analytics/heatmap", "Heatmap").errors(&[404]).returns(200, all_required(json!({ "period": period(false), "resources": array_of(schema_of::<Heatmap>()) }))),
        op(GET, "/api/v1/analytics/cancellations", "Cancellations").returns(200, all_required(json!({ "period": period(false), "days": array_of(schema_of::<CreatedDay>()) }))),
        op(GET, "/api/v1/analytics/export/utilization.csv", "Export utilization").text(200, "text/csv"),
        op(GET, "/api/v1/analytics/export/reservations.csv", "Export reservations").text(200, "text/csv"),
        // approvals
        op(GET, "/api/v1/approvals/pending", "Pending").returns(200, all_required(json!({ "count": integer(), "pending_approvals": array_of(named("Approval")) }))),
        op(GET, "/api/v1/approvals/my-requests", "My requests").returns(200, all_required(json!({ "count": integer(), "my_requests": array_of(named("Approval")) }))),
        op(POST, "/api/v1/approvals/reservations", "Request a booking that needs approval").returns(200, object(&["success", "requires_approval", "status", "reservation_id", "message"], json!({ "success": boolean(), "requires_approval": boolean(), "status": one_of_strings(&["pending_approval", "active"]), "reservation_id": integer(), "approval_id": nullable(integer()), "message": string() }))),
        op(GET, "/api/v1/approvals/resources/{resource_id}/settings", "Settings").returns(200, all_required(json!({ "resource_id": integer(), "resource_name": string(), "requires_approval": boolean(), "default_approver_id": nullable(integer()), "default_approver_username": nullable(string()) }))),
        op(PUT, "/api/v1/approvals/resources/{resource_id}/settings", "Set a resource's approval rule").returns(200, success_and(json!({ "resource_id": integer(), "requires_approval": boolean(), "default_approver_id": nullable(integer()) }))),
        op(GET, "/api/v1/approvals/{approval_id}", "Get one").returns(200, named("Approval")),
        op(DELETE, "/api/v1/approvals/{approval_id}", "Withdraw").returns(200, success_and(json!({ "message": string(), "approval_id": integer() }))),
        op(POST, "/api/v1/approvals/{approval_id}/respond", "Approve or reject a request").returns(200, success_and(json!({ "message": string(), "approval_id": integer(), "status": one_of_strings(&["approved", "rejected"]) }))),
        // audit
        op(GET, "/api/v1/audit/logs", "Audit log").returns(200, all_required(json!({ "logs": audit_entries(), "total": integer(), "skip": integer(), "limit": integer() }))),
        op(GET, "/api/v1/audit/logs/{log_id}", "Log").returns(200, named("AuditEntry")),
        op(GET, "/api/v1/audit/entity/{entity_type}/{entity_id}", "An object's audit trail").path_param("entity_type", string()).returns(200, audit_entries()),
        op(GET, "/api/v1/audit/user/{user_id}/activity", "A user's activity").returns(200, audit_entries()),
        op(GET, "/api/v1/audit/my-activity", "My activity").returns(200, audit_entries()),
        op(GET, "/api/v1/audit/statistics", "Audit statistics").returns(200, audit_statistics()),
        op(GET, "/api/v1/audit/export/csv", "Export the audit log as CSV").text(200, "text/csv"),
        op(GET, "/api/v1/audit/export/json", "Export the audit log as JSON").returns(200, all_required(json!({ "total": integer(), "exported_at": date_time(), "logs": audit_entries() }))),
        op(GET, "/api/v1/audit/filters", "Filters").returns(200, all_required(json!({ "actions": array_of(string()), "entity_types": array_of(string()) }))),
        op(POST, "/api/v1/audit/retention", "Delete audit entries older than the retention").returns(200, all_required(json!({ "deleted_count": integer(), "retention_days": integer(), "message": string() }))),
        // auth
        op(POST, "/api/v1/register", "Create an account").returns(201, all_required(json!({ "id": integer(), "username": string() }))),
        op(POST, "/api/v1/token", "Sign in with a password (OAuth2 password form)").returns(200, named("Token")).errors(&[401]),
        op(POST, "/api/v1/token/refresh", "Exchange a refresh token for new tokens").returns(200, named("Token")).errors(&[401]),
        op(POST, "/api/v1/logout", "Sign out everywhere (revokes the refresh tokens)").returns(200, object(&["message"], json!({ "message": string(), "revoked_tokens": integer() }))),
        // board
        op(GET, "/api/v1/board", "The live board of resources").returns(200, schema_of::<Board>()),
        // bulk
        op(POST, "/api/v1/bulk/reservations", "Book many slots, all or nothing").returns(200, bulk_outcome()),
        op(POST, "/api/v1/bulk/reservations/validate", "Check a batch without booking it").returns(200, all_required(json!({ "valid": boolean(), "total": integer(), "would_create": integer(), "errors": array_of(named("BulkItemError")) }))),
        op(POST, "/api/v1/bulk/reservations/import", "Book a batch from CSV").multipart_body(csv_file()).returns(200, bulk_outcome()),
        op(POST, "/api/v1/bulk/reservations/cancel", "Cancel many reservations").returns(200, all_required(json!({ "total": integer(), "success": integer(), "failed": integer(), "cancelled": array_of(all_required(json!({ "reservation_id": integer(), "resource_id": integer() }))), "errors": array_of(all_required(json!({ "reservation_id": integer(), "error": string() }))) }))),
        op(GET, "/api/v1/bulk/reservations/export", "Export reservations as CSV").text(200, "text/csv"),
        // calendar
        op(GET, "/api/v1/calendar/feed/{token}.ics", "The calendar feed of a feed token").path_param("token", string()).text(200, "text/calendar"),
        op(GET, "/api/v1/calendar/subscription-url", "Subscription url").returns(200, all_required(json!({ "url": string(), "token": string() }))),
        op(POST, "/api/v1/calendar/regenerate-token", "A new calendar feed token").returns(200, all_required(json!({ "token": string(), "url": string() }))),
        op(GET, "/api/v1/calendar/export/{reservation_id}.ics", "Export").text(200, "text/calendar"),
        op(GET, "/api/v1/calendar/my-feed", "My calendar feed").text(200, "text/calendar"),
        // groups
        op(POST, "/api/v1/resource-groups", "Create a resource group").returns(201, group()),
        op(GET, "/api/v1/resource-groups", "List resource groups").returns(200, array_of(group())),
        op(GET, "/api/v1/resource-groups/tree", "Tree").returns(200, all_required(json!({ "groups": array_of(named("GroupNode")), "total_groups": integer(), "total_resources": integer() }))),
        op(GET, "/api/v1/resource-groups/buildings", "Buildings").returns(200, all_required(json!({ "buildings": array_of(string()) }))),
        op(GET, "/api/v1/resource-groups/ungrouped", "Ungrouped").returns(200, grouped()),
        op(POST, "/api/v1/resource-groups/resources/set-parent", "Set a resource's parent resource").returns(200, message()),
        op(GET, "/api/v1/resource-groups/resources/{resource_id}/children", "Children").returns(200, grouped()),
        op(GET, "/api/v1/resource-groups/{group_id}", "Get one").returns(200, named("GroupNode")),
        op(PATCH, "/api/v1/resource-groups/{group_id}", "Change a resource group").returns(200, group()),
        op(DELETE, "/api/v1/resource-groups/{group_id}", "Delete a resource group").no_content(),
        op(GET, "/api/v1/resource-groups/{group_id}/resources", "A group's resources").returns(200, grouped()),
        op(POST, "/api/v1/resource-groups/{group_id}/resources", "Put a resource in a group").returns(200, message()),
        op(DELETE, "/api/v1/resource-groups/{group_id}/resources/{resource_id}", "Unassign").returns(200, message()),
        // health
        op(GET, "/health", "Overall health (always 200; read `status`)").returns(200, object(&["status", "timestamp", "version", "database"], json!({ "status": { "type": "string", "enum": ["healthy", "unhealthy"] }, "timestamp": date_time(), "version": string(), "database": string(), "database_backend": string(), "api": string(), "cache": string(), "resources_count": integer(), "rate_limiting": object(&["enabled"], json!({ "enabled": boolean() })) }))),
        op(GET, "/ready", "Readiness (503 while the database does not answer, and while the server drains before it stops)").returns(200, object(&["ready", "components"], json!({ "ready": boolean(), "draining": boolean(), "components": all_required(json!({ "database": all_required(json!({ "status": string() })), "cache": all_required(json!({ "status": string(), "enabled": boolean() })), "websocket": all_required(json!({ "status": string(), "active_connections": integer() })) })), "timestamp": date_time() }))),
        op(GET, "/live", "Liveness").returns(200, object(&["alive", "uptime_seconds"], json!({ "alive": boolean(), "timestamp": date_time(), "uptime_seconds": number() }))),
        op(GET, "/metrics", "Prometheus metrics").text(200, "text/plain"),
        op(GET, "/api/versions", "API versions").returns(200, object(&["current_version", "versions"], json!({ "current_version": string(), "versions": map_of(all_required(json!({ "status": string(), "deprecated": boolean(), "sunset_date": nullable(string()), "message": nullable(string()) }))), "deprecated_endpoints": array_of(all_required(json!({ "method": string(), "path": string(), "deprecated_since": string(), "sunset_date": string(), "alternative": string() }))) }))),
        // holds
        op(POST, "/api/v1/holds", "Hold a slot for a few minutes").returns(201, named("Hold")),
        op(GET, "/api/v1/holds", "Mine").returns(200, array_of(named("Hold"))),
        op(POST, "/api/v1/holds/{hold_id}/confirm", "Confirm a hold into a booking").errors(&[410]).returns(201, reservation()),
        op(DELETE, "/api/v1/holds/{hold_id}", "Release").returns(200, object(&["message", "hold_id"], json!({ "message": string(), "hold_id": integer() }))),
        // hours
        op(GET, "/api/v1/resources/{resource_id}/business-hours", "Resource hours").returns(200, hours()),
        op(PUT, "/api/v1/resources/{resource_id}/business-hours", "Set a resource's opening hours").returns(200, hours()),
        op(GET, "/api/v1/business-hours/global", "Global hours").returns(200, hours()),
        op(PUT, "/api/v1/business-hours/global", "Set the global opening hours").returns(200, hours()),
        op(GET, "/api/v1/resources/{resource_id}/available-slots", "Free slots on a day").returns(200, available_slots()),
        op(GET, "/api/v1/resources/{resource_id}/next-available", "The next free slot").returns(200, nullable(schema_of::<TimeSlot>())),
        op(GET, "/api/v1/resources/{resource_id}/blackout-dates", "A resource's blackout dates").returns(200, array_of(blackout())),
        op(POST, "/api/v1/resources/{resource_id}/blackout-dates", "Add a blackout date to a resource").returns(201, blackout()),
        op(GET, "/api/v1/blackout-dates", "Global blackouts").returns(200, array_of(blackout())),
        op(POST, "/api/v1/blackout-dates", "Add a global blackout date").returns(201, blackout()),
        op(DELETE, "/api/v1/blackout-dates/{blackout_id}", "Delete blackout").no_content(),
        // labels
        op(GET, "/api/v1/labels", "List labels").returns(200, page_of(label())),
        op(POST, "/api/v1/labels", "Create a label").returns(201, label()),
        op(GET, "/api/v1/labels/categories", "Categories").returns(200, array_of(all_required(json!({ "category": string(), "label_count": integer() })))),
        op(POST, "/api/v1/labels/merge", "Merge labels into one").returns(200, label()),
        op(GET, "/api/v1/labels/resources/{resource_id}", "Of resource").returns(200, array_of(label())),
        op(PUT, "/api/v1/labels/resources/{resource_id}", "Replace a resource's labels").returns(200, array_of(label())),
        op(GET, "/api/v1/labels/{label_id}", "Get one").returns(200, label()),
        op(PUT, "/api/v1/labels/{label_id}", "Change a label").returns(200, label()),
        op(DELETE, "/api/v1/labels/{label_id}", "Delete").returns(200, message()),
        // metrics
        op(GET, "/api/v1/metrics/summary", "Summary").returns(200, metrics_summary()),
        // mfa
        op(POST, "/api/v1/auth/mfa/setup", "Start setting up MFA (TOTP)").returns(200, all_required(json!({ "secret": string(), "qr_code": string(), "backup_codes": array_of(string()), "totp_uri": string() }))),
        op(POST, "/api/v1/auth/mfa/verify", "Confirm MFA with a code").returns(200, message()),
        op(POST, "/api/v1/auth/mfa/disable", "Turn MFA off").returns(200, message()),
        op(POST, "/api/v1/auth/mfa/backup-codes", "New backup codes").returns(200, all_required(json!({ "backup_codes": array_of(string()), "message": string() }))),
        // notifications
        op(GET, "/api/v1/notifications", "My notifications").returns(200, with(page_of(schema_of::<NotificationOut>()), json!({ "unread_count": integer() }))),
        op(POST, "/api/v1/notifications/mark-all-read", "Mark all notifications read").returns(200, object(&["message", "updated"], json!({ "message": string(), "updated": integer() }))),
        op(POST, "/api/v1/notifications/{notification_id}/read", "Mark a notification read").returns(200, schema_of::<NotificationOut>()),
        // oauth
        op(POST, "/api/v1/oauth/clients", "Register an OAuth2 client").returns(200, new_oauth_client()),
        op(GET, "/api/v1/oauth/clients", "List clients").returns(200, array_of(oauth_client())),
        op(DELETE, "/api/v1/oauth/clients/{client_id}", "Delete client").path_param("client_id", string()).returns(200, message()),
        op(GET, "/api/v1/oauth/authorize", "Authorise an OAuth2 client (authorization code with PKCE)").errors(&[404]).returns(200, object(&["redirect_uri", "code"], json!({ "redirect_uri": string(), "code": string(), "state": nullable(string()) }))),
        op(POST, "/api/v1/oauth/token", "Exchange an authorization code (or a refresh token) for tokens").returns(200, object(&["access_token", "token_type"], json!({ "access_token": string(), "token_type": string(), "expires_in": integer(), "refresh_token": string(), "scope": string() }))).errors(&[401]),
        op(POST, "/api/v1/oauth/revoke", "Revoke a token").returns(200, message()).errors(&[401]),
        op(POST, "/api/v1/oauth/introspect", "Introspect a token").returns(200, object(&["active", "client_id", "username", "scope", "exp", "iat"], json!({ "active": boolean(), "client_id": nullable(string()), "username": nullable(string()), "sub": string(), "scope": nullable(string()), "exp": nullable(integer()), "iat": nullable(integer()), "token_type": constant("Bearer") }))).errors(&[401]),
        op(GET, "/api/v1/oauth/protected", "Check a delegated token (an example protected resource)").returns(200, all_required(json!({ "message": string(), "client_id": nullable(string()), "scope": string() }))).errors(&[401]),
        // quotas
        op(GET, "/api/v1/quotas/config", "Config").returns(200, quota_config()),
        op(GET, "/api/v1/quotas/summary", "Summary").returns(200, all_required(json!({ "tier_limits": map_of(integer()), "daily_quotas": map_of(nullable(integer())), "endpoint_limits": map_of(integer()) }))),
        op(GET, "/api/v1/quotas/my-usage", "My usage").returns(200, my_usage()),
        op(GET, "/api/v1/quotas/users", "Users and their quotas").returns(200, array_of(named("UserQuota"))),
        op(GET, "/api/v1/quotas/users/{user_id}", "Get user").returns(200, named("UserQuota")),
        op(PATCH, "/api/v1/quotas/users/{user_id}", "Change a user's quota").returns(200, named("UserQuota")),
        op(GET, "/api/v1/quotas/stats", "Usage stats").returns(200, schema_of::<Stats>()),
        op(GET, "/api/v1/quotas/alerts", "Users near their quota").returns(200, array_of(quota_alert())),
        op(POST, "/api/v1/quotas/reset-daily", "Reset the daily counts").returns(200, all_required(json!({ "message": string(), "reset_count": integer(), "timestamp": date_time() }))),
        // reservations
        op(POST, "/api/v1/reservations", "Book a slot").returns(201, reservation()),
        op(GET, "/api/v1/reservations/my", "My reservations").returns(200, page_or_list(reservation())),
        op(GET, "/api/v1/reservations/{reservation_id}", "One reservation").returns(200, reservation()),
        op(PATCH, "/api/v1/reservations/{reservation_id}", "Move a reservation to another slot").returns(200, reservation()),
        op(POST, "/api/v1/reservations/{reservation_id}/cancel", "Cancel a reservation (or its series)").returns(200, object(&["message", "reservation_id", "cancelled_at"], json!({ "message": string(), "reservation_id": integer(), "cancelled_at": date_time(), "cancelled_reservation_ids": array_of(integer()) }))),
        op(GET, "/api/v1/reservations/{reservation_id}/history", "The changes of a reservation").returns(200, array_of(all_required(json!({ "id": integer(), "action": string(), "timestamp": date_time(), "user_id": nullable(integer()), "reservation_id": integer(), "details": nullable(string()) })))),
        op(POST, "/api/v1/reservations/{reservation_id}/check-in", "Check in to a booking").errors(&[410]).returns(200, object(&["message", "reservation_id", "checked_in_at"], json!({ "message": string(), "reservation_id": integer(), "checked_in_at": date_time() }))),
        op(POST, "/api/v1/admin/cleanup-expired", "Mark ended reservations expired").returns(200, object(&["message", "expired_count"], json!({ "message": string(), "expired_count": integer(), "timestamp": date_time() }))),
        // resources
        op(GET, "/api/v1/resources", "List resources").returns(200, page_or_list(resource())),
        op(POST, "/api/v1/resources", "Create a resource").returns(201, resource()),
        op(GET, "/api/v1/resources/search", "Search resources").returns(200, page_or_list(resource())),
        op(POST, "/api/v1/resources/upload", "Import resources from CSV").multipart_body(csv_file()).returns(200, resource_import()),
        op(GET, "/api/v1/resources/availability/summary", "Summary").returns(200, all_required(json!({ "total_resources": integer(), "available_now": integer(), "unavailable_now": integer(), "currently_in_use": integer(), "timestamp": date_time() }))),
        op(GET, "/api/v1/resources/tags", "Every tag in use").returns(200, array_of(string())),
        op(GET, "/api/v1/resources/tags/details", "Tag details").returns(200, array_of(all_required(json!({ "name": string(), "resource_count": integer() })))),
        op(PUT, "/api/v1/resources/tags/rename", "Rename a tag everywhere").returns(200, all_required(json!({ "message": string(), "old_name": string(), "new_name": string(), "updated_resources": integer() }))),
        op(DELETE, "/api/v1/resources/tags/{tag_name}", "Delete tag").path_param("tag_name", string()).returns(200, all_required(json!({ "message": string(), "deleted_tag": string(), "updated_resources": integer() }))),
        op(GET, "/api/v1/resources/{resource_id}", "One resource").returns(200, resource()),
        op(PUT, "/api/v1/resources/{resource_id}", "Change a resource").returns(200, resource()),
        op(DELETE, "/api/v1/resources/{resource_id}", "Delete a resource").returns(200, object(&["message", "resource_id"], json!({ "message": string(), "resource_id": integer(), "cancelled_reservations": array_of(integer()) }))),
        op(GET, "/api/v1/resources/{resource_id}/availability", "A resource's schedule").returns(200, schedule()),
        op(GET, "/api/v1/resources/{resource_id}/schedule", "A resource's schedule").returns(200, schedule()),
        op(GET, "/api/v1/resources/{resource_id}/status", "A resource's live status").returns(200, resource_status()),
        op(PUT, "/api/v1/resources/{resource_id}/status/unavailable", "Put a resource under maintenance").returns(200, maintenance(json!({ "auto_reset_hours": integer(), "unavailable_since": nullable(date_time()) }))),
        op(PUT, "/api/v1/resources/{resource_id}/status/available", "End maintenance").returns(200, maintenance(json!({}))),
        op(PUT, "/api/v1/resources/{resource_id}/availability", "Enable or disable a resource").returns(200, all_required(json!({ "message": string(), "resource": resource() }))),
        // roles
        op(GET, "/api/v1/roles", "List").returns(200, array_of(named("Role"))),
        op(POST, "/api/v1/roles", "Create a role").returns(200, named("Role")),
        op(POST, "/api/v1/roles/assign", "Give a user a role").returns(200, message()),
        op(DELETE, "/api/v1/roles/assign", "Take a role from a user").returns(200, message()),
        op(GET, "/api/v1/roles/my-roles", "Mine").returns(200, array_of(named("Role"))),
        // search
        op(GET, "/api/v1/search/resources", "Search resources").returns(200, search_results(schema_of::<ResourceHit>())),
        op(GET, "/api/v1/search/reservations", "Search reservations").returns(200, search_results(schema_of::<ReservationHit>())),
        op(GET, "/api/v1/search/suggestions", "Search suggestions").returns(200, all_required(json!({ "resources": array_of(string()), "tags": array_of(string()) }))),
        op(GET, "/api/v1/search/tags/popular", "Popular tags").returns(200, all_required(json!({ "tags": array_of(all_required(json!({ "tag": string(), "count": integer() }))) }))),
        op(GET, "/api/v1/search/resources/{resource_id}/availability", "A resource's availability").returns(200, search_availability()),
        op(GET, "/api/v1/search/saved", "My saved searches").returns(200, all_required(json!({ "count": integer(), "saved_searches": array_of(schema_of::<SavedSearch>()) }))),
        op(POST, "/api/v1/search/saved", "Save a search").returns(200, success_and(json!({ "id": integer(), "name": string(), "search_type": schema_of::<SearchType>() }))),
        op(DELETE, "/api/v1/search/saved/{search_id}", "Delete saved").returns(200, success_and(json!({ "message": string() }))),
        op(POST, "/api/v1/search/saved/{search_id}/execute", "Run a saved search").returns(200, saved_search_results()),
        // series
        op(POST, "/api/v1/reservations/recurring", "Book a recurring series").returns(201, recurring_answer()),
        // setup
        op(GET, "/api/v1/setup/status", "Whether first-run setup is done").returns(200, object(&["setup_complete", "user_count"], json!({ "setup_complete": boolean(), "setup_reopened": boolean(), "user_count": integer() }))),
        op(POST, "/api/v1/setup/initialize", "First-run setup: create or promote the administrator").errors(&[403]).returns(200, all_required(json!({ "message": string(), "admin_user_id": integer(), "admin_username": string() }))),
        op(POST, "/api/v1/setup/unlock", "Reopen first-run setup (with the reopen token)").errors(&[403]).returns(200, message()),
        // users
        op(GET, "/api/v1/users/me", "The caller's account").returns(200, with(named("UserDetails"), json!({ "is_admin": boolean() }))),
        op(PATCH, "/api/v1/users/me/preferences", "Change notification preferences").returns(200, named("UserDetails")),
        op(PUT, "/api/v1/users/me/email", "Set the e-mail address (sends a code)").errors(&[501]).returns(200, with(named("UserDetails"), json!({ "message": string() }))),
        op(POST, "/api/v1/users/me/email/verify", "Confirm the e-mail address with the code").errors(&[501]).returns(200, named("UserDetails")),
        // waitlist
        op(POST, "/api/v1/waitlist", "Join a resource's waiting list").returns(201, waitlist()),
        op(GET, "/api/v1/waitlist", "My waiting-list entries").returns(200, page_or_list(waitlist())),
        op(GET, "/api/v1/waitlist/resource/{resource_id}", "A resource's queue").returns(200, array_of(waitlist())),
        op(GET, "/api/v1/waitlist/{waitlist_id}", "One waiting-list entry").returns(200, waitlist()),
        op(DELETE, "/api/v1/waitlist/{waitlist_id}", "Leave the waiting list").returns(200, all_required(json!({ "message": string(), "waitlist_id": integer(), "status": constant("cancelled") }))),
        op(POST, "/api/v1/waitlist/{waitlist_id}/accept", "Accept an offered slot").errors(&[410]).returns(201, reservation()),
        // webhooks
        op(GET, "/api/v1/webhooks/events", "Events").returns(200, array_of(all_required(json!({ "type": string(), "description": string() })))),
        op(GET, "/api/v1/webhooks/signature-example", "Signature example").returns(200, signature_example()),
        op(POST, "/api/v1/webhooks", "Create a webhook").returns(201, webhook()),
        op(GET, "/api/v1/webhooks", "List webhooks").returns(200, array_of(webhook())),
        op(GET, "/api/v1/webhooks/{webhook_id}", "Get one").returns(200, webhook()),
        op(PATCH, "/api/v1/webhooks/{webhook_id}", "Change a webhook").returns(200, webhook()),
        op(DELETE, "/api/v1/webhooks/{webhook_id}", "Delete").no_content(),
        op(POST, "/api/v1/webhooks/{webhook_id}/regenerate-secret", "A new signing secret").returns(200, webhook()),
        op(GET, "/api/v1/webhooks/{webhook_id}/deliveries", "A webhook's deliveries").returns(200, array_of(schema_of::<DeliveryOut>())),
        op(POST, "/api/v1/webhooks/{webhook_id}/test", "Send a test event").returns(200, success_and(json!({ "message": string(), "delivery_id": integer() }))),
        op(GET, "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}", "Delivery").returns(200, schema_of::<DeliveryDetail>()),
        op(POST, "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", "Send a delivery again").returns(200, success_and(json!({ "message": string(), "status": string() }))),
        // ws
        op(GET, "/ws", "Connect").switching_protocols(),
    ]
}
