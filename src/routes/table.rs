//! The route table: every endpoint is declared once, with its method, path, access rule and
//! legacy aliases, and mounted from here.
//!
//! Declaring routes as data rather than with attribute macros gives three guarantees:
//! - no endpoint exists without an access rule (the [`Access`] argument is mandatory);
//! - the legacy unprefixed aliases run the very same handler as the canonical path;
//! - a path with several methods answers other methods with a JSON 405, and static segments
//!   always win over dynamic ones (`/resources/search` before `/resources/{resource_id}`)
//!   whatever the declaration order.

use std::collections::BTreeMap;

use actix_web::body::MessageBody;
use actix_web::dev::{HttpServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::web::{self, ServiceConfig};
use actix_web::{FromRequest, Handler, HttpResponse, Responder, Route};

use crate::auth::{Access, guard};
use crate::error::ApiError;
use crate::events::EventWriter;
use crate::http::middleware::catch_panics;
use crate::openapi::Inputs;
use crate::rate_limit::{self, LimitedRoute};

use super::idempotency;

/// One declared endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub method: Method,
    pub path: String,
    pub access: Access,
    /// True for a legacy unprefixed alias of an `/api/v1` endpoint.
    pub alias: bool,
    /// The request body the handler reads, for the OpenAPI document: what its extractors' types
    /// say ([`Inputs`]).
    pub body: fn() -> Option<serde_json::Value>,
    /// The query parameters the handler reads, for the OpenAPI document: what its extractors'
    /// types say ([`Inputs`]).
    pub query: fn() -> Vec<serde_json::Value>,
}

type RouteFactory = Box<dyn Fn() -> Route>;

#[derive(Default)]
pub struct RouteTable {
    entries: Vec<(Endpoint, RouteFactory)>,
}

impl RouteTable {
    pub fn new() -> RouteTable {
        RouteTable::default()
    }

    /// Declares `method path` served by `handler`, and the same handler at each legacy alias.
    pub fn route<F, Args>(
        &mut self,
        method: Method,
        path: &str,
        access: Access,
        aliases: &[&str],
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + Inputs + 'static,
        F::Output: Responder + 'static,
    {
        // Limits follow the canonical path, so an alias shares its endpoint's limit.
        self.declare(method, path, access, aliases, LimitedRoute::of(path), handler)
    }

    /// Declares `method path` served by `handler`, counted in the rate-limit bucket of the
    /// endpoint `counted_as`: a second door to the same thing (the dashboard's sign-in is
    /// limited as `/api/v1/token` is, and shares its allowance).
    pub fn route_counted_as<F, Args>(
        &mut self,
        method: Method,
        path: &str,
        access: Access,
        counted_as: &str,
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + Inputs + 'static,
        F::Output: Responder + 'static,
    {
        self.declare(method, path, access, &[], LimitedRoute::like(path, counted_as), handler)
    }

    fn declare<F, Args>(
        &mut self,
        method: Method,
        path: &str,
        access: Access,
        aliases: &[&str],
        limited: Option<std::sync::Arc<LimitedRoute>>,
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + Inputs + 'static,
        F::Output: Responder + 'static,
    {
        for (index, path) in std::iter::once(path).chain(aliases.iter().copied()).enumerate() {
            let endpoint = Endpoint {
                method: method.clone(),
                path: path.to_owned(),
                access,
                alias: index > 0,
                body: Args::request_body,
                query: Args::query_parameters,
            };
            let (method, handler, limited) = (method.clone(), handler.clone(), limited.clone());
            self.entries.push((
                endpoint,
                Box::new(move || {
                    let route = web::method(method.clone()).to(handler.clone());
                    let route = if method == Method::GET || method == Method::HEAD {
                        route
                    } else {
                        route.wrap(from_fn(count_change))
                    };
                    let route = route
                        .wrap(from_fn(idempotency::remember))
                        .wrap(from_fn(move |req, next| guard::enforce(access, req, next)));
                    match limited.clone() {
                        Some(limited) => route.wrap(from_fn(move |req, next| {
                            rate_limit::enforce(limited.clone(), req, next)
                        })),
                        None => route,
                    }
                }),
            ));
        }
        self
    }

    pub fn get<F, Args>(&mut self, path: &str, access: Access, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + Inputs + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::GET, path, access, &[], handler)
    }

    /// Every declared endpoint, aliases included.
    pub fn endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.entries.iter().map(|(endpoint, _)| endpoint)
    }

    /// Mounts the table: one actix resource per path, static paths before dynamic ones, each
    /// with its own panic guard (it must sit below routing: it keeps a handle on the request),
    /// and each route behind the access guard of its [`Access`] rule. The `/api/v1` paths are
    /// grouped in one scope per area ([`area_scope`]): the router tries resources one by one,
    /// matching each dynamic one with a regex, so it now tries the area prefixes, then only
    /// that area's resources, not every one of the table's. A path matching no resource of its
    /// scope falls through to the application's default (404) as before.
    pub fn mount(&self, cfg: &mut ServiceConfig) {
        type Resources<'a> = BTreeMap<(Vec<bool>, &'a str), Vec<&'a RouteFactory>>;
        let mut by_scope: BTreeMap<&str, Resources> = BTreeMap::new();
        for (endpoint, factory) in &self.entries {
            let dynamic_segments = endpoint.path.split('/').map(|segment| segment.contains('{')).collect();
            by_scope
                .entry(area_scope(&endpoint.path))
                .or_default()
                .entry((dynamic_segments, endpoint.path.as_str()))
                .or_default()
                .push(factory);
        }
        // The areas first: the paths outside them (probes, documents, the original's aliases)
        // include catch-all patterns, which would otherwise be tried on every API request.
        let unscoped = by_scope.remove("").unwrap_or_default();
        for (scope, resources) in by_scope {
            let resources = resources
                .into_iter()
                .map(|((_, path), factories)| mounted(&path[scope.len()..], factories));
            cfg.service(resources.fold(web::scope(scope), |scope, resource| scope.service(resource)));
        }
        for ((_, path), factories) in unscoped {
            cfg.service(mounted(path, factories));
        }
    }
}

/// The scope `path` is mounted under: `/api/v1/<area>` when the area is a static segment (the
/// whole path, when that is all it is), else none (`""`).
fn area_scope(path: &str) -> &str {
    const API: &str = "/api/v1/";
    let Some(rest) = path.strip_prefix(API) else {
        return "";
    };
    let area = rest.split('/').next().unwrap_or_default();
    if area.is_empty() || area.contains('{') {
        return "";
    }
    &path[..API.len() + area.len()]
}

/// The actix resource at `path` (relative to its scope) with `factories`' routes.
fn mounted(path: &str, factories: Vec<&RouteFactory>) -> impl HttpServiceFactory + use<> {
    factories
        .into_iter()
        .fold(web::resource(path), |resource, factory| resource.route(factory()))
        .default_service(web::to(method_not_allowed))
        .wrap(from_fn(catch_panics))
}

/// Around every write: once its handler is done (its transaction committed or not), and before
/// its answer leaves, moves the change count, so that no cached read made before the write is
/// served after it (`resources::pages`), whatever the write changed.
async fn count_change(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let changes = req.app_data::<web::Data<EventWriter>>().cloned();
    let response = next.call(req).await;
    if let Some(changes) = changes {
        changes.changed();
    }
    response
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

/// The answer to a path that matches no route.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("Not Found".into()))
}

#[cfg(test)]
mod tests {
    use super::area_scope;

    #[test]
    fn api_paths_are_scoped_by_their_static_area() {
        assert_eq!(area_scope("/api/v1/resources/{id}/availability"), "/api/v1/resources");
        assert_eq!(area_scope("/api/v1/resources"), "/api/v1/resources");
        assert_eq!(area_scope("/api/v1/logout"), "/api/v1/logout");
        assert_eq!(area_scope("/api/v1/{area}/x"), "");
        assert_eq!(area_scope("/api/versions"), "");
        assert_eq!(area_scope("/resources/search"), "");
        assert_eq!(area_scope("/api/v1/"), "");
    }
}
