//! The route guard: the one place where every route's [`Access`] rule is enforced.
//!
//! The route table wraps each declared route with [`enforce`], so it runs after routing (the
//! route, and so its rule, is known) and before the handler's extractors. It authenticates the
//! caller once and leaves the [`Principal`] in the request's extensions for the handler.

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

use super::access::Access;
use super::authenticate::{self, Authenticator};
use super::principal::{FIRST_PARTY_ONLY, Principal};
use crate::error::ApiError;

pub async fn enforce(
    access: Access,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if access == Access::Public {
        return next.call(req).await;
    }
    match admit(access, &req).await {
        Ok(principal) => {
            tracing::Span::current().record("user_id", principal.user_id);
            req.extensions_mut().insert(principal);
            next.call(req).await
        }
        Err(error) => Ok(req.error_response(error)),
    }
}

async fn admit(access: Access, req: &ServiceRequest) -> Result<Principal, ApiError> {
    let authenticator = Authenticator::of(req.request())?;
    let principal = match access {
        Access::QueryToken => match query_token(req.query_string()) {
            Some(token) => authenticator.principal(Some(&token)).await?,
            None => authenticate::socket_cookie_principal(req.request(), &authenticator).await?,
        },
        _ => authenticate::request_principal(req.request(), &authenticator).await?,
    };
    match access {
        Access::Public | Access::Authenticated | Access::QueryToken => {
            let scope = if matches!(*req.method(), Method::GET | Method::HEAD) {
                "read"
            } else {
                "write"
            };
            if !principal.has_scope(scope) {
                return Err(ApiError::Forbidden(format!("Scope '{scope}' required")));
            }
        }
        Access::Session => {
            if !principal.is_first_party() {
                return Err(ApiError::Forbidden(FIRST_PARTY_ONLY.into()));
            }
        }
        Access::Permission(permission) => principal.require(permission)?,
    }
    Ok(principal)
}

/// The `token` query parameter (WebSocket upgrades; without it, the session cookie).
fn query_token(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "token")
        .map(|(_, token)| token.into_owned())
        .filter(|token| !token.is_empty())
}
