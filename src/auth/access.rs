//! Who may call an endpoint: the access rule every route declares (see the route table,
//! `crate::routes::table`), enforced by [`super::guard`].

use super::Permission;

/// Who may call an endpoint. Enforced for every route by [`crate::auth::guard`], which also
/// hands the authenticated [`crate::auth::Principal`] to the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials.
    Public,
    /// Any authenticated caller, whatever their roles. A delegated OAuth2 token needs the `read`
    /// scope for GET and HEAD, `write` for other methods.
    Authenticated,
    /// Only the user's own sign-in (a JWT from `/token`), never a delegated OAuth2 token: for
    /// managing the identity itself (MFA, OAuth2 clients, sign-out).
    Session,
    /// A caller whose roles (narrowed by a delegated token's scopes) hold this permission.
    Permission(Permission),
    /// Any authenticated caller, like `Authenticated`, but the access token comes in the `token`
    /// query parameter: browsers cannot set headers on a WebSocket upgrade (`/ws`).
    QueryToken,
}
