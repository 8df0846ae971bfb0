//! The OAuth2 provider's rows: registered clients, authorization codes and issued tokens, as
//! `routes::oauth` reads and changes them. Secrets arrive here already digested
//! (`secret::digest`); nothing in this module sees a plain code or token. Issuing a token
//! pair is `auth::oauth::issue`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::params;
use crate::storage::{Db, Row, StorageError, Transaction};

/// A client as its owner registers it.
pub struct NewClient<'a> {
    pub client_id: &'a str,
    pub secret_digest: String,
    pub name: &'a str,
    /// The redirect URIs as a JSON array.
    pub redirect_uris: String,
    /// Space-separated.
    pub grant_types: &'a str,
    /// Space-separated.
    pub scope: &'a str,
    pub owner_id: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_client(db: &Db, client: NewClient<'_>) -> Result<(), StorageError> {
    db.execute(
        "INSERT INTO oauth2_clients (client_id, client_secret_hash, client_name, redirect_uris, grant_types, scope, owner_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            client.client_id,
            client.secret_digest,
            client.name,
            client.redirect_uris,
            client.grant_types,
            client.scope,
            client.owner_id,
            client.created_at
        ],
    )
    .await?;
    Ok(())
}

/// A registered client as its owner sees it (no secret).
pub struct ClientSummary {
    pub id: i64,
    pub client_id: String,
    pub client_name: String,
    pub redirect_uris: Value,
    pub grant_types: String,
    pub scope: String,
    pub created_at: DateTime<Utc>,
}

/// The clients `owner_id` registered, oldest first.
pub async fn clients_of(db: &Db, owner_id: i64) -> Result<Vec<ClientSummary>, StorageError> {
    db.query(
        "SELECT id, client_id, client_name, redirect_uris, grant_types, scope, created_at
         FROM oauth2_clients WHERE owner_id = $1 ORDER BY id",
        params![owner_id],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(ClientSummary {
            id: row.get("id")?,
            client_id: row.get("client_id")?,
            client_name: row.get("client_name")?,
            redirect_uris: row.get("redirect_uris")?,
            grant_types: row.get("grant_types")?,
            scope: row.get("scope")?,
            created_at: row.get("created_at")?,
        })
    })
    .collect()
}

/// Deletes `owner_id`'s client `client_id` (its codes and tokens go with it); whether it existed.
pub async fn delete_client(db: &Db, client_id: &str, owner_id: i64) -> Result<bool, StorageError> {
    let deleted = db
        .execute(
            "DELETE FROM oauth2_clients WHERE client_id = $1 AND owner_id = $2",
            params![client_id, owner_id],
        )
        .await?;
    Ok(deleted > 0)
}

/// An authorization code as issued to a user's browser.
pub struct NewCode<'a> {
    pub code_digest: String,
    pub client_id: &'a str,
    pub user_id: i64,
    pub redirect_uri: &'a str,
    /// Space-separated.
    pub scope: String,
    /// The PKCE S256 challenge.
    pub code_challenge: &'a str,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_code(db: &Db, code: NewCode<'_>) -> Result<(), StorageError> {
    db.execute(
        "INSERT INTO oauth2_authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            code.code_digest,
            code.client_id,
            code.user_id,
            code.redirect_uri,
            code.scope,
            code.code_challenge,
            code.expires_at,
            code.created_at
        ],
    )
    .await?;
    Ok(())
}

/// A stored authorization code.
pub struct StoredCode {
    pub client_id: String,
    pub user_id: i64,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: String,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

fn stored_code(row: &Row) -> Result<StoredCode, StorageError> {
    Ok(StoredCode {
        client_id: row.get("client_id")?,
        user_id: row.get("user_id")?,
        redirect_uri: row.get("redirect_uri")?,
        scope: row.get("scope")?,
        code_challenge: row.get("code_challenge")?,
        expires_at: row.get("expires_at")?,
        used: row.get("used")?,
    })
}

/// The code whose digest is `code_digest`, if any.
pub async fn code(tx: &mut dyn Transaction, code_digest: &str) -> Result<Option<StoredCode>, StorageError> {
    tx.query_opt(
        "SELECT client_id, user_id, redirect_uri, scope, code_challenge, expires_at, used
         FROM oauth2_authorization_codes WHERE code_hash = $1",
        params![code_digest],
    )
    .await?
    .as_ref()
    .map(stored_code)
    .transpose()
}

/// Marks the code used; whether this call did (the compare-and-set of concurrent redemptions).
pub async fn claim_code(tx: &mut dyn Transaction, code_digest: &str) -> Result<bool, StorageError> {
    let claimed = tx
        .execute(
            "UPDATE oauth2_authorization_codes SET used = $2 WHERE code_hash = $1 AND used = $3",
            params![code_digest, true, false],
        )
        .await?;
    Ok(claimed == 1)
}

/// An unrevoked token pair found by its refresh token.
pub struct RefreshableToken {
    pub id: i64,
    /// `None`: issued to the client itself.
    pub user_id: Option<i64>,
    pub scope: String,
    pub created_at: DateTime<Utc>,
}

/// `client_id`'s unrevoked token pair whose refresh token digests to `refresh_digest`.
pub async fn refreshable_token(
    tx: &mut dyn Transaction,
    refresh_digest: &str,
    client_id: &str,
) -> Result<Option<RefreshableToken>, StorageError> {
    let Some(row) = tx
        .query_opt(
            "SELECT id, user_id, scope, created_at FROM oauth2_tokens
             WHERE refresh_token_hash = $1 AND client_id = $2 AND revoked = $3",
            params![refresh_digest, client_id, false],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(RefreshableToken {
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        scope: row.get("scope")?,
        created_at: row.get("created_at")?,
    }))
}

/// Revokes the token pair `id`; whether this call did (of two concurrent exchanges, one wins).
pub async fn revoke_token_pair(tx: &mut dyn Transaction, id: i64) -> Result<bool, StorageError> {
    let revoked = tx
        .execute(
            "UPDATE oauth2_tokens SET revoked = $2 WHERE id = $1 AND revoked = $3",
            params![id, true, false],
        )
        .await?;
    Ok(revoked == 1)
}

/// Revokes `client_id`'s token pair whose access or refresh token digests to `token_digest`;
/// whether there was one.
pub async fn revoke_client_token(db: &Db, token_digest: &str, client_id: &str) -> Result<bool, StorageError> {
    let revoked = db
        .execute(
            "UPDATE oauth2_tokens SET revoked = $3
             WHERE client_id = $2 AND (access_token_hash = $1 OR refresh_token_hash = $1)",
            params![token_digest, client_id, true],
        )
        .await?;
    Ok(revoked > 0)
}

/// An access token with the account it acts for (the client's owner for client credentials).
pub struct AccessToken {
    pub scope: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
    pub user_id: i64,
    pub username: String,
    pub user_active: bool,
}

/// `client_id`'s access token that digests to `token_digest`, revoked or not.
pub async fn access_token(db: &Db, token_digest: &str, client_id: &str) -> Result<Option<AccessToken>, StorageError> {
    let Some(row) = db
        .query_opt(
            "SELECT t.scope, t.expires_at, t.created_at, t.revoked, u.id AS user_id, u.username, u.is_active
             FROM oauth2_tokens t
             JOIN oauth2_clients c ON c.client_id = t.client_id
             JOIN users u ON u.id = COALESCE(t.user_id, c.owner_id)
             WHERE t.access_token_hash = $1 AND t.client_id = $2",
            params![token_digest, client_id],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(AccessToken {
        scope: row.get("scope")?,
        expires_at: row.get("expires_at")?,
        created_at: row.get("created_at")?,
        revoked: row.get("revoked")?,
        user_id: row.get("user_id")?,
        username: row.get("username")?,
        user_active: row.get("is_active")?,
    }))
}
