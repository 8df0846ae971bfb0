//! The named schemas of the document (`#/components/schemas`) and the error answers
//! (`#/components/responses`), in the shapes `crate::error` writes.
//!
//! The schemas of the answers the handlers serialise from a Rust type, and of the request bodies
//! they deserialise into one, are derived from that type (`#[derive(utoipa::ToSchema)]` next to
//! its `Serialize` or `Deserialize`, which honours its serde attributes) and referenced with
//! [`schema_of`], so they follow the type. The rest (answers a
//! handler builds as a `json!` value, the error shapes) is written here and in the catalogue as
//! JSON Schema (2020-12, as OpenAPI 3.1 uses it). Both are held to the real answers by the
//! response-conformance test (`tests/api/openapi.rs`) and by the contract fuzzing run
//! (`tests/contract/run`), so a change of an answer's shape that is not made here fails there.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::{Value, json};
use utoipa::ToSchema;

thread_local! {
    /// The schemas [`schema_of`] derived while the catalogue was built, by name; taken by
    /// [`take_derived`]. Per thread, so that two documents built at once do not mix.
    static DERIVED: RefCell<BTreeMap<String, Value>> = const { RefCell::new(BTreeMap::new()) };
}

/// A reference to the schema derived from `T`, which is registered (with the schemas it refers
/// to) for `#/components/schemas`.
///
/// # Panics
/// When two different types derive schemas of the same name (rename one with
/// `#[schema(as = …)]`): the document would otherwise describe one of them wrongly.
pub fn schema_of<T: ToSchema>() -> Value {
    let name = T::name().into_owned();
    let mut found = vec![(name.clone(), T::schema())];
    T::schemas(&mut found);
    DERIVED.with(|derived| {
        let mut derived = derived.borrow_mut();
        for (name, schema) in found {
            let schema = serde_json::to_value(schema).unwrap_or_default();
            let known = derived.entry(name.clone()).or_insert_with(|| schema.clone());
            assert!(*known == schema, "two types derive the schema {name}");
        }
    });
    named(&name)
}

/// The schemas registered by [`schema_of`] on this thread since the last call.
fn take_derived() -> BTreeMap<String, Value> {
    DERIVED.with(|derived| std::mem::take(&mut *derived.borrow_mut()))
}

/// A reference to the named schema `name`.
pub fn named(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// `schema` or `null`.
pub fn nullable(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }] })
}

pub fn string() -> Value {
    json!({ "type": "string" })
}

pub fn integer() -> Value {
    json!({ "type": "integer", "format": "int64" })
}

pub fn boolean() -> Value {
    json!({ "type": "boolean" })
}

/// An instant as the API writes and reads it (RFC 3339; naive times are read as UTC).
pub fn date_time() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

pub fn array_of(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

/// A JSON object whose fields this document does not list.
pub fn any_object() -> Value {
    json!({ "type": "object" })
}

/// The `/api/v1` page envelope around `items`.
pub fn page_of(items: Value) -> Value {
    json!({
        "type": "object",
        "required": ["data", "next_cursor", "has_more"],
        "properties": {
            "data": array_of(items),
            "next_cursor": nullable(string()),
            "prev_cursor": nullable(string()),
            "has_more": boolean(),
            "total_count": nullable(integer()),
        },
    })
}

/// An object with exactly these `required` properties (others allowed).
pub fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

/// An object whose every property is required.
fn all_required(properties: Value) -> Value {
    let names: Vec<&str> = properties
        .as_object()
        .map(|properties| properties.keys().map(String::as_str).collect())
        .unwrap_or_default();
    object(&names, properties.clone())
}

/// The named schemas: those written here (the error shapes and the answers built as `json!`
/// values that several operations share), then those [`schema_of`] derived on this thread
/// since the last call, so call it after building the catalogue.
pub fn components() -> Value {
    let mut components = written();
    if let Some(components) = components.as_object_mut() {
        for (name, schema) in take_derived() {
            let previous = components.insert(name.clone(), schema);
            debug_assert!(previous.is_none(), "{name} is both written and derived");
        }
    }
    components
}

/// The named schemas written here rather than derived.
pub fn written() -> Value {
    let group = schema_of::<crate::groups::GroupOut>();
    json!({
        "Error": object(&["detail"], json!({ "detail": string() })),
        "FieldError": object(&["type", "loc", "msg"], json!({
            "type": string(),
            "loc": array_of(json!({ "type": ["string", "integer"] })),
            "msg": string(),
            "input": {},
        })),
        "ValidationError": object(&["detail"], json!({
            "detail": { "oneOf": [string(), array_of(named("FieldError"))] },
        })),
        "ConflictError": object(&["detail"], json!({
            "detail": string(),
            "conflicts": array_of(any_object()),
        })),
        "Token": object(&["access_token", "token_type"], json!({
            "access_token": string(),
            "refresh_token": string(),
            "token_type": { "type": "string", "enum": ["bearer"] },
        })),
        // `routes::users::details`.
        "UserDetails": all_required(json!({
            "id": integer(),
            "username": string(),
            "email": nullable(string()),
            "email_verified": boolean(),
            "mfa_enabled": boolean(),
            "email_notifications": boolean(),
            "reminder_hours": integer(),
        })),
        // `routes::admin::list`.
        "AdminUser": all_required(json!({
            "id": integer(),
            "username": string(),
            "email": nullable(string()),
            "is_active": boolean(),
            "mfa_enabled": boolean(),
            "created_at": date_time(),
            "roles": array_of(string()),
        })),
        // `approvals::full`.
        "Approval": all_required(json!({
            "id": integer(),
            "reservation_id": integer(),
            "resource_id": integer(),
            "resource_name": string(),
            "requester_id": integer(),
            "requester_username": string(),
            "approver_id": integer(),
            "approver_username": string(),
            "start_time": date_time(),
            "end_time": date_time(),
            "request_message": nullable(string()),
            "response_message": nullable(string()),
            "status": string(),
            "created_at": date_time(),
            "responded_at": nullable(date_time()),
        })),
        // `auth::audit_log::entry`; the old and new values are whatever was recorded.
        "AuditEntry": all_required(json!({
            "id": integer(),
            "timestamp": date_time(),
            "user_id": nullable(integer()),
            "username": nullable(string()),
            "action": string(),
            "entity_type": string(),
            "entity_id": nullable(integer()),
            "entity_name": nullable(string()),
            "ip_address": nullable(string()),
            "user_agent": nullable(string()),
            "request_method": nullable(string()),
            "request_path": nullable(string()),
            "old_values": {},
            "new_values": {},
            "details": nullable(string()),
            "success": boolean(),
            "error_message": nullable(string()),
        })),
        // `bulk::Outcome::errors_json`: a refused item (`index`, `data`, with `row` from CSV)
        // or an unreadable CSV row (`row`).
        "BulkItemError": object(&["error"], json!({
            "index": integer(),
            "row": integer(),
            "data": all_required(json!({
                "resource_id": integer(),
                "start_time": date_time(),
                "end_time": date_time(),
            })),
            "error": string(),
        })),
        // `groups::with_extras`: a group with its children and its own resource count.
        "GroupNode": {
            "allOf": [group, all_required(json!({
                "children": array_of(named("GroupNode")),
                "resource_count": integer(),
            }))],
        },
        // `routes::holds::hold_out`.
        "Hold": all_required(json!({
            "id": integer(),
            "resource_id": integer(),
            "start_time": date_time(),
            "end_time": date_time(),
            "status": { "type": "string", "const": "held" },
            "expires_at": nullable(date_time()),
        })),
        // `routes::roles::role_out`.
        "Role": all_required(json!({
            "id": integer(),
            "name": string(),
            "description": nullable(string()),
        })),
        // `routes::quotas::user_quota`.
        "UserQuota": all_required(json!({
            "user_id": integer(),
            "username": string(),
            "tier": schema_of::<crate::quotas::Tier>(),
            "rate_limit_per_minute": integer(),
            "daily_quota": nullable(integer()),
            "custom_rate_limit": nullable(integer()),
            "custom_daily_quota": nullable(integer()),
            "daily_request_count": integer(),
            "total_requests": integer(),
            "last_request_date": nullable(json!({ "type": "string", "format": "date" })),
        })),
    })
}

/// The error statuses the API answers, with what each means.
const ERRORS: &[(u16, &str, &str)] = &[
    (400, "BadRequest", "The request breaks a rule (the detail says which)."),
    (401, "Unauthorized", "Missing, invalid or expired credentials."),
    (
        403,
        "Forbidden",
        "The caller lacks the permission (or the OAuth2 scope) this operation needs.",
    ),
    (404, "NotFound", "No such object, or not one the caller may see."),
    (405, "MethodNotAllowed", "The path exists, the method does not."),
    (
        409,
        "Conflict",
        "It conflicts with existing data (an overlapping booking, a taken name…), or with a change another request made meanwhile (reload and try again).",
    ),
    (410, "Gone", "It existed but has expired."),
    (413, "PayloadTooLarge", "The body is larger than allowed."),
    (
        422,
        "Unprocessable",
        "Invalid input: a list of field errors, or a detail in words.",
    ),
    (
        429,
        "TooManyRequests",
        "A rate limit or daily quota is used up; `Retry-After` says when to retry.",
    ),
    (
        501,
        "Disabled",
        "A feature this server was configured without (e-mail).",
    ),
    (
        503,
        "Unavailable",
        "The database is down or overloaded, or the request took too long; retry later.",
    ),
];

/// The name of the `#/components/responses` entry of an error status (empty for a status that
/// is not one of the API's errors).
pub fn error_response_name(status: u16) -> &'static str {
    ERRORS
        .iter()
        .find(|(code, _, _)| *code == status)
        .map(|(_, name, _)| *name)
        .unwrap_or_default()
}

pub fn error_responses() -> Value {
    let mut responses = serde_json::Map::new();
    for (status, name, description) in ERRORS {
        let schema = match status {
            409 => named("ConflictError"),
            422 => named("ValidationError"),
            _ => named("Error"),
        };
        responses.insert(
            (*name).to_owned(),
            json!({ "description": description, "content": { "application/json": { "schema": schema } } }),
        );
    }
    Value::Object(responses)
}
