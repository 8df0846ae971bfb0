//! OAuth2 access tokens as API credentials.
//!
//! Opaque 256-bit tokens, stored as SHA-256. A token acts for its user (authorization-code
//! grant) or, for the client-credentials grant, for the client's owner — and only within its
//! scopes: the caller's role permissions are narrowed to those the scopes cover.

use chrono::{DateTime, Utc};

use reserver_actors::Clock;

use super::principal::{Principal, role_names};
use super::{Auth, bad_credentials};
use crate::error::ApiError;
use crate::params;
use crate::quotas::{StoredQuota, stored_quota_columns};
use crate::secret;
use crate::storage::Db;

/// Splits a space-separated scope string.
pub fn scopes(scope: &str) -> Vec<String> {
    scope.split_whitespace().map(str::to_owned).collect()
}

pub async fn principal(db: &Db, clock: &dyn Clock, auth: &Auth, token: &str) -> Result<Principal, ApiError> {
    let rows = db
        .query(
            concat!(
                "SELECT u.id, u.username, u.is_active, t.scope, t.client_id, t.expires_at, t.revoked, r.name AS role, ",
                stored_quota_columns!(),
                " FROM oauth2_tokens t
                 JOIN oauth2_clients c ON c.client_id = t.client_id
                 JOIN users u ON u.id = COALESCE(t.user_id, c.owner_id)
                 LEFT JOIN user_roles ur ON ur.user_id = u.id
                 LEFT JOIN roles r ON r.id = ur.role_id
                 LEFT JOIN api_quotas q ON q.user_id = u.id
                 WHERE t.access_token_hash = $1"
            ),
            params![secret::digest(token)],
        )
        .await?;
    let first = rows.first().ok_or_else(bad_credentials)?;
    let live = first.get::<bool>("is_active")?
        && !first.get::<bool>("revoked")?
        && first.get::<DateTime<Utc>>("expires_at")? > clock.now();
    if !live {
        return Err(bad_credentials());
    }
    let roles = role_names(&rows)?;
    let granted = scopes(&first.get::<String>("scope")?);
    let permissions = auth
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
        quota: StoredQuota::from_row(first)?,
    })
}

/// Scopes a client may be registered for.
pub const KNOWN_SCOPES: &[&str] = &["read", "write", "delete", "admin", "user:profile"];
/// Grant types a client may be registered for.
pub const KNOWN_GRANTS: &[&str] = &["authorization_code", "client_credentials", "refresh_token"];
/// Lifetime of an OAuth2 access token: one hour.
pub const ACCESS_TOKEN_SECONDS: i64 = 3600;
/// Lifetime of an authorization code.
pub const CODE_SECONDS: i64 = 600;

/// A registered client, as the token endpoints need it.
pub struct Client {
    pub client_id: String,
    pub owner_id: i64,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scope: Vec<String>,
}

impl Client {
    pub fn allows_grant(&self, grant: &str) -> bool {
        // A client that may obtain refresh tokens may also use them.
        self.grant_types.iter().any(|g| g == grant)
            || (grant == "refresh_token" && self.grant_types.iter().any(|g| g == "authorization_code"))
    }

    /// True when every requested scope is one the client was registered for.
    pub fn covers(&self, requested: &[String]) -> bool {
        !requested.is_empty() && requested.iter().all(|s| self.scope.contains(s))
    }
}

/// A client of an active owner: a disabled owner's clients are unknown (they get no tokens, and
/// their tokens stop working at once, since [`principal`] checks the owner too).
async fn client_row(db: &Db, client_id: &str) -> Result<Option<(Client, String)>, ApiError> {
    let Some(row) = db
        .query_opt(
            "SELECT c.client_id, c.client_secret_hash, c.owner_id, c.redirect_uris, c.grant_types, c.scope
             FROM oauth2_clients c JOIN users u ON u.id = c.owner_id
             WHERE c.client_id = $1 AND u.is_active = $2",
            params![client_id, true],
        )
        .await?
    else {
        return Ok(None);
    };
    let uris: serde_json::Value = row.get("redirect_uris")?;
    let client = Client {
        client_id: row.get("client_id")?,
        owner_id: row.get("owner_id")?,
        redirect_uris: serde_json::from_value(uris).unwrap_or_default(),
        grant_types: scopes(&row.get::<String>("grant_types")?),
        scope: scopes(&row.get::<String>("scope")?),
    };
    Ok(Some((client, row.get("client_secret_hash")?)))
}

/// A registered client by id, whatever the caller (for the authorization endpoint).
pub async fn client(db: &Db, client_id: &str) -> Result<Option<Client>, ApiError> {
    Ok(client_row(db, client_id).await?.map(|(client, _)| client))
}

/// The client whose id and secret these are; a 401 otherwise.
pub async fn authenticate_client(db: &Db, client_id: &str, client_secret: &str) -> Result<Client, ApiError> {
    let invalid = || ApiError::Unauthorized("Invalid client credentials".into());
    let (client, secret_hash) = client_row(db, client_id).await?.ok_or_else(invalid)?;
    if secret::same(&secret::digest(client_secret), &secret_hash) {
        Ok(client)
    } else {
        Err(invalid())
    }
}

/// Issued OAuth2 tokens.
pub struct Grant {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// Stores and returns a new token pair for `client` acting for `user_id` (`None`: the client
/// itself, client credentials).
pub async fn issue(
    clock: &dyn Clock,
    tx: &mut dyn crate::storage::Transaction,
    client_id: &str,
    user_id: Option<i64>,
    scope: &str,
    with_refresh: bool,
) -> Result<Grant, ApiError> {
    let now = clock.now();
    let access_token = secret::random_token(48)?;
    let refresh_token = if with_refresh {
        Some(secret::random_token(48)?)
    } else {
        None
    };
    tx.execute(
        "INSERT INTO oauth2_tokens (client_id, user_id, access_token_hash, refresh_token_hash, scope, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            client_id,
            user_id,
            secret::digest(&access_token),
            refresh_token.as_deref().map(secret::digest),
            scope,
            now + chrono::Duration::seconds(ACCESS_TOKEN_SECONDS),
            now
        ],
    )
    .await?;
    Ok(Grant {
        access_token,
        refresh_token,
        scope: scope.to_owned(),
    })
}
