//! What each operation reads of the request, its body and its query parameters, taken from the
//! types of its handler's extractors.
//!
//! The route table records `<Args as Inputs>::request_body` and `<Args as
//! Inputs>::query_parameters` for every handler it declares (`Args` being the tuple of the
//! handler's extractors), so the body the document gives is the schema derived from the very type
//! the handler deserialises ([`schema_of`]), its query parameters those derived from the very
//! struct it reads the query string into (`#[derive(utoipa::IntoParams)]`, which honours its serde
//! attributes), and a handler that starts reading a body or a parameter, or reads another type, is
//! documented so without a line in the catalogue.
//!
//! Invariants: every extractor type a handler takes implements [`Inputs`] (the route table does
//! not compile otherwise); only the body extractors (`Json`, `OptionalJson`, `Form`) describe a
//! body and only `Query` describes query parameters, all others nothing. A multipart upload is
//! read from the stream by hand, so it has no type to derive from: its body is the catalogue's.

use actix_web::{HttpRequest, web};
use serde_json::{Value, json};
use utoipa::openapi::path::ParameterIn;
use utoipa::{IntoParams, ToSchema};

use super::schemas::schema_of;
use crate::auth::Principal;
use crate::auth::booking_names::Viewer;
use crate::http::{Form, Json, OptionalJson, Path, Query};
use crate::wire::time::OutputZone;

/// What an extractor reads of the request, for the OpenAPI document.
pub trait Inputs {
    /// The OpenAPI request body object; `None` for an extractor that reads no body.
    fn request_body() -> Option<Value> {
        None
    }

    /// The OpenAPI parameter objects of the query string it reads; none for most extractors.
    fn query_parameters() -> Vec<Value> {
        Vec::new()
    }
}

/// The request body object of `media_type` whose content is described by `T`.
fn body_of<T: ToSchema>(media_type: &str, required: bool) -> Option<Value> {
    Some(json!({ "required": required, "content": { media_type: { "schema": schema_of::<T>() } } }))
}

const JSON: &str = "application/json";

impl<T: ToSchema> Inputs for Json<T> {
    fn request_body() -> Option<Value> {
        body_of::<T>(JSON, true)
    }
}

/// A JSON body the handler also accepts absent (`T::default()`).
impl<T: ToSchema> Inputs for OptionalJson<T> {
    fn request_body() -> Option<Value> {
        body_of::<T>(JSON, false)
    }
}

/// A JSON body the handler reads when there is a valid one (its fields have another source).
impl<T: ToSchema> Inputs for Option<Json<T>> {
    fn request_body() -> Option<Value> {
        body_of::<T>(JSON, false)
    }
}

impl<T: ToSchema> Inputs for Form<T> {
    fn request_body() -> Option<Value> {
        body_of::<T>("application/x-www-form-urlencoded", true)
    }
}

/// The parameters derived from `T` (`#[derive(IntoParams)]`).
impl<T: IntoParams> Inputs for Query<T> {
    fn query_parameters() -> Vec<Value> {
        T::into_params(|| Some(ParameterIn::Query))
            .into_iter()
            .filter_map(|parameter| serde_json::to_value(parameter).ok())
            .collect()
    }
}

// The extractors that read neither a body nor the query string.
impl<T> Inputs for Path<T> {}
impl<T: ?Sized> Inputs for web::Data<T> {}
impl Inputs for HttpRequest {}
impl Inputs for Principal {}
impl Inputs for Viewer {}
impl Inputs for OutputZone {}
impl Inputs for web::Payload {}
/// Read by hand from the stream: the catalogue describes this body.
impl Inputs for actix_multipart::Multipart {}

/// A handler's extractors: the body of the one that reads it, the query parameters of all.
macro_rules! extractors {
    ($($extractor:ident),*) => {
        impl<$($extractor: Inputs),*> Inputs for ($($extractor,)*) {
            fn request_body() -> Option<Value> {
                let readers: &[fn() -> Option<Value>] = &[$($extractor::request_body),*];
                readers.iter().find_map(|read| read())
            }

            fn query_parameters() -> Vec<Value> {
                let readers: &[fn() -> Vec<Value>] = &[$($extractor::query_parameters),*];
                readers.iter().flat_map(|read| read()).collect()
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

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use utoipa::IntoParams;

    use super::*;

    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[allow(dead_code)]
    struct Filters {
        #[serde(rename = "q")]
        text: String,
        #[serde(default)]
        all: bool,
    }

    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    #[allow(dead_code)]
    struct Paging {
        limit: Option<i64>,
    }

    #[test]
    fn the_query_parameters_of_a_handler_are_those_of_all_its_query_extractors() {
        let parameters = <(Path<i64>, Query<Filters>, web::Data<()>, Query<Paging>)>::query_parameters();
        let summary: Vec<(&str, &Value, &Value)> = parameters
            .iter()
            .map(|parameter| {
                (
                    parameter["name"].as_str().unwrap_or_default(),
                    &parameter["required"],
                    &parameter["schema"]["type"],
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("q", &json!(true), &json!("string")),
                ("all", &json!(false), &json!("boolean")),
                // Optional, never `null`: a query string cannot send one.
                ("limit", &json!(false), &json!("integer")),
            ]
        );
        assert!(parameters.iter().all(|parameter| parameter["in"] == "query"));
        assert!(<(Path<i64>, Json<Value>)>::query_parameters().is_empty());
    }
}
