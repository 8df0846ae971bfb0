//! The request body of each operation, read from the types of its handler's extractors.
//!
//! The route table records `<Args as RequestBody>::request_body` for every handler it declares
//! (`Args` being the tuple of the handler's extractors), so the body the document gives is the
//! schema derived from the very type the handler deserialises ([`schema_of`]), and a handler
//! that starts reading a body, or reads another type, is documented so without a line in the
//! catalogue.
//!
//! Invariants: every extractor type a handler takes implements [`RequestBody`] (the route table
//! does not compile otherwise); only the body extractors (`Json`, `OptionalJson`, `Form`)
//! describe a body, all others none. A multipart upload is read from the stream by hand, so it
//! has no type to derive from: its body is the catalogue's.

use actix_web::{HttpRequest, web};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::schemas::schema_of;
use crate::auth::Principal;
use crate::auth::booking_names::Viewer;
use crate::http::{Form, Json, OptionalJson, Path, Query};
use crate::wire::time::OutputZone;

/// What an extractor reads of the request body, for the OpenAPI document.
pub trait RequestBody {
    /// The OpenAPI request body object; `None` for an extractor that reads no body.
    fn request_body() -> Option<Value> {
        None
    }
}

/// The request body object of `media_type` whose content is described by `T`.
fn body_of<T: ToSchema>(media_type: &str, required: bool) -> Option<Value> {
    Some(json!({ "required": required, "content": { media_type: { "schema": schema_of::<T>() } } }))
}

const JSON: &str = "application/json";

impl<T: ToSchema> RequestBody for Json<T> {
    fn request_body() -> Option<Value> {
        body_of::<T>(JSON, true)
    }
}

/// A JSON body the handler also accepts absent (`T::default()`).
impl<T: ToSchema> RequestBody for OptionalJson<T> {
    fn request_body() -> Option<Value> {
        body_of::<T>(JSON, false)
    }
}

/// A JSON body the handler reads when there is a valid one (its fields have another source).
impl<T: ToSchema> RequestBody for Option<Json<T>> {
    fn request_body() -> Option<Value> {
        body_of::<T>(JSON, false)
    }
}

impl<T: ToSchema> RequestBody for Form<T> {
    fn request_body() -> Option<Value> {
        body_of::<T>("application/x-www-form-urlencoded", true)
    }
}

// The extractors that read no body.
impl<T> RequestBody for Path<T> {}
impl<T> RequestBody for Query<T> {}
impl<T: ?Sized> RequestBody for web::Data<T> {}
impl RequestBody for HttpRequest {}
impl RequestBody for Principal {}
impl RequestBody for Viewer {}
impl RequestBody for OutputZone {}
impl RequestBody for web::Payload {}
/// Read by hand from the stream: the catalogue describes this body.
impl RequestBody for actix_multipart::Multipart {}

/// A handler's extractors: the body of the one that reads it.
macro_rules! extractors {
    ($($extractor:ident),*) => {
        impl<$($extractor: RequestBody),*> RequestBody for ($($extractor,)*) {
            fn request_body() -> Option<Value> {
                let readers: &[fn() -> Option<Value>] = &[$($extractor::request_body),*];
                readers.iter().find_map(|read| read())
            }
        }
    };
}

extractors!();
extractors!(A);
extractors!(A, B);
extractors!(A, B, C);
extractors!(A, B, C, D);
extractors!(A, B, C, D, E);
extractors!(A, B, C, D, E, F);
extractors!(A, B, C, D, E, F, G);
extractors!(A, B, C, D, E, F, G, H);
