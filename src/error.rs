//! The one place where errors become HTTP responses.
//!
//! Every handler returns `Result<_, ApiError>`. Domain and storage errors convert into
//! [`ApiError`] through `From` impls (next to the error types they convert), and
//! [`ApiError`]'s `ResponseError` impl is the only code that picks status codes and writes error
//! bodies. Bodies keep the `/api/v1` wire format: `{"detail": "<message>"}`, or for request
//! validation a 422 with `{"detail": [{"type", "loc", "msg", "input"}]}` like Pydantic's.
//! A 500 never carries internal details: a fault keeps its cause ([`Fault`], a chain of
//! `source()`s), and [`ApiError::error_response`] logs that chain once, in the request's span
//! (so with its request id). Raise sites do not log what they return.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::json;

use reserver_actors::fault::{self, Fault};

use crate::storage::StorageError;

/// One entry of a 422 validation list, shaped like Pydantic v2's error objects.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldError {
    #[serde(rename = "type")]
    pub kind: String,
    pub loc: Vec<serde_json::Value>,
    pub msg: String,
    pub input: serde_json::Value,
}

impl FieldError {
    /// A failed rule on a value: `msg` is prefixed with "Value error, " as Pydantic does.
    pub fn value_error(loc: &[&str], msg: impl std::fmt::Display, input: impl Serialize) -> FieldError {
        FieldError {
            kind: "value_error".into(),
            loc: loc.iter().map(|part| json!(part)).collect(),
            msg: format!("Value error, {msg}"),
            input: serde_json::to_value(input).unwrap_or(serde_json::Value::Null),
        }
    }

    /// Pydantic's error for a number outside `min..=max`, at `loc`, echoing `input`.
    pub fn out_of_range<T>(
        loc: Vec<serde_json::Value>,
        value: T,
        min: T,
        max: T,
        input: serde_json::Value,
    ) -> FieldError
    where
        T: PartialOrd + std::fmt::Display,
    {
        let (kind, rule) = if value < min {
            ("greater_than_equal", format!("greater than or equal to {min}"))
        } else {
            ("less_than_equal", format!("less than or equal to {max}"))
        };
        FieldError {
            kind: kind.into(),
            loc,
            msg: format!("Input should be {rule}"),
            input,
        }
    }
}

/// Every way a request can fail, with its status code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("Method Not Allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// A conflict that lists what it conflicts with (`{"detail": …, "conflicts": […]}`).
    #[error("{detail}")]
    ConflictWith {
        detail: String,
        conflicts: serde_json::Value,
    },
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnprocessableEntity(String),
    #[error("request validation failed")]
    Validation(Vec<FieldError>),
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after_seconds: u64 },
    /// A feature this server was configured without (e-mail with `EMAIL_ENABLED=false`): 501,
    /// with the reason, since retrying will not help.
    #[error("{0}")]
    Disabled(String),
    /// A dependency (usually the database) is down or overloaded; the request may be retried.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The database cancelled a statement that ran past the statement timeout: 503, saying so,
    /// since a narrower request (or a later one) may succeed.
    #[error("statement timed out: {0}")]
    TimedOut(String),
    /// A server fault, with its cause chain. Logged (once, here, when it becomes the response),
    /// never sent.
    #[error(transparent)]
    Internal(Fault),
}

impl ApiError {
    /// A server fault that is `error` (an error, or a message saying what went wrong).
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ApiError {
        ApiError::Internal(Fault::new(error))
    }

    /// A server fault: `context` failed because of `cause`, which is kept as its source.
    pub fn internal_context(
        context: impl Into<String>,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> ApiError {
        ApiError::Internal(Fault::context(context, cause))
    }

    /// A 422 for one field that failed a rule.
    pub fn invalid(loc: &[&str], msg: impl std::fmt::Display, input: impl Serialize) -> ApiError {
        ApiError::Validation(vec![FieldError::value_error(loc, msg, input)])
    }

    /// Pydantic's 422 for a number outside `min..=max` (`loc` like `["query", "limit"]`; query
    /// inputs are echoed as the strings they were sent as).
    pub fn out_of_range<T>(loc: &[&str], value: T, min: T, max: T) -> ApiError
    where
        T: PartialOrd + std::fmt::Display + Serialize,
    {
        let input = if loc.first() == Some(&"query") {
            json!(value.to_string())
        } else {
            json!(value)
        };
        let loc = loc.iter().map(|part| json!(part)).collect();
        ApiError::Validation(vec![FieldError::out_of_range(loc, value, min, max, input)])
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::ConflictWith { .. } => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnprocessableEntity(_) | ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Disabled(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::Unavailable(_) | ApiError::TimedOut(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        let body = match self {
            ApiError::Validation(errors) => json!({ "detail": errors }),
            ApiError::ConflictWith { detail, conflicts } => json!({ "detail": detail, "conflicts": conflicts }),
            ApiError::Unavailable(why) => {
                tracing::warn!(%why, "request failed: service unavailable");
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
                json!({ "detail": "Service temporarily unavailable, please retry" })
            }
            ApiError::TimedOut(why) => {
                tracing::warn!(%why, "request failed: a statement ran past the statement timeout");
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
                json!({ "detail": "The request took too long and was cancelled; narrow it down or retry later" })
            }
            ApiError::Internal(fault) => {
                tracing::error!(error.cause_chain = %fault::chain(fault), "request failed with a server fault");
                json!({ "detail": "Internal Server Error" })
            }
            ApiError::TooManyRequests {
                detail,
                retry_after_seconds,
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
                json!({ "detail": detail })
            }
            ApiError::Unauthorized(detail) => {
                response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
                json!({ "detail": detail })
            }
            other => json!({ "detail": other.to_string() }),
        };
        response.json(body)
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Unavailable(why) => ApiError::Unavailable(why),
            StorageError::TimedOut(why) => ApiError::TimedOut(why),
            // Nothing was written; the client may try again at once.
            StorageError::Deadlock(why) => ApiError::Unavailable(why),
            StorageError::Overlap => ApiError::Conflict("Time slot conflicts with existing reservations".into()),
            StorageError::UniqueViolation { constraint } => {
                ApiError::Conflict(format!("Conflicts with an existing record ({constraint})"))
            }
            StorageError::InvalidText(_) => {
                ApiError::UnprocessableEntity("Text values must not contain NUL characters".into())
            }
            other @ (StorageError::ForeignKey(_) | StorageError::Decode(_) | StorageError::Query(_)) => {
                ApiError::internal(other)
            }
        }
    }
}
