//! What the route table does not know about each operation: its summary, query parameters,
//! request body and success answer, keyed by method and canonical path (aliases share their
//! canonical path's entry). A route of the table without an entry here is missing from the
//! document, and the coverage test (`tests/api/openapi.rs`) fails.
//!
//! Entries are written as data, one per route in the route table's order, so that adding a
//! route means adding a line here next to its neighbours.

use actix_web::http::Method;
use serde_json::{Value, json};

use super::schemas::{any_object, array_of, boolean, date_time, integer, named, nullable, object, page_of, string};

/// The catalogue's description of one operation.
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    pub path: &'static str,
    pub summary: &'static str,
    /// Schemas of path parameters that are not integer ids.
    pub path_params: Vec<(&'static str, Value)>,
    /// Query parameters: name, schema, required.
    pub query: Vec<(&'static str, Value, bool)>,
    /// The OpenAPI request body object.
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
        query: Vec::new(),
        body: None,
        responses: Vec::new(),
        errors,
    }
}

/// Any JSON value (an answer this document does not detail yet).
fn any_json() -> Value {
    json!({})
}

impl Operation {
    fn body(mut self, media_type: &str, schema: Value) -> Self {
        self.body = Some(json!({ "required": true, "content": { media_type: { "schema": schema } } }));
        self
    }

    fn json_body(self, schema: Value) -> Self {
        self.body("application/json", schema)
    }

    fn form_body(self, schema: Value) -> Self {
        self.body("application/x-www-form-urlencoded", schema)
    }

    fn multipart_body(self, schema: Value) -> Self {
        self.body("multipart/form-data", schema)
    }

    fn query(mut self, name: &'static str, schema: Value) -> Self {
        self.query.push((name, schema, false));
        self
    }

    fn required_query(mut self, name: &'static str, schema: Value) -> Self {
        self.query.push((name, schema, true));
        self
    }

    /// The keyset-pagination parameters of `/api/v1` lists (`crate::pagination`).
    fn paged(self) -> Self {
        self.query("cursor", string())
            .query(
                "limit",
                json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 20 }),
            )
            .query("sort_by", string())
            .query("sort_order", json!({ "type": "string", "enum": ["asc", "desc"] }))
            .query("include_total", boolean())
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

fn new_reservation() -> Value {
    object(
        &["resource_id", "start_time", "end_time"],
        json!({
            "resource_id": integer(),
            "start_time": date_time(),
            "end_time": date_time(),
        }),
    )
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

fn blackout_input() -> Value {
    object(
        &["date"],
        json!({ "date": { "type": "string", "format": "date" }, "reason": nullable(string()) }),
    )
}

fn hours_input() -> Value {
    object(
        &["hours"],
        json!({
            "hours": array_of(object(&["day_of_week", "open_time", "close_time"], json!({
                "day_of_week": { "type": "integer", "minimum": 0, "maximum": 6 },
                "open_time": { "type": "string", "examples": ["09:00"] },
                "close_time": { "type": "string", "examples": ["17:00"] },
                "is_closed": boolean(),
            }))),
        }),
    )
}

fn token_query() -> Value {
    object(
        &["token", "client_id", "client_secret"],
        json!({
            "token": string(),
            "client_id": string(),
            "client_secret": string(),
        }),
    )
}

fn new_resource() -> Value {
    object(
        &["name"],
        json!({
            "name": json!({ "type": "string", "minLength": 1, "maxLength": 200 }),
            "description": nullable(string()),
            "tags": array_of(string()),
            "available": boolean(),
            "timezone": nullable(string()),
            "checkin_window_minutes": nullable(integer()),
        }),
    )
}

/// Every described operation.
#[rustfmt::skip] // one entry per route, in the route table's order
pub fn all() -> Vec<Operation> {
    vec![
        // admin
        op(GET, "/api/v1/auth/admin/users", "List users").query("skip", integer()).query("limit", integer()).returns(200, any_json()),
        op(POST, "/api/v1/auth/admin/reset-password", "Reset a user's password").json_body(object(&["username", "new_password"], json!({ "username": string(), "new_password": string() }))).returns(200, any_json()),
        op(POST, "/api/v1/auth/admin/users/{user_id}/disable", "Disable an account").returns(200, any_json()),
        op(POST, "/api/v1/auth/admin/users/{user_id}/enable", "Enable an account").returns(200, any_json()),
        // analytics
        op(GET, "/api/v1/analytics/dashboard", "Dashboard").query("days", integer()).returns(200, any_json()),
        op(GET, "/api/v1/analytics/utilization", "Utilization").errors(&[404]).query("days", integer()).query("resource_id", integer()).returns(200, any_json()),
        op(GET, "/api/v1/analytics/popular-resources", "Popular resources").query("days", integer()).query("limit", integer()).returns(200, any_json()),
        op(GET, "/api/v1/analytics/peak-times", "Peak times").query("days", integer()).returns(200, any_json()),
        op(GET, "/api/v1/analytics/user-patterns", "User patterns").query("days", integer()).query("limit", integer()).query("user_id", integer()).returns(200, any_json()),
        op(GET, "/api/v1/analytics/heatmap", "Heatmap").query("days", integer()).returns(200, any_json()),
        op(GET, "/api/v1/analytics/cancellations", "Cancellations").query("days", integer()).returns(200, any_json()),
        op(GET, "/api/v1/analytics/export/utilization.csv", "Export utilization").query("days", integer()).text(200, "text/csv"),
        op(GET, "/api/v1/analytics/export/reservations.csv", "Export reservations").query("days", integer()).text(200, "text/csv"),
        // approvals
        op(GET, "/api/v1/approvals/pending", "Pending").returns(200, object(&["count", "pending_approvals"], json!({ "count": integer(), "pending_approvals": array_of(any_object()) }))),
        op(GET, "/api/v1/approvals/my-requests", "My requests").returns(200, object(&["count", "my_requests"], json!({ "count": integer(), "my_requests": array_of(any_object()) }))),
        op(POST, "/api/v1/approvals/reservations", "Request a booking that needs approval").json_body(object(&["resource_id", "start_time", "end_time"], json!({ "resource_id": integer(), "start_time": date_time(), "end_time": date_time(), "request_message": nullable(string()) }))).returns(200, any_json()),
        op(GET, "/api/v1/approvals/resources/{resource_id}/settings", "Settings").returns(200, any_json()),
        op(PUT, "/api/v1/approvals/resources/{resource_id}/settings", "Set a resource's approval rule").json_body(object(&["requires_approval"], json!({ "requires_approval": boolean(), "default_approver_id": nullable(integer()) }))).returns(200, any_json()),
        op(GET, "/api/v1/approvals/{approval_id}", "Get one").returns(200, any_json()),
        op(DELETE, "/api/v1/approvals/{approval_id}", "Withdraw").returns(200, object(&["success", "message", "approval_id"], json!({ "success": boolean(), "message": string(), "approval_id": integer() }))),
        op(POST, "/api/v1/approvals/{approval_id}/respond", "Approve or reject a request").json_body(object(&["action"], json!({ "action": json!({ "type": "string", "enum": ["approve", "reject"] }), "response_message": nullable(string()) }))).returns(200, any_json()),
        // audit
        op(GET, "/api/v1/audit/logs", "Audit log").query("user_id", integer()).query("action", string()).query("entity_type", string()).query("entity_id", integer()).query("start_date", string()).query("end_date", string()).query("success", boolean()).query("ip_address", string()).query("search", string()).query("skip", integer()).query("limit", integer()).returns(200, any_json()),
        op(GET, "/api/v1/audit/logs/{log_id}", "Log").returns(200, any_json()),
        op(GET, "/api/v1/audit/entity/{entity_type}/{entity_id}", "An object's audit trail").query("limit", integer()).path_param("entity_type", string()).returns(200, any_json()),
        op(GET, "/api/v1/audit/user/{user_id}/activity", "A user's activity").query("days", integer()).query("limit", integer()).returns(200, any_json()),
        op(GET, "/api/v1/audit/my-activity", "My activity").query("days", integer()).query("limit", integer()).returns(200, any_json()),
        op(GET, "/api/v1/audit/statistics", "Audit statistics").query("user_id", integer()).query("action", string()).query("entity_type", string()).query("entity_id", integer()).query("start_date", string()).query("end_date", string()).query("success", boolean()).query("ip_address", string()).query("search", string()).returns(200, any_json()),
        op(GET, "/api/v1/audit/export/csv", "Export the audit log as CSV").query("user_id", integer()).query("action", string()).query("entity_type", string()).query("entity_id", integer()).query("start_date", string()).query("end_date", string()).query("success", boolean()).query("ip_address", string()).query("search", string()).text(200, "text/csv"),
        op(GET, "/api/v1/audit/export/json", "Export the audit log as JSON").query("user_id", integer()).query("action", string()).query("entity_type", string()).query("entity_id", integer()).query("start_date", string()).query("end_date", string()).query("success", boolean()).query("ip_address", string()).query("search", string()).returns(200, any_json()),
        op(GET, "/api/v1/audit/filters", "Filters").returns(200, any_json()),
        op(POST, "/api/v1/audit/retention", "Delete audit entries older than the retention").json_body(json!({ "type": "object", "properties": { "retention_days": integer() } })).returns(200, any_json()),
        // auth
        op(POST, "/api/v1/register", "Create an account").json_body(object(&["username", "password"], json!({ "username": string(), "password": string() }))).returns(201, any_object()),
        op(POST, "/api/v1/token", "Sign in with a password (OAuth2 password form)").form_body(object(&["username", "password"], json!({ "username": string(), "password": string(), "grant_type": { "type": "string", "enum": ["password"] }, "mfa_code": string() }))).returns(200, named("Token")).errors(&[401]),
        op(POST, "/api/v1/token/refresh", "Exchange a refresh token for new tokens").query("refresh_token", string()).returns(200, named("Token")).errors(&[401]),
        op(POST, "/api/v1/logout", "Sign out everywhere (revokes the refresh tokens)").returns(200, object(&["message"], json!({ "message": string(), "revoked_tokens": integer() }))),
        // board
        op(GET, "/api/v1/board", "Show").returns(200, any_json()),
        // bulk
        op(POST, "/api/v1/bulk/reservations", "Book many slots, all or nothing").json_body(object(&["reservations"], json!({ "reservations": array_of(object(&["resource_id", "start_time", "end_time"], json!({ "resource_id": integer(), "start_time": date_time(), "end_time": date_time() }))), "dry_run": boolean() }))).returns(200, any_json()),
        op(POST, "/api/v1/bulk/reservations/validate", "Check a batch without booking it").json_body(object(&["reservations"], json!({ "reservations": array_of(object(&["resource_id", "start_time", "end_time"], json!({ "resource_id": integer(), "start_time": date_time(), "end_time": date_time() }))), "dry_run": boolean() }))).returns(200, any_json()),
        op(POST, "/api/v1/bulk/reservations/import", "Book a batch from CSV").query("dry_run", boolean()).multipart_body(csv_file()).returns(200, any_json()),
        op(POST, "/api/v1/bulk/reservations/cancel", "Cancel many reservations").json_body(object(&["reservation_ids"], json!({ "reservation_ids": array_of(integer()), "reason": nullable(string()) }))).returns(200, any_json()),
        op(GET, "/api/v1/bulk/reservations/export", "Export reservations as CSV").query("user_id", integer()).query("resource_id", integer()).query("start_from", date_time()).query("start_until", date_time()).query("status", string()).text(200, "text/csv"),
        // calendar
        op(GET, "/api/v1/calendar/feed/{token}.ics", "The calendar feed of a feed token").query("days_back", integer()).query("days_ahead", integer()).path_param("token", string()).text(200, "text/calendar"),
        op(GET, "/api/v1/calendar/subscription-url", "Subscription url").returns(200, any_json()),
        op(POST, "/api/v1/calendar/regenerate-token", "A new calendar feed token").returns(200, any_json()),
        op(GET, "/api/v1/calendar/export/{reservation_id}.ics", "Export").text(200, "text/calendar"),
        op(GET, "/api/v1/calendar/my-feed", "My calendar feed").query("days_back", integer()).query("days_ahead", integer()).text(200, "text/calendar"),
        // groups
        op(POST, "/api/v1/resource-groups", "Create a resource group").json_body(object(&["name"], json!({ "name": string(), "description": nullable(string()), "parent_id": nullable(integer()), "building": nullable(string()), "floor": nullable(string()), "room": nullable(string()) }))).returns(201, any_object()),
        op(GET, "/api/v1/resource-groups", "List resource groups").query("parent_id", integer()).query("building", string()).query("include_children", boolean()).returns(200, any_json()),
        op(GET, "/api/v1/resource-groups/tree", "Tree").returns(200, any_json()),
        op(GET, "/api/v1/resource-groups/buildings", "Buildings").returns(200, object(&["buildings"], json!({ "buildings": array_of(any_json()) }))),
        op(GET, "/api/v1/resource-groups/ungrouped", "Ungrouped").returns(200, any_json()),
        op(POST, "/api/v1/resource-groups/resources/set-parent", "Set a resource's parent resource").json_body(object(&["resource_id"], json!({ "resource_id": integer(), "parent_id": nullable(integer()) }))).returns(200, message()),
        op(GET, "/api/v1/resource-groups/resources/{resource_id}/children", "Children").returns(200, any_json()),
        op(GET, "/api/v1/resource-groups/{group_id}", "Get one").returns(200, any_json()),
        op(PATCH, "/api/v1/resource-groups/{group_id}", "Change a resource group").json_body(json!({ "type": "object", "properties": { "name": string(), "description": nullable(string()), "parent_id": nullable(integer()), "building": nullable(string()), "floor": nullable(string()), "room": nullable(string()) } })).returns(200, any_json()),
        op(DELETE, "/api/v1/resource-groups/{group_id}", "Delete a resource group").query("cascade", boolean()).no_content(),
        op(GET, "/api/v1/resource-groups/{group_id}/resources", "A group's resources").query("include_children", boolean()).returns(200, any_json()),
        op(POST, "/api/v1/resource-groups/{group_id}/resources", "Put a resource in a group").json_body(object(&["resource_id"], json!({ "resource_id": integer(), "group_id": nullable(integer()) }))).returns(200, message()),
        op(DELETE, "/api/v1/resource-groups/{group_id}/resources/{resource_id}", "Unassign").returns(200, message()),
        // health
        op(GET, "/health", "Overall health (always 200; read `status`)").returns(200, object(&["status", "timestamp", "version", "database"], json!({ "status": { "type": "string", "enum": ["healthy", "unhealthy"] }, "timestamp": date_time(), "version": string(), "database": string(), "database_backend": string(), "api": string(), "cache": string(), "resources_count": integer(), "rate_limiting": object(&["enabled"], json!({ "enabled": boolean() })) }))),
        op(GET, "/ready", "Readiness (503 while the database does not answer, and while the server drains before it stops)").returns(200, object(&["ready", "components"], json!({ "ready": boolean(), "draining": boolean(), "components": any_object(), "timestamp": date_time() }))),
        op(GET, "/live", "Liveness").returns(200, object(&["alive", "uptime_seconds"], json!({ "alive": boolean(), "timestamp": date_time(), "uptime_seconds": { "type": "number" } }))),
        op(GET, "/metrics", "Prometheus metrics").text(200, "text/plain"),
        op(GET, "/api/versions", "API versions").returns(200, object(&["current_version", "versions"], json!({ "current_version": string(), "versions": any_object(), "deprecated_endpoints": array_of(any_object()) }))),
        // holds
        op(POST, "/api/v1/holds", "Hold a slot for a few minutes").json_body(object(&["resource_id", "start_time", "end_time"], json!({ "resource_id": integer(), "start_time": date_time(), "end_time": date_time(), "minutes": nullable(integer()) }))).returns(201, any_object()),
        op(GET, "/api/v1/holds", "Mine").returns(200, array_of(any_object())),
        op(POST, "/api/v1/holds/{hold_id}/confirm", "Confirm a hold into a booking").errors(&[410]).returns(200, any_json()),
        op(DELETE, "/api/v1/holds/{hold_id}", "Release").returns(200, object(&["message", "hold_id"], json!({ "message": string(), "hold_id": integer() }))),
        // hours
        op(GET, "/api/v1/resources/{resource_id}/business-hours", "Resource hours").returns(200, any_json()),
        op(PUT, "/api/v1/resources/{resource_id}/business-hours", "Set a resource's opening hours").json_body(hours_input()).returns(200, any_json()),
        op(GET, "/api/v1/business-hours/global", "Global hours").returns(200, any_json()),
        op(PUT, "/api/v1/business-hours/global", "Set the global opening hours").json_body(hours_input()).returns(200, any_json()),
        op(GET, "/api/v1/resources/{resource_id}/available-slots", "Free slots on a day").required_query("date", string()).query("slot_duration", integer()).returns(200, any_json()),
        op(GET, "/api/v1/resources/{resource_id}/next-available", "The next free slot").query("slot_duration", integer()).query("days_ahead", integer()).returns(200, any_json()),
        op(GET, "/api/v1/resources/{resource_id}/blackout-dates", "A resource's blackout dates").query("include_global", boolean()).returns(200, any_json()),
        op(POST, "/api/v1/resources/{resource_id}/blackout-dates", "Add a blackout date to a resource").json_body(blackout_input()).returns(201, any_json()),
        op(GET, "/api/v1/blackout-dates", "Global blackouts").returns(200, any_json()),
        op(POST, "/api/v1/blackout-dates", "Add a global blackout date").json_body(blackout_input()).returns(201, any_json()),
        op(DELETE, "/api/v1/blackout-dates/{blackout_id}", "Delete blackout").no_content(),
        // labels
        op(GET, "/api/v1/labels", "List labels").query("category", string()).query("search", string()).paged().returns(200, any_json()),
        op(POST, "/api/v1/labels", "Create a label").json_body(object(&["category", "value"], json!({ "category": string(), "value": string(), "color": nullable(string()), "description": nullable(string()) }))).returns(201, any_object()),
        op(GET, "/api/v1/labels/categories", "Categories").returns(200, any_json()),
        op(POST, "/api/v1/labels/merge", "Merge labels into one").json_body(object(&["source_label_ids", "target_label_id"], json!({ "source_label_ids": array_of(integer()), "target_label_id": integer() }))).returns(200, any_json()),
        op(GET, "/api/v1/labels/resources/{resource_id}", "Of resource").returns(200, any_json()),
        op(PUT, "/api/v1/labels/resources/{resource_id}", "Replace a resource's labels").json_body(object(&["label_ids"], json!({ "label_ids": array_of(integer()) }))).returns(200, any_json()),
        op(GET, "/api/v1/labels/{label_id}", "Get one").returns(200, any_json()),
        op(PUT, "/api/v1/labels/{label_id}", "Change a label").json_body(json!({ "type": "object", "properties": { "category": string(), "value": string(), "color": string(), "description": nullable(string()) } })).returns(200, any_json()),
        op(DELETE, "/api/v1/labels/{label_id}", "Delete").returns(200, message()),
        // metrics
        op(GET, "/api/v1/metrics/summary", "Summary").returns(200, any_json()),
        // mfa
        op(POST, "/api/v1/auth/mfa/setup", "Start setting up MFA (TOTP)").returns(200, any_json()),
        op(POST, "/api/v1/auth/mfa/verify", "Confirm MFA with a code").json_body(object(&["code"], json!({ "code": string() }))).returns(200, any_json()),
        op(POST, "/api/v1/auth/mfa/disable", "Turn MFA off").json_body(json!({ "type": "object", "properties": { "password": string(), "code": string() } })).returns(200, any_json()),
        op(POST, "/api/v1/auth/mfa/backup-codes", "New backup codes").json_body(json!({ "type": "object", "properties": { "password": string(), "code": string() } })).returns(200, any_json()),
        // notifications
        op(GET, "/api/v1/notifications", "My notifications").query("unread_only", boolean()).paged().returns(200, any_json()),
        op(POST, "/api/v1/notifications/mark-all-read", "Mark all notifications read").returns(200, object(&["message", "updated"], json!({ "message": string(), "updated": integer() }))),
        op(POST, "/api/v1/notifications/{notification_id}/read", "Mark a notification read").returns(200, any_json()),
        // oauth
        op(POST, "/api/v1/oauth/clients", "Register an OAuth2 client").json_body(object(&["client_name", "redirect_uris"], json!({ "client_name": string(), "redirect_uris": array_of(string()), "grant_types": string(), "scope": string() }))).returns(200, any_json()),
        op(GET, "/api/v1/oauth/clients", "List clients").returns(200, any_json()),
        op(DELETE, "/api/v1/oauth/clients/{client_id}", "Delete client").path_param("client_id", string()).returns(200, any_json()),
        op(GET, "/api/v1/oauth/authorize", "Authorise an OAuth2 client (authorization code with PKCE)").errors(&[404]).required_query("client_id", string()).required_query("redirect_uri", string()).query("response_type", json!({ "type": "string", "enum": ["code"] })).query("scope", string()).query("state", string()).required_query("code_challenge", string()).required_query("code_challenge_method", json!({ "type": "string", "enum": ["S256"] })).returns(200, object(&["redirect_uri", "code"], json!({ "redirect_uri": string(), "code": string(), "state": nullable(string()) }))),
        op(POST, "/api/v1/oauth/token", "Exchange an authorization code (or a refresh token) for tokens").form_body(object(&["grant_type", "client_id", "client_secret"], json!({ "grant_type": { "type": "string", "enum": ["authorization_code", "refresh_token", "client_credentials"] }, "client_id": string(), "client_secret": string(), "code": string(), "redirect_uri": string(), "refresh_token": string(), "code_verifier": string(), "scope": string() }))).returns(200, object(&["access_token", "token_type"], json!({ "access_token": string(), "token_type": string(), "expires_in": integer(), "refresh_token": string(), "scope": string() }))).errors(&[401]),
        op(POST, "/api/v1/oauth/revoke", "Revoke a token").form_body(token_query()).returns(200, object(&["message"], json!({ "message": string() }))).errors(&[401]),
        op(POST, "/api/v1/oauth/introspect", "Introspect a token").form_body(token_query()).returns(200, object(&["active"], json!({ "active": boolean() }))).errors(&[401]),
        op(GET, "/api/v1/oauth/protected", "Check a delegated token (an example protected resource)").returns(200, any_object()).errors(&[401]),
        // quotas
        op(GET, "/api/v1/quotas/config", "Config").returns(200, any_json()),
        op(GET, "/api/v1/quotas/summary", "Summary").returns(200, any_json()),
        op(GET, "/api/v1/quotas/my-usage", "My usage").returns(200, any_json()),
        op(GET, "/api/v1/quotas/users", "Users and their quotas").query("skip", integer()).query("limit", integer()).query("tier", string()).returns(200, any_json()),
        op(GET, "/api/v1/quotas/users/{user_id}", "Get user").returns(200, any_json()),
        op(PATCH, "/api/v1/quotas/users/{user_id}", "Change a user's quota").json_body(json!({ "type": "object", "properties": { "tier": nullable(string()), "custom_rate_limit": nullable(integer()), "custom_daily_quota": nullable(integer()), "reset_daily_count": boolean() } })).returns(200, any_json()),
        op(GET, "/api/v1/quotas/stats", "Usage stats").returns(200, any_json()),
        op(GET, "/api/v1/quotas/alerts", "Users near their quota").query("threshold", json!({ "type": "number" })).returns(200, any_json()),
        op(POST, "/api/v1/quotas/reset-daily", "Reset the daily counts").returns(200, any_json()),
        // reservations
        op(POST, "/api/v1/reservations", "Book a slot").json_body(new_reservation()).returns(201, named("Reservation")),
        op(GET, "/api/v1/reservations/my", "My reservations").query("include_cancelled", boolean()).query("upcoming", boolean()).paged().returns(200, json!({ "anyOf": [page_of(named("Reservation")), array_of(named("Reservation"))] })),
        op(GET, "/api/v1/reservations/{reservation_id}", "One reservation").returns(200, named("Reservation")),
        op(PATCH, "/api/v1/reservations/{reservation_id}", "Move a reservation to another slot").json_body(object(&["start_time", "end_time"], json!({ "start_time": date_time(), "end_time": date_time() }))).returns(200, named("Reservation")),
        op(POST, "/api/v1/reservations/{reservation_id}/cancel", "Cancel a reservation (or its series)").json_body(json!({ "type": "object", "properties": { "reason": nullable(string()), "scope": nullable(string()) } })).returns(200, object(&["message", "reservation_id", "cancelled_at"], json!({ "message": string(), "reservation_id": integer(), "cancelled_at": date_time(), "cancelled_reservation_ids": array_of(integer()) }))),
        op(GET, "/api/v1/reservations/{reservation_id}/history", "The changes of a reservation").returns(200, array_of(any_object())),
        op(POST, "/api/v1/reservations/{reservation_id}/check-in", "Check in to a booking").errors(&[410]).returns(200, object(&["message", "reservation_id", "checked_in_at"], json!({ "message": string(), "reservation_id": integer(), "checked_in_at": date_time() }))),
        op(POST, "/api/v1/admin/cleanup-expired", "Mark ended reservations expired").returns(200, object(&["message", "expired_count"], json!({ "message": string(), "expired_count": integer(), "timestamp": date_time() }))),
        // resources
        op(GET, "/api/v1/resources", "List resources").paged().returns(200, json!({ "anyOf": [page_of(named("Resource")), array_of(named("Resource"))] })),
        op(POST, "/api/v1/resources", "Create a resource").json_body(new_resource()).returns(201, named("Resource")),
        op(GET, "/api/v1/resources/search", "Search resources").query("q", string()).query("status", string()).query("available_only", boolean()).query("available_from", date_time()).query("available_until", date_time()).query("tags", string()).query("label", string()).paged().returns(200, json!({ "anyOf": [page_of(named("Resource")), array_of(named("Resource"))] })),
        op(POST, "/api/v1/resources/upload", "Import resources from CSV").multipart_body(object(&["file"], json!({ "file": { "type": "string", "contentMediaType": "text/csv" } }))).returns(200, any_object()),
        op(GET, "/api/v1/resources/availability/summary", "Summary").returns(200, any_json()),
        op(GET, "/api/v1/resources/tags", "Every tag in use").returns(200, any_json()),
        op(GET, "/api/v1/resources/tags/details", "Tag details").returns(200, any_json()),
        op(PUT, "/api/v1/resources/tags/rename", "Rename a tag everywhere").json_body(object(&["old_name", "new_name"], json!({ "old_name": string(), "new_name": string() }))).returns(200, any_json()),
        op(DELETE, "/api/v1/resources/tags/{tag_name}", "Delete tag").path_param("tag_name", string()).returns(200, any_json()),
        op(GET, "/api/v1/resources/{resource_id}", "One resource").returns(200, named("Resource")),
        op(PUT, "/api/v1/resources/{resource_id}", "Change a resource").json_body(json!({ "type": "object", "properties": { "name": string(), "description": nullable(string()), "tags": array_of(string()), "timezone": string(), "checkin_window_minutes": nullable(integer()) } })).returns(200, named("Resource")),
        op(DELETE, "/api/v1/resources/{resource_id}", "Delete a resource").query("cancel_reservations", boolean()).returns(200, object(&["message", "resource_id"], json!({ "message": string(), "resource_id": integer(), "cancelled_reservations": array_of(integer()) }))),
        op(GET, "/api/v1/resources/{resource_id}/availability", "A resource's schedule").query("days_ahead", integer()).returns(200, any_object()),
        op(GET, "/api/v1/resources/{resource_id}/schedule", "A resource's schedule").query("days_ahead", integer()).returns(200, any_object()),
        op(GET, "/api/v1/resources/{resource_id}/status", "A resource's live status").returns(200, object(&["resource_id", "resource_name", "status"], json!({ "resource_id": integer(), "resource_name": string(), "base_available": boolean(), "status": string(), "is_available_for_reservation": boolean(), "is_currently_in_use": boolean(), "is_unavailable": boolean(), "current_time": date_time(), "is_open": boolean() }))),
        op(PUT, "/api/v1/resources/{resource_id}/status/unavailable", "Put a resource under maintenance").query("auto_reset_hours", json!({ "type": "integer", "minimum": 1, "maximum": 8760 })).returns(200, any_json()),
        op(PUT, "/api/v1/resources/{resource_id}/status/available", "End maintenance").returns(200, any_json()),
        op(PUT, "/api/v1/resources/{resource_id}/availability", "Enable or disable a resource").json_body(object(&["available"], json!({ "available": boolean() }))).returns(200, any_json()),
        // roles
        op(GET, "/api/v1/roles", "List").returns(200, array_of(any_object())),
        op(POST, "/api/v1/roles", "Create a role").json_body(object(&["name"], json!({ "name": string(), "description": nullable(string()) }))).returns(200, any_object()),
        op(POST, "/api/v1/roles/assign", "Give a user a role").json_body(object(&["role_name"], json!({ "user_id": nullable(integer()), "username": nullable(string()), "role_name": string() }))).returns(200, message()),
        op(DELETE, "/api/v1/roles/assign", "Take a role from a user").json_body(object(&["role_name"], json!({ "user_id": nullable(integer()), "username": nullable(string()), "role_name": string() }))).returns(200, message()),
        op(GET, "/api/v1/roles/my-roles", "Mine").returns(200, array_of(any_object())),
        // search
        op(GET, "/api/v1/search/resources", "Search resources").query("query", string()).query("tags", string()).query("label", string()).query("status", string()).query("available_only", boolean()).query("available_from", string()).query("available_until", string()).query("requires_approval", boolean()).query("group_id", integer()).query("building", string()).query("limit", integer()).query("offset", integer()).returns(200, any_json()),
        op(GET, "/api/v1/search/reservations", "Search reservations").query("user_id", integer()).query("resource_id", integer()).query("status", string()).query("start_from", string()).query("start_until", string()).query("created_from", string()).query("created_until", string()).query("include_cancelled", boolean()).query("limit", integer()).query("offset", integer()).returns(200, any_json()),
        op(GET, "/api/v1/search/suggestions", "Search suggestions").required_query("query", string()).query("limit", integer()).returns(200, any_json()),
        op(GET, "/api/v1/search/tags/popular", "Popular tags").query("limit", integer()).returns(200, any_json()),
        op(GET, "/api/v1/search/resources/{resource_id}/availability", "A resource's availability").query("days_ahead", integer()).returns(200, any_json()),
        op(GET, "/api/v1/search/saved", "My saved searches").query("search_type", json!({ "type": "string", "enum": ["resources", "reservations"] })).returns(200, any_json()),
        op(POST, "/api/v1/search/saved", "Save a search").json_body(object(&["name", "search_type", "filters"], json!({ "name": string(), "search_type": json!({ "type": "string", "enum": ["resources", "reservations"] }), "filters": any_object() }))).returns(200, any_json()),
        op(DELETE, "/api/v1/search/saved/{search_id}", "Delete saved").returns(200, any_json()),
        op(POST, "/api/v1/search/saved/{search_id}/execute", "Run a saved search").query("limit", integer()).query("offset", integer()).returns(200, any_json()),
        // series
        op(POST, "/api/v1/reservations/recurring", "Book a recurring series").json_body(object(&["resource_id", "start_time", "end_time", "recurrence"], json!({ "resource_id": integer(), "start_time": date_time(), "end_time": date_time(), "recurrence": object(&["frequency"], json!({ "frequency": json!({ "type": "string", "enum": ["daily", "weekly", "monthly"] }), "interval": json!({ "type": "integer", "minimum": 1 }), "days_of_week": array_of(json!({ "type": "integer", "minimum": 0, "maximum": 6 })), "end_type": json!({ "type": "string", "enum": ["never", "on_date", "after_count"] }), "end_date": nullable(string()), "occurrence_count": nullable(integer()) })), "skip_conflicts": boolean() }))).returns(201, any_json()),
        // setup
        op(GET, "/api/v1/setup/status", "Whether first-run setup is done").returns(200, object(&["setup_complete", "user_count"], json!({ "setup_complete": boolean(), "setup_reopened": boolean(), "user_count": integer() }))),
        op(POST, "/api/v1/setup/initialize", "First-run setup: create or promote the administrator").errors(&[403]).json_body(json!({ "type": "object", "properties": { "username": string(), "password": string(), "existing_username": string() } })).returns(200, any_json()),
        op(POST, "/api/v1/setup/unlock", "Reopen first-run setup (with the reopen token)").errors(&[403]).returns(200, any_json()),
        // users
        op(GET, "/api/v1/users/me", "The caller's account").returns(200, named("UserDetails")),
        op(PATCH, "/api/v1/users/me/preferences", "Change notification preferences").json_body(json!({ "type": "object", "properties": { "email_notifications": nullable(boolean()), "reminder_hours": nullable(json!({ "type": "integer", "minimum": 1, "maximum": 168 })) } })).returns(200, named("UserDetails")),
        op(PUT, "/api/v1/users/me/email", "Set the e-mail address (sends a code)").errors(&[501]).json_body(object(&["email"], json!({ "email": string() }))).returns(200, any_json()),
        op(POST, "/api/v1/users/me/email/verify", "Confirm the e-mail address with the code").errors(&[501]).json_body(object(&["code"], json!({ "code": string() }))).returns(200, any_json()),
        // waitlist
        op(POST, "/api/v1/waitlist", "Join a resource's waiting list").json_body(object(&["resource_id", "desired_start", "desired_end"], json!({ "resource_id": integer(), "desired_start": date_time(), "desired_end": date_time(), "flexible_time": boolean() }))).returns(201, named("WaitlistEntry")),
        op(GET, "/api/v1/waitlist", "My waiting-list entries").query("include_completed", boolean()).paged().returns(200, json!({ "anyOf": [page_of(named("WaitlistEntry")), array_of(named("WaitlistEntry"))] })),
        op(GET, "/api/v1/waitlist/resource/{resource_id}", "A resource's queue").returns(200, array_of(named("WaitlistEntry"))),
        op(GET, "/api/v1/waitlist/{waitlist_id}", "One waiting-list entry").returns(200, named("WaitlistEntry")),
        op(DELETE, "/api/v1/waitlist/{waitlist_id}", "Leave the waiting list").returns(200, any_object()),
        op(POST, "/api/v1/waitlist/{waitlist_id}/accept", "Accept an offered slot").errors(&[410]).returns(200, any_object()),
        // webhooks
        op(GET, "/api/v1/webhooks/events", "Events").returns(200, any_json()),
        op(GET, "/api/v1/webhooks/signature-example", "Signature example").returns(200, any_json()),
        op(POST, "/api/v1/webhooks", "Create a webhook").json_body(object(&["url", "events"], json!({ "url": string(), "events": array_of(string()), "description": nullable(string()) }))).returns(201, any_json()),
        op(GET, "/api/v1/webhooks", "List webhooks").query("all", boolean()).returns(200, array_of(any_object())),
        op(GET, "/api/v1/webhooks/{webhook_id}", "Get one").returns(200, any_json()),
        op(PATCH, "/api/v1/webhooks/{webhook_id}", "Change a webhook").json_body(json!({ "type": "object", "properties": { "url": string(), "events": array_of(string()), "description": nullable(string()), "is_active": boolean() } })).returns(200, any_json()),
        op(DELETE, "/api/v1/webhooks/{webhook_id}", "Delete").no_content(),
        op(POST, "/api/v1/webhooks/{webhook_id}/regenerate-secret", "A new signing secret").returns(200, any_json()),
        op(GET, "/api/v1/webhooks/{webhook_id}/deliveries", "A webhook's deliveries").query("limit", integer()).returns(200, any_json()),
        op(POST, "/api/v1/webhooks/{webhook_id}/test", "Send a test event").json_body(json!({ "type": "object", "properties": { "event_type": nullable(string()) } })).returns(200, any_json()),
        op(GET, "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}", "Delivery").returns(200, any_json()),
        op(POST, "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", "Send a delivery again").returns(200, any_json()),
        // ws
        op(GET, "/ws", "Connect").required_query("token", string()).switching_protocols(),
    ]
}
