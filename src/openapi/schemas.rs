//! The named schemas of the document (`#/components/schemas`) and the error answers
//! (`#/components/responses`), in the shapes `crate::error` writes.
//!
//! Written as JSON Schema (2020-12, as OpenAPI 3.1 uses it). They are held to the real answers by
//! the response-conformance test (`tests/api/openapi.rs`) and by the contract fuzzing run
//! (`tests/contract/run`), so a change of an answer's shape that is not made here fails there.

use serde_json::{Value, json};

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

pub fn components() -> Value {
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
        "Label": object(&["id", "category", "value", "color", "full_name"], json!({
            "id": integer(), "category": string(), "value": string(), "color": string(), "full_name": string(),
        })),
        "Resource": object(
            &["id", "name", "available", "status", "tags", "timezone", "requires_approval"],
            json!({
                "id": integer(),
                "name": string(),
                "description": nullable(string()),
                "available": boolean(),
                "current_availability": nullable(boolean()),
                "status": { "type": "string", "enum": ["available", "in_use", "unavailable"] },
                "current_user_name": nullable(string()),
                "tags": array_of(string()),
                "timezone": string(),
                "requires_approval": boolean(),
                "checkin_window_minutes": nullable(integer()),
                "labels": array_of(named("Label")),
            }),
        ),
        "Reservation": object(
            &["id", "user_id", "resource_id", "resource", "start_time", "end_time", "status", "created_at"],
            json!({
                "id": integer(),
                "user_id": integer(),
                "resource_id": integer(),
                "resource": named("Resource"),
                "start_time": date_time(),
                "end_time": date_time(),
                "status": {
                    "type": "string",
                    "enum": ["active", "pending_approval", "held", "cancelled", "expired", "released", "rejected"],
                },
                "created_at": date_time(),
                "cancelled_at": nullable(date_time()),
                "cancellation_reason": nullable(string()),
                "recurrence_rule_id": nullable(integer()),
                "parent_reservation_id": nullable(integer()),
                "is_recurring_instance": boolean(),
            }),
        ),
        "WaitlistEntry": object(
            &["id", "resource_id", "desired_start", "desired_end", "flexible_time", "status", "position", "created_at"],
            json!({
                "id": integer(),
                "resource_id": integer(),
                "user_id": nullable(integer()),
                "desired_start": date_time(),
                "desired_end": date_time(),
                "flexible_time": boolean(),
                "status": string(),
                "position": integer(),
                "created_at": date_time(),
                "offered_at": nullable(date_time()),
                "offer_expires_at": nullable(date_time()),
                "offered_start": nullable(date_time()),
                "offered_end": nullable(date_time()),
                "offered_reservation_id": nullable(integer()),
                "resource": named("Resource"),
            }),
        ),
        "UserDetails": object(
            &["id", "username", "email_verified", "mfa_enabled", "email_notifications", "reminder_hours"],
            json!({
                "id": integer(),
                "username": string(),
                "email": nullable(string()),
                "email_verified": boolean(),
                "mfa_enabled": boolean(),
                "email_notifications": boolean(),
                "reminder_hours": integer(),
                "is_admin": boolean(),
            }),
        ),
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
        "It conflicts with existing data (an overlapping booking, a taken name…).",
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
