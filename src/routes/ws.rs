//! `GET /ws?token=<access JWT>`: live updates over a WebSocket (see `crate::events`).
//!
//! The token comes in the query string because browsers cannot set headers on a WebSocket
//! upgrade; the route guard authenticates it (`Access::QueryToken`) before the handshake, so a
//! missing or invalid token is an HTTP 401 and no socket is opened. Without `token`, the
//! dashboard's session cookie authenticates the upgrade, and only with a same-origin `Origin`
//! (a 403 otherwise: another site's page must not open a socket with the visitor's cookie). Optional parameters:
//! `since=<seq>` to resume after a disconnect, `resources=1,2` and `availability=true` to
//! subscribe at once (so that a resumed replay covers the subscriptions too), and `group=ID` to
//! follow a resource group: every resource under it, its subgroups included, as the hierarchy
//! changes (the `subscribe` message's `groups`; see `crate::events::hierarchy`).
//!
//! The socket lives as long as its sign-in (see `crate::events::session`): the route gives the
//! session the token, the way to verify tokens (the same as every request's) and what it needs
//! to know of the caller (its user, its sign-in, whether it may subscribe to resources).

use std::rc::Rc;

use actix_web::{HttpRequest, HttpResponse, web};
use reserver_actors::notifier::{Interests, Login};
use serde::Deserialize;

use super::table::RouteTable;
use crate::auth::{Access, Permission, Principal};
use crate::error::ApiError;
use crate::events::MAX_SUBSCRIPTIONS;
use crate::events::session::{self, Caller, Credentials, Grant, Verify};
use crate::http::Query;
use crate::state::AppState;
use crate::web::session::BrowserSessions;

pub fn declare(table: &mut RouteTable) {
    table.get("/ws", Access::QueryToken, connect);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Params {
    /// The access token; a browser signed in to the dashboard may leave it out, its session
    /// cookie is read instead.
    // Either was authenticated by the route guard already.
    token: Option<String>,
    since: Option<i64>,
    resources: Option<String>,
    #[serde(default)]
    availability: bool,
    /// Every resource under this resource group (subgroups included), followed as it changes.
    group: Option<i64>,
}

/// `1,2,3` → ids (an empty list for an empty or absent parameter).
fn resource_ids(raw: Option<&str>) -> Result<Vec<i64>, ApiError> {
    let ids = raw
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::parse::<i64>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::invalid(&["query", "resources"], "expected comma-separated resource ids", raw))?;
    if ids.len() > MAX_SUBSCRIPTIONS {
        return Err(ApiError::invalid(
            &["query", "resources"],
            format!("at most {MAX_SUBSCRIPTIONS} resources"),
            ids.len(),
        ));
    }
    Ok(ids)
}

/// What the session needs to know of the caller.
fn socket_caller(principal: &Principal) -> Caller {
    Caller {
        user_id: principal.user_id,
        login: principal.session_id.as_deref().map(Login::from),
        subscribe_denial: (!principal.can(Permission::ResourceRead)).then(|| Permission::ResourceRead.denial()),
    }
}

/// Verifies a token as every request's is, and reads its expiry.
fn verifier(state: web::Data<AppState>) -> Verify {
    Rc::new(move |token: String| {
        let state = state.clone();
        Box::pin(async move {
            let authenticator = state.authenticator();
            let principal = authenticator.principal(Some(&token)).await?;
            let expires_at = authenticator.expires_at(&token).await?;
            Ok(Grant {
                caller: socket_caller(&principal),
                expires_at,
            })
        })
    })
}

async fn connect(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    principal: Principal,
    Query(params): Query<Params>,
) -> Result<HttpResponse, ApiError> {
    let resources = resource_ids(params.resources.as_deref())?;
    if let Some(group) = params.group {
        principal.require(Permission::ResourceRead)?;
        if !crate::groups::group_exists(&state.db, group).await? {
            return Err(ApiError::NotFound("Resource group not found".into()));
        }
    }
    if !resources.is_empty() || params.availability {
        principal.require(Permission::ResourceRead)?;
    }
    if params.since.is_some_and(|since| since < 0) {
        return Err(ApiError::invalid(
            &["query", "since"],
            "since must not be negative",
            params.since,
        ));
    }
    let (response, ws, stream) = actix_ws::handle(&req, body)
        .map_err(|error| ApiError::BadRequest(format!("A WebSocket upgrade is expected: {error}")))?;
    let interests = Interests {
        user: principal.user_id,
        resources: resources.into_iter().collect(),
        availability: params.availability,
        groups: params.group.into_iter().collect(),
    };
    let credentials = Credentials {
        caller: socket_caller(&principal),
        token: params
            .token
            .filter(|token| !token.is_empty())
            .or_else(|| BrowserSessions::access_cookie(&req))
            .ok_or_else(|| ApiError::Unauthorized(crate::auth::NOT_AUTHENTICATED.into()))?,
        verify: verifier(state.clone()),
    };
    session::start(state.events.clone(), credentials, interests, params.since, ws, stream).await?;
    Ok(response)
}
