//! The OpenAPI 3.1 document of the API (`/openapi.json`), generated from the route table.
//!
//! What cannot drift is taken from the table itself (`crate::routes::table`, handed in as
//! [`Endpoint`]s by `routes::docs`, since nothing below the routes may use them): the paths and
//! methods, the path parameters, the legacy aliases (marked deprecated), who may call each
//! operation (its security requirements, and the permission of an `Access::Permission` rule in
//! `x-permission` and in words), and the error answers its access rule and inputs can produce,
//! in the shapes of `crate::error`, and the request body and query parameters, from the types of
//! the handler's extractors ([`Inputs`]: the schema derived from the type a `Json` or `Form` body
//! is deserialised into, the parameters derived from the struct a `Query` reads). What the table
//! does not know, the summary, a multipart body and the success answer of each operation, is in
//! [`catalogue`], keyed by
//! method and path; an answer a handler serialises from a Rust type is described by the schema
//! derived from that type (`#[derive(utoipa::ToSchema)]` beside its `Serialize`, see
//! [`schemas::schema_of`]), so that the two cannot drift apart.
//!
//! Invariants, held by `tests/api/openapi.rs`:
//! - every route of the table is in the document, except the dashboard's and the documentation's
//!   own, which [`EXCLUDED`] lists with the reason; a route without a catalogue entry is left out
//!   of the document, so the coverage test fails until it is described;
//! - a catalogue entry for a route that does not exist fails the same test;
//! - every JSON and form request body is the schema derived from the handler's type (a `$ref`
//!   to a derived component), and the bodies the API tests send and the API accepts validate
//!   against it;
//! - every query parameter is one derived from the handler's `Query` types (the unit tests
//!   below);
//! - the answers the API really gives validate against the schemas given here.

mod catalogue;
mod inputs;
mod schemas;

use std::collections::BTreeMap;

use actix_web::http::Method;
use serde_json::{Map, Value, json};

use crate::auth::Access;

use catalogue::Operation;
pub use inputs::Inputs;

/// Routes of the table deliberately left out of the document, by path prefix, with the reason.
pub const EXCLUDED: &[(&str, &str)] = &[
    (
        "/api/v1/web/session",
        "the web dashboard's cookie sign-in; API clients use /api/v1/token",
    ),
    ("/assets/", "the web dashboard's files"),
    ("/index.html", "the web dashboard's shell page"),
    ("/docs", "this documentation's Swagger UI"),
    ("/redoc", "this documentation's ReDoc page"),
    ("/openapi.json", "this document"),
];

/// Whether `path` is one of [`EXCLUDED`] (or the dashboard's shell at `/`).
pub fn excluded(path: &str) -> bool {
    path == "/" || EXCLUDED.iter().any(|(prefix, _)| path.starts_with(prefix))
}

/// A route of the route table, as the document needs it.
#[derive(Debug, Clone)]
pub struct Endpoint<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub access: Access,
    /// A legacy unprefixed alias of the route declared just before it.
    pub alias: bool,
    /// The request body its handler reads ([`Inputs`] of its extractors).
    pub body: fn() -> Option<Value>,
    /// The query parameters its handler reads ([`Inputs`] of its extractors).
    pub query: fn() -> Vec<Value>,
}

/// The OpenAPI document of `endpoints`: each one that is not [`excluded`] and has a catalogue
/// entry becomes an operation (an alias a deprecated copy of its canonical operation).
pub fn document<'a>(endpoints: impl Iterator<Item = Endpoint<'a>>) -> Value {
    let catalogue = catalogue::all();
    let described: BTreeMap<(String, &str), &Operation> = catalogue
        .iter()
        .map(|operation| ((operation.method.to_string(), operation.path), operation))
        .collect();
    let endpoints: Vec<Endpoint<'a>> = endpoints.collect();
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    // An alias has the catalogue entry of the canonical path with the same handler: the
    // endpoint declared just before it with the same method and `alias == false`.
    let mut canonical: Option<&Endpoint> = None;
    for endpoint in &endpoints {
        if !endpoint.alias {
            canonical = Some(endpoint);
        }
        if excluded(endpoint.path) {
            continue;
        }
        let Some(origin) = canonical.filter(|c| c.method == endpoint.method) else {
            continue;
        };
        let Some(operation) = described.get(&(origin.method.to_string(), origin.path)) else {
            continue;
        };
        let mut rendered = render(operation, endpoint);
        if endpoint.alias {
            rendered["deprecated"] = json!(true);
            rendered["operationId"] = json!(format!("{}_legacy", operation_id(endpoint.method, origin.path)));
            rendered["description"] = json!(format!(
                "Legacy unprefixed alias of `{} {}`, kept for the original's clients; use the `/api/v1` path.\n\n{}",
                endpoint.method,
                origin.path,
                rendered["description"].as_str().unwrap_or_default()
            ));
        }
        paths
            .entry(endpoint.path.to_owned())
            .or_default()
            .insert(endpoint.method.as_str().to_ascii_lowercase(), rendered);
    }
    // After the catalogue and the request bodies: the schemas they derived from the handlers'
    // types are among these.
    let components = schemas::components();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Resource Reserver API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Book shared resources without double bookings. Sign in at `POST /api/v1/token` \
                (form fields `username`, `password`) and send the `access_token` as `Authorization: Bearer …`. \
                Each operation says who may call it; `x-permission` names the permission a role must hold. \
                Errors are `{\"detail\": \"…\"}`, or for invalid input a 422 with a list of field errors. \
                Live updates over `/ws` are described in the book (chapter \"WebSocket protocol\").",
            "license": { "name": "MIT", "identifier": "MIT" },
        },
        "tags": tags(&paths),
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": schemas::error_responses(),
            "securitySchemes": security_schemes(),
        },
    })
}

/// One operation: the catalogue's description plus what the table says.
fn render(operation: &Operation, endpoint: &Endpoint<'_>) -> Value {
    let mut parameters: Vec<Value> = path_parameters(endpoint.path)
        .into_iter()
        .map(|name| {
            let schema = operation
                .path_params
                .iter()
                .find(|(param, _)| *param == name)
                .map(|(_, schema)| schema.clone())
                .unwrap_or_else(|| json!({ "type": "integer", "format": "int64" }));
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect();
    parameters.extend((endpoint.query)());
    let mut out = json!({
        "operationId": operation_id(endpoint.method, endpoint.path),
        "summary": operation.summary,
        "description": access_text(endpoint.access, endpoint.method),
        "tags": [tag_of(endpoint.path)],
        "parameters": parameters,
        "responses": responses(operation, endpoint),
    });
    if let Some(body) = (endpoint.body)().or_else(|| operation.body.clone()) {
        out["requestBody"] = body;
    }
    match security(endpoint.access, endpoint.method) {
        Some(security) => out["security"] = security,
        None => out["security"] = json!([]),
    }
    if let Access::Permission(permission) = endpoint.access {
        out["x-permission"] = json!(format!("{}:{}", permission.object(), permission.action()));
    }
    out
}

/// The success answer of the catalogue, then the errors this operation can give.
fn responses(operation: &Operation, endpoint: &Endpoint<'_>) -> Value {
    let mut responses = Map::new();
    for (status, response) in &operation.responses {
        responses.insert(status.to_string(), response.clone());
    }
    let mut errors: Vec<u16> = vec![422, 429, 503];
    if endpoint.access != Access::Public {
        // Not signed in; signed in without the permission or scope (or with a delegated token
        // where only the user's own sign-in will do).
        errors.extend([401, 403]);
    }
    if endpoint.path.contains('{') {
        errors.push(404);
    }
    errors.extend(operation.errors.iter().copied());
    errors.sort_unstable();
    errors.dedup();
    for status in errors {
        responses.entry(status.to_string()).or_insert_with(
            || json!({ "$ref": format!("#/components/responses/{}", schemas::error_response_name(status)) }),
        );
    }
    Value::Object(responses)
}

/// The `{name}` segments of a path template.
fn path_parameters(path: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else { break };
        let name = &rest[start + 1..start + end];
        names.push(name.split(':').next().unwrap_or(name).to_owned());
        rest = &rest[start + end + 1..];
    }
    names
}

/// `post_api_v1_reservations_reservation_id_cancel`: unique, since (method, path) is.
fn operation_id(method: &Method, path: &str) -> String {
    let words: String = path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let words: Vec<&str> = words.split('_').filter(|word| !word.is_empty()).collect();
    format!("{}_{}", method.as_str().to_ascii_lowercase(), words.join("_"))
}

/// The area of a path: its first segment after `/api/v1` (or `/`), so `/resources` and its
/// alias `/api/v1/resources` share a tag.
fn tag_of(path: &str) -> String {
    let rest = path.strip_prefix("/api/v1").unwrap_or(path);
    let first = rest.trim_start_matches('/').split('/').next().unwrap_or_default();
    match first {
        "" | "health" | "ready" | "live" | "metrics" | "api" => "system".into(),
        "register" | "token" | "logout" | "users" => "auth".into(),
        "ws" => "live updates".into(),
        other => other.replace('-', " "),
    }
}

fn tags(paths: &BTreeMap<String, Map<String, Value>>) -> Vec<Value> {
    let mut names: Vec<String> = paths.keys().map(|path| tag_of(path)).collect();
    names.sort();
    names.dedup();
    names.into_iter().map(|name| json!({ "name": name })).collect()
}

/// The OAuth2 scope a delegated token needs for `method` under `Authenticated`.
fn read_or_write(method: &Method) -> &'static str {
    if method == Method::GET || method == Method::HEAD {
        "read"
    } else {
        "write"
    }
}

/// The security requirements of an access rule (any one of them suffices); `None` for public.
fn security(access: Access, method: &Method) -> Option<Value> {
    let oauth = |scope: Option<&str>| scope.map(|scope| json!({ "oauth2": [scope] }));
    let requirements: Vec<Option<Value>> = match access {
        Access::Public => return None,
        Access::Authenticated => {
            vec![
                Some(json!({ "bearer": [] })),
                oauth(Some(read_or_write(method))),
                Some(json!({ "cookie": [] })),
            ]
        }
        Access::Session => vec![Some(json!({ "bearer": [] })), Some(json!({ "cookie": [] }))],
        Access::Permission(permission) => {
            vec![
                Some(json!({ "bearer": [] })),
                oauth(permission.scope()),
                Some(json!({ "cookie": [] })),
            ]
        }
        Access::QueryToken => vec![Some(json!({ "queryToken": [] }))],
    };
    Some(Value::Array(requirements.into_iter().flatten().collect()))
}

/// Who may call an operation, in words, for its description.
fn access_text(access: Access, method: &Method) -> String {
    match access {
        Access::Public => "Public: no credentials needed.".into(),
        Access::Authenticated => format!(
            "Any signed-in caller (a delegated OAuth2 token needs the `{}` scope).",
            read_or_write(method)
        ),
        Access::Session => {
            "Only the user's own sign-in (a token from `/api/v1/token` or the dashboard's cookie), never a delegated \
             OAuth2 token."
                .into()
        }
        Access::Permission(permission) => format!(
            "Requires the permission `{}:{}` (`x-permission`){}.",
            permission.object(),
            permission.action(),
            match permission.scope() {
                Some(scope) => format!("; a delegated OAuth2 token also needs the `{scope}` scope"),
                None => "; never with a delegated OAuth2 token".into(),
            }
        ),
        Access::QueryToken => "Any signed-in caller; the access token goes in the `token` query parameter, since \
             browsers cannot set headers on a WebSocket upgrade."
            .into(),
    }
}

fn security_schemes() -> Value {
    json!({
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from `POST /api/v1/token` (or a delegated one from `POST /api/v1/oauth/token`).",
        },
        "oauth2": {
            "type": "oauth2",
            "description": "Delegated access for a registered OAuth2 client (`/api/v1/oauth/clients`): authorization \
                code with PKCE (`code_challenge_method=S256` is required). Scopes narrow the user's own permissions.",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "/api/v1/oauth/authorize",
                    "tokenUrl": "/api/v1/oauth/token",
                    "refreshUrl": "/api/v1/oauth/token",
                    "scopes": {
                        "read": "See resources, reservations and one's own data",
                        "write": "Book, change and cancel; manage what one's roles allow",
                        "delete": "Delete what one's roles allow",
                        "admin": "Administer the server (with an administrator's roles)",
                    },
                },
            },
        },
        "cookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": crate::web::session::SESSION_COOKIE,
            "description": "The web dashboard's session cookie (`POST /api/v1/web/session`). Writes with it also need \
                the sign-in's CSRF token in the `X-CSRF-Token` header.",
        },
        "queryToken": {
            "type": "apiKey",
            "in": "query",
            "name": "token",
            "description": "An access token in the query string; only for the WebSocket upgrade at `/ws`.",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_read_from_templates() {
        assert_eq!(
            path_parameters("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}"),
            ["webhook_id", "delivery_id"]
        );
        assert_eq!(path_parameters("/api/v1/calendar/feed/{token}.ics"), ["token"]);
        assert!(path_parameters("/health").is_empty());
    }

    #[test]
    fn operation_ids_follow_method_and_path() {
        assert_eq!(
            operation_id(&Method::POST, "/api/v1/reservations/{reservation_id}/cancel"),
            "post_api_v1_reservations_reservation_id_cancel"
        );
    }

    #[test]
    fn every_catalogue_entry_describes_one_route_of_the_table() {
        let table = crate::routes::table();
        let mut seen = std::collections::BTreeSet::new();
        for operation in catalogue::all() {
            assert!(
                table
                    .endpoints()
                    .any(|e| e.method == operation.method && e.path == operation.path && !e.alias),
                "{} {} is described but is not a route",
                operation.method,
                operation.path
            );
            assert!(
                seen.insert((operation.method.to_string(), operation.path)),
                "{} twice",
                operation.path
            );
            for status in &operation.errors {
                assert_ne!(
                    schemas::error_response_name(*status),
                    "",
                    "{status} of {}",
                    operation.path
                );
            }
        }
    }

    /// The document of the server's own route table.
    fn served() -> Value {
        let table = crate::routes::table();
        document(table.endpoints().map(|endpoint| Endpoint {
            method: &endpoint.method,
            path: &endpoint.path,
            access: endpoint.access,
            alias: endpoint.alias,
            body: endpoint.body,
            query: endpoint.query,
        }))
    }

    /// Every `$ref` string under `value`.
    fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(fields) => {
                for (key, field) in fields {
                    match (key.as_str(), field) {
                        ("$ref", Value::String(target)) => found.push(target),
                        _ => references(field, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| references(item, found)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_within_the_document() {
        let doc = served();
        let mut found = Vec::new();
        references(&doc, &mut found);
        assert!(found.len() > 100, "{}", found.len());
        for target in found {
            let pointer = target
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{target} is not local"));
            assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
        }
    }

    #[test]
    fn every_json_and_form_body_is_the_schema_derived_from_the_handlers_type() {
        let doc = served();
        let written = schemas::written();
        let mut bodies = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let content = operation["requestBody"]["content"].as_object().into_iter().flatten();
                for (media_type, content) in content {
                    if media_type == "multipart/form-data" {
                        continue;
                    }
                    bodies += 1;
                    let name = content["schema"]["$ref"]
                        .as_str()
                        .and_then(|target| target.strip_prefix("#/components/schemas/"))
                        .unwrap_or_else(|| panic!("{method} {path} {media_type}: not a derived schema"));
                    assert!(
                        written[name].is_null(),
                        "{method} {path} {media_type}: {name} is written by hand"
                    );
                }
            }
        }
        assert!(bodies > 40, "{bodies}");
    }

    #[test]
    fn the_catalogue_writes_only_bodies_no_handler_type_describes() {
        let table = crate::routes::table();
        let catalogue = catalogue::all();
        for endpoint in table.endpoints().filter(|endpoint| !endpoint.alias) {
            let Some(operation) = catalogue
                .iter()
                .find(|operation| operation.method == endpoint.method && operation.path == endpoint.path)
            else {
                continue;
            };
            let Some(written) = &operation.body else { continue };
            assert!(
                (endpoint.body)().is_none(),
                "{} {}: the handler's type describes the body",
                endpoint.method,
                endpoint.path
            );
            let media_types: Vec<&String> = written["content"].as_object().unwrap().keys().collect();
            assert_eq!(media_types, ["multipart/form-data"], "{}", endpoint.path);
        }
    }

    #[test]
    fn every_query_parameter_is_one_derived_from_the_handlers_types() {
        let doc = served();
        let table = crate::routes::table();
        let mut documented = 0;
        for endpoint in table.endpoints().filter(|endpoint| !excluded(&endpoint.path)) {
            let method = endpoint.method.as_str().to_ascii_lowercase();
            let Some(operation) = doc["paths"][endpoint.path.as_str()].get(&method) else {
                continue;
            };
            let in_query: Vec<&Value> = operation["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|parameter| parameter["in"] == "query")
                .collect();
            let derived = (endpoint.query)();
            assert_eq!(
                in_query,
                derived.iter().collect::<Vec<_>>(),
                "{} {}: not the handler's query parameters",
                endpoint.method,
                endpoint.path
            );
            documented += in_query.len();
        }
        assert!(documented > 150, "{documented}");

        // What serde reads, and what the wire accepts.
        let parameter = |path: &str, method: &str, name: &str| -> Value {
            let parameters = doc["paths"][path][method]["parameters"].as_array().unwrap();
            let found = parameters.iter().find(|parameter| parameter["name"] == name);
            found.cloned().unwrap_or_else(|| panic!("{method} {path}: no {name}"))
        };
        // Two `Query` extractors: the search's filters and the page's parameters.
        let search = "/api/v1/resources/search";
        assert_eq!(
            parameter(search, "get", "label")["schema"]["type"],
            "array",
            "repeatable"
        );
        assert_eq!(parameter(search, "get", "label")["schema"]["maxItems"], 20);
        assert_eq!(
            parameter(search, "get", "available_from")["schema"]["format"],
            "date-time"
        );
        assert_eq!(parameter(search, "get", "limit")["schema"]["maximum"], 100);
        assert_eq!(
            parameter(search, "get", "sort_order")["schema"]["enum"],
            json!(["asc", "desc"])
        );
        // A field without a default is required, one with a serde default or an `Option` is not.
        assert_eq!(
            parameter("/api/v1/search/suggestions", "get", "query")["required"],
            true
        );
        assert_eq!(
            parameter("/api/v1/analytics/dashboard", "get", "days")["required"],
            false
        );
        assert_eq!(parameter("/api/v1/board", "get", "after")["required"], false);
        // Read as an `Option`, refused by the handler when absent.
        assert_eq!(
            parameter("/api/v1/oauth/authorize", "get", "code_challenge")["required"],
            true
        );
        // An alias documents its canonical route's parameters.
        assert_eq!(
            parameter("/resources/search", "get", "label"),
            parameter(search, "get", "label")
        );
    }

    #[test]
    fn every_json_answer_and_body_has_a_schema_that_says_something() {
        let doc = served();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let bodies = operation["responses"]
                    .as_object()
                    .unwrap()
                    .values()
                    .chain(std::iter::once(&operation["requestBody"]));
                for body in bodies {
                    for (media_type, content) in body["content"].as_object().into_iter().flatten() {
                        let schema = content["schema"].as_object();
                        assert!(
                            schema.is_some_and(|schema| !schema.is_empty()),
                            "{method} {path} {media_type}: an empty schema"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn answers_serialised_from_a_type_use_its_derived_schema() {
        let doc = served();
        let schemas = &doc["components"]["schemas"];
        // Derived (with serde's view of the type): a skipped-when-absent field is optional, an
        // `Option` one required and nullable.
        let resource = &schemas["ResourceOut"];
        let required: Vec<&str> = resource["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            required.contains(&"description") && !required.contains(&"labels"),
            "{resource}"
        );
        assert_eq!(
            doc["paths"]["/api/v1/reservations/{reservation_id}"]["get"]["responses"]["200"]["content"]["application/json"]
                ["schema"]["$ref"],
            "#/components/schemas/ReservationOut"
        );
        let statuses = &schemas["ReservationOut"]["properties"]["status"]["enum"];
        assert_eq!(
            statuses.as_array().unwrap().len(),
            reserver_actors::resource::ReservationStatus::ALL.len()
        );
        // The webhook's owner is never written, so it is not described.
        assert!(schemas["WebhookOut"]["properties"]["owner"].is_null());
    }

    #[test]
    fn aliases_share_the_tag_of_their_canonical_path() {
        assert_eq!(tag_of("/api/v1/resources/{resource_id}"), tag_of("/resources"));
        assert_eq!(tag_of("/api/v1/token"), "auth");
    }
}
