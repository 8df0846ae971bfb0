//! The authenticated caller, and the checks every handler uses: [`Principal::require`] for a
//! permission, [`authorize_owner`] for data that belongs to a user.

use super::permission::{Permission, PermissionSet};
use super::rbac;
use crate::error::ApiError;
use crate::quotas::StoredQuota;

/// The refusal of a delegated OAuth2 token on what only the user's own sign-in may do.
pub const FIRST_PARTY_ONLY: &str = "This endpoint needs the user's own sign-in; OAuth2 tokens are not accepted";

/// Who is calling. Taken by handlers as an extractor (see [`super::authenticate`]); on routes whose access rule is not
/// `Public` it was already authenticated by the route guard, so extracting it costs nothing.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    /// Lower-case username.
    pub username: String,
    /// Role names, sorted.
    pub roles: Vec<String>,
    /// For an OAuth2 access token: the scopes it was granted (and its client). `None` for the
    /// user's own session (a JWT from `/token`).
    pub scopes: Option<Vec<String>>,
    pub client_id: Option<String>,
    /// The login session of a JWT (what logout revokes).
    pub session_id: Option<String>,
    pub(crate) permissions: PermissionSet,
    /// The user's stored tier, custom limits and request counts (read with the user).
    pub quota: StoredQuota,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.has_role(rbac::ADMIN)
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|held| held == role)
    }

    /// True when the caller's roles (narrowed by a delegated token's scopes) allow `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// `Ok` when the caller may do `permission`, else a 403: for a delegated token that lacks
    /// the scope, which scope it needs; otherwise the permission's own 403 text.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.can(permission) {
            return Ok(());
        }
        match (&self.scopes, permission.scope()) {
            (Some(_), None) => Err(ApiError::Forbidden(FIRST_PARTY_ONLY.into())),
            (Some(_), Some(scope)) if !self.has_scope(scope) => {
                Err(ApiError::Forbidden(format!("Scope '{scope}' required")))
            }
            _ => Err(ApiError::Forbidden(permission.denial())),
        }
    }

    /// True for the user's own session, false for a delegated OAuth2 token.
    pub fn is_first_party(&self) -> bool {
        self.scopes.is_none()
    }

    /// True when a delegated token was granted `scope` (always true for the user's own session).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|scopes| scopes.iter().any(|s| s == scope))
    }
}

/// The object-level check for anything a user owns (reservations, waitlist entries, webhooks,
/// calendar feeds, …): `Ok` for the owner, or for a caller whose roles hold `any` (e.g.
/// [`Permission::ReservationReadAny`]); otherwise `denied`, which should be the `/api/v1`
/// answer for that object — preferably its 404 ("Reservation not found"), so that a stranger
/// cannot even learn the object exists.
pub fn authorize_owner(
    principal: &Principal,
    owner_user_id: i64,
    any: Permission,
    denied: ApiError,
) -> Result<(), ApiError> {
    if principal.user_id == owner_user_id || principal.can(any) {
        Ok(())
    } else {
        Err(denied)
    }
}

/// The distinct, sorted role names in a `role` column (NULL when the user has none).
pub(super) fn role_names(rows: &[crate::storage::Row]) -> Result<Vec<String>, ApiError> {
    let mut roles = rows
        .iter()
        .map(|row| row.get::<Option<String>>("role"))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    roles.sort();
    roles.dedup();
    Ok(roles)
}
