//! Identity and access: who the caller is and what they may do.
//!
//! - [`Principal`]: the authenticated caller, an extractor for handlers; [`Principal::require`]
//!   checks a [`Permission`], [`authorize_owner`] checks access to a user's own data;
//!   [`booking_names`]: whose name a caller may see on a booking (`RESERVATION_NAMES_VISIBLE`).
//! - [`guard`]: enforces each route's `Access` rule, for every route of the table.
//! - [`rbac`]: the casbin policy (roles × permissions); [`permission`]: the permissions.
//! - [`jwt`]: access tokens; [`sessions`]: login sessions and rotating refresh tokens;
//!   [`lockout`]: failed-login throttling; [`password`]: argon2id and the password policy;
//!   [`mfa`]: TOTP and backup codes; [`mfa_store`]: an account's MFA state as stored;
//!   [`mfa_lockout`]: wrong codes counted per account;
//!   [`oauth`]: OAuth2 clients, codes and tokens ([`oauth_store`]: their rows);
//!   [`roles`]: the stored roles; [`profile`]: a user's own details and preferences;
//!   [`setup`]: first-run setup; [`audit`]: the security audit log ([`audit_log`]: reading and pruning it); [`users`]: the account store;
//!   [`user_admin`]: the user list and administrators' changes to accounts.
//!
//! Rules every part of `auth` keeps:
//! - A handler that reads or changes data owned by a user calls [`authorize_owner`] with the
//!   "any" permission that lets others through; owners pass, anyone else gets the given error —
//!   prefer a 404, so a stranger cannot tell the object exists. Lists filter by the caller unless
//!   the caller holds the "any" permission.
//! - Time (token expiry, lockout windows, code lifetimes) is read from the injected clock, never
//!   the system clock, so tests move a `ManualClock`.
//! - Secrets a client presents (refresh and OAuth2 tokens, codes, client secrets; 256-bit random)
//!   are stored only as SHA-256; short ones (backup codes) and passwords as argon2id; secrets are
//!   compared in constant time.
//! - Casbin computes each role's permission set once (policies change only with a release), so a
//!   permission check is a bit test.
//! - Revoking sign-ins is one function, [`sessions::revoke_all`], in the caller's transaction:
//!   logout, a password reset by an admin and disabling an account call it, and whatever must
//!   follow a revocation (closing live sockets) hangs off it.
//! - `auth` knows nothing of resources or reservations; the audit log never fails the request
//!   that caused it.

pub mod access;
pub mod audit;
pub mod audit_log;
pub mod authenticate;
pub mod booking_names;
pub mod guard;
pub mod jwt;
pub mod lockout;
pub mod mfa;
pub mod mfa_lockout;
pub mod mfa_store;
pub mod oauth;
pub mod oauth_store;
pub mod password;
pub mod permission;
pub mod principal;
pub mod profile;
pub mod rbac;
pub mod roles;
pub mod sessions;
pub mod setup;
pub mod user_admin;
pub mod users;

pub use access::Access;
pub use permission::{Permission, PermissionSet};
pub use principal::{Principal, authorize_owner};

use crate::error::ApiError;

/// The answer to a protected route called without credentials (wire format).
pub const NOT_AUTHENTICATED: &str = "Not authenticated";

/// The answer to a bad, expired or revoked token (wire format).
pub fn bad_credentials() -> ApiError {
    ApiError::Unauthorized("Could not validate credentials".into())
}

/// What the identity layer keeps for the life of the server.
pub struct Auth {
    pub keys: jwt::TokenKeys,
    pub authorizer: rbac::Authorizer,
    /// The one-time setup token logged at start-up while setup is incomplete.
    pub setup_token: Option<String>,
}
