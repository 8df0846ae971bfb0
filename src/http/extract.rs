//! Request extractors whose failures are 422 validation lists, never plain-text errors.
//!
//! They replace actix-web's `Json`, `Query`, `Form` and `Path` so that every malformed input,
//! wherever it comes from, is answered in the same Pydantic-style shape `/api/v1` clients
//! parse: `{"detail": [{"type", "loc", "msg", "input"}]}` with `loc` naming the part of the
//! request (`body`, `query`, `path`) and the field. Query strings and forms accept repeated keys
//! (`tags=a&tags=b`) for list fields, as `/api/v1` clients send them.
//!
//! Invariants: a JSON body must be valid UTF-8 as a whole (serde_json checks only the strings it
//! keeps, so bytes in an ignored field used to pass); boolean query parameters accept what Pydantic
//! accepts, which `/api/v1` clients rely on: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in
//! any case (Python's `requests` sends `True`).

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::error::{ApiError, FieldError};
use crate::wire::bounded::TOO_LONG;

/// Turns a deserialisation failure at `path` into one validation entry under `source`.
fn field_error(source: &str, path: &serde_path_to_error::Path, message: &str) -> FieldError {
    let mut loc = vec![json!(source)];
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => loc.push(json!(index)),
            serde_path_to_error::Segment::Map { key } => loc.push(json!(key)),
            serde_path_to_error::Segment::Enum { variant } => loc.push(json!(variant)),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let serde_generated = [
        "invalid type",
        "invalid value",
        "unknown variant",
        "invalid length",
        "unknown field",
        "can not parse",
    ];
    let (kind, msg) = if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        loc.push(json!(field));
        ("missing".to_owned(), "Field required".to_owned())
    } else if message.starts_with(TOO_LONG) {
        ("too_long".to_owned(), strip_position(message))
    } else if message.starts_with("can not parse") || message.starts_with("invalid digit") {
        (
            "int_parsing".to_owned(),
            "Input should be a valid integer, unable to parse string as an integer".to_owned(),
        )
    } else if serde_generated.iter().any(|prefix| message.starts_with(prefix)) {
        ("invalid_value".to_owned(), strip_position(message))
    } else {
        // Our own domain types report their rule as a custom error.
        (
            "value_error".to_owned(),
            format!("Value error, {}", strip_position(message)),
        )
    };
    FieldError {
        kind,
        loc,
        msg,
        input: serde_json::Value::Null,
    }
}

/// serde_json appends " at line 1 column 12"; the location is already in `loc`.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

fn missing_body() -> ApiError {
    ApiError::Validation(vec![FieldError {
        kind: "missing".into(),
        loc: vec![json!("body")],
        msg: "Field required".into(),
        input: serde_json::Value::Null,
    }])
}

async fn read_body(req: &HttpRequest, payload: &mut Payload) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, payload)
        .await
        .map_err(|error| match error.as_error::<PayloadError>() {
            Some(PayloadError::Overflow) => ApiError::PayloadTooLarge("Request body is too large".into()),
            _ => ApiError::BadRequest(format!("Cannot read the request body: {error}")),
        })
}

/// A JSON request body.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_body(&req, &mut payload).await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Err(missing_body());
            }
            parse_json(&body).map(Json)
        })
    }
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if let Err(error) = std::str::from_utf8(body) {
        return Err(ApiError::Validation(vec![FieldError {
            kind: "json_invalid".into(),
            loc: vec![json!("body"), json!(error.valid_up_to())],
            msg: "JSON decode error: the body is not valid UTF-8".into(),
            input: serde_json::Value::Null,
        }]));
    }
    if has_nul_character(body) {
        return Err(nul_refused());
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => Ok(value),
        Err(error) if error.inner().is_syntax() || error.inner().is_eof() => {
            Err(ApiError::Validation(vec![FieldError {
                kind: "json_invalid".into(),
                loc: vec![json!("body"), json!(error.inner().column())],
                msg: format!("JSON decode error: {}", strip_position(&error.inner().to_string())),
                input: serde_json::Value::Null,
            }]))
        }
        Err(error) => Err(ApiError::Validation(vec![field_error(
            "body",
            error.path(),
            &error.inner().to_string(),
        )])),
    }
}

/// Whether the JSON text `body` has a NUL character in a string (the escape `\u0000`, not
/// itself escaped). No text column can hold one (PostgreSQL refuses it; SQLite would store what
/// PostgreSQL cannot), so every route refuses it here as the client's error, before a handler
/// or a resource actor could carry it to the database.
fn has_nul_character(body: &[u8]) -> bool {
    body.windows(6).enumerate().any(|(at, window)| {
        window.eq_ignore_ascii_case(b"\\u0000")
            && body[..at].iter().rev().take_while(|&&byte| byte == b'\\').count() % 2 == 0
    })
}

/// Refuses URL-encoded text (a query string, a form body) that decodes to a NUL character, for
/// the reason [`has_nul_character`] gives. Percent-decoding yields a NUL only from `%00` or from a
/// raw NUL byte, so the encoded text is searched for those.
fn refuse_encoded_nul(encoded: &[u8]) -> Result<(), ApiError> {
    let nul = encoded.contains(&0) || encoded.windows(3).any(|window| window == b"%00");
    if nul {
        return Err(nul_refused());
    }
    Ok(())
}

fn nul_refused() -> ApiError {
    ApiError::UnprocessableEntity("Text values must not contain NUL characters".into())
}

/// A JSON request body that may be left out: no body at all is `T::default()`; a body is
/// validated like [`Json`]'s.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_body(&req, &mut payload).await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(T::default()));
            }
            parse_json(&body).map(OptionalJson)
        })
    }
}

/// The query string. Its parameters are documented from `T` (`#[derive(utoipa::IntoParams)]`,
/// see `crate::openapi::Inputs`).
pub struct Query<T>(pub T);

/// The schema of a query parameter that takes one of `words`, for a `#[param(schema_with = …)]`
/// where the field is read as a `String` and checked by the handler.
pub fn one_of(words: &[&str]) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(words.iter().copied()))
        .build()
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// Parses a query string, reading booleans in every spelling `/api/v1` clients use. serde_html_form
/// accepts only `true`, `false` and `on`; when it refuses a value as a boolean, that parameter's
/// spellings of a boolean are rewritten to `true`/`false` and the string is parsed again. Each
/// retry settles one parameter, so there are at most as many retries as parameters; a value that is
/// no boolean at all keeps its 422.
fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    refuse_encoded_nul(query.as_bytes())?;
    let mut query = std::borrow::Cow::Borrowed(query);
    loop {
        let deserializer = serde_html_form::Deserializer::from_bytes(query.as_bytes());
        let error = match serde_path_to_error::deserialize(deserializer) {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let refused_boolean = error
            .inner()
            .to_string()
            .contains(r#"expected "true", "on" or "false""#);
        let key = match error.path().iter().next_back() {
            Some(serde_path_to_error::Segment::Map { key }) if refused_boolean => Some(key.as_str()),
            _ => None,
        };
        match key.and_then(|key| booleans_spelled_canonically(&query, key)) {
            Some(rewritten) => query = std::borrow::Cow::Owned(rewritten),
            None => {
                return Err(ApiError::Validation(vec![field_error(
                    "query",
                    error.path(),
                    &error.inner().to_string(),
                )]));
            }
        }
    }
}

/// `query` with the values of `key` that spell a boolean in another accepted spelling written as
/// `true`/`false`; `None` when none needed rewriting (so the refusal stands).
fn booleans_spelled_canonically(query: &str, key: &str) -> Option<String> {
    let mut pairs: Vec<(String, String)> = serde_html_form::from_str(query).ok()?;
    let mut changed = false;
    for (_, value) in pairs.iter_mut().filter(|(name, _)| name == key) {
        let canonical = match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => "true",
            "false" | "0" | "no" | "off" | "f" | "n" => "false",
            _ => continue,
        };
        if value != canonical {
            *value = canonical.to_owned();
            changed = true;
        }
    }
    changed.then(|| serde_html_form::to_string(&pairs).ok()).flatten()
}

/// A form-encoded (`application/x-www-form-urlencoded`) request body.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_body(&req, &mut payload).await?;
            refuse_encoded_nul(&body)?;
            let deserializer = serde_html_form::Deserializer::from_bytes(&body);
            serde_path_to_error::deserialize(deserializer)
                .map(Form)
                .map_err(|e| ApiError::Validation(vec![field_error("body", e.path(), &e.inner().to_string())]))
        })
    }
}

/// Path parameters, by name.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Path<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if req.match_info().iter().any(|(_, value)| value.contains('\0')) {
            return std::future::ready(Err(nul_refused()));
        }
        let deserializer = actix_router::PathDeserializer::new(req.match_info());
        std::future::ready(serde_path_to_error::deserialize(deserializer).map(Path).map_err(|e| {
            let mut error = field_error("path", e.path(), &e.inner().to_string());
            // A single unnamed parameter: name it after the route's only dynamic segment.
            if error.loc.len() == 1
                && let Some((name, _)) = req.match_info().iter().next()
            {
                error.loc.push(json!(name));
            }
            ApiError::Validation(vec![error])
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::{has_nul_character, refuse_encoded_nul};

    #[test]
    fn a_nul_character_is_found_only_where_it_is_one() {
        assert!(has_nul_character(br#"{"name": "a\u0000b"}"#));
        assert!(has_nul_character(br#"{"tags": ["\\\U0000"]}"#));
        assert!(
            !has_nul_character(br#"{"name": "a\\u0000b"}"#),
            "an escaped backslash, then text"
        );
        assert!(!has_nul_character(br#"{"name": "\u0001"}"#));
        assert!(!has_nul_character(br#"{"name": "plain"}"#));
    }

    #[test]
    fn a_nul_character_in_url_encoded_text_is_found_however_it_is_written() {
        assert!(refuse_encoded_nul(b"q=a%00b").is_err());
        assert!(refuse_encoded_nul(b"username=a\0b").is_err());
        assert!(
            refuse_encoded_nul(b"q=100%25&x=%2500").is_ok(),
            "a percent sign, then digits"
        );
        assert!(refuse_encoded_nul(b"q=plain+text").is_ok());
    }
}
