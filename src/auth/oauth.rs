//! OAuth2 access tokens as API credentials.
//!
//! Opaque 256-bit tokens, stored as SHA-256. A token acts for its user (authorization-code
//! grant) or, for the client-credentials grant, for the client's owner — and only within its
//! scopes: the caller's role permissions are narrowed to those the scopes cover.

use chrono::{DateTime, Utc};

use super::authenticate::role_names;
use super::principal::Principal;
use super::{bad_credentials, secret};
use crate::error::ApiError;
use crate::params;
use crate::state::AppState;

/// Splits a space-separated scope string.
pub fn scopes(scope: &str) -> Vec<String> {
    scope.split_whitespace().map(str::to_owned).collect()
}

pub async fn principal(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let rows = state
        .db
        .query(
            "SELECT u.id, u.username, u.is_active, t.scope, t.client_id, t.expires_at, t.revoked, r.name AS role
             FROM oauth2_tokens t
             JOIN oauth2_clients c ON c.client_id = t.client_id
             JOIN users u ON u.id = COALESCE(t.user_id, c.owner_id)
             LEFT JOIN user_roles ur ON ur.user_id = u.id
             LEFT JOIN roles r ON r.id = ur.role_id
             WHERE t.access_token_hash = $1",
            params![secret::digest(token)],
        )
        .await?;
    let first = rows.first().ok_or_else(bad_credentials)?;
    let live = first.get::<bool>("is_active")?
        && !first.get::<bool>("revoked")?
        && first.get::<DateTime<Utc>>("expires_at")? > state.clock.now();
    if !live {
        return Err(bad_credentials());
    }
    let roles = role_names(&rows)?;
    let granted = scopes(&first.get::<String>("scope")?);
    let permissions = state
        .auth
        .authorizer
        .permissions(roles.iter().map(String::as_str))
        .await?
        .within_scopes(&granted);
    Ok(Principal {
        user_id: first.get("id")?,
        username: first.get("username")?,
        roles,
        scopes: Some(granted),
        client_id: Some(first.get("client_id")?),
        session_id: None,
        permissions,
    })
}
