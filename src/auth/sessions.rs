//! Login sessions and rotating refresh tokens (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP §4.14).
//!
//! A login opens a session (the refresh-token "family"). A refresh token is 256 random bits,
//! stored only as its SHA-256, valid once: exchanging it marks it rotated and issues the next.
//! Presenting a rotated token again means it was stolen (or the legitimate client was raced):
//! the whole session is revoked, which also ends its access tokens, since each access token
//! names its session and the route guard checks it. [`revoke_all`] ends all of a user's
//! sessions and OAuth2 grants at once. Every revocation is also recorded for the live sockets
//! (`events::revoke_sign_in`), so the sockets opened with those sign-ins close too, on every
//! server process.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reserver_actors::Clock;

use super::jwt::TokenKeys;
use crate::error::ApiError;
use crate::params;
use crate::secret;
use crate::storage::{Db, Transaction};

/// What opening and refreshing sessions needs: where they are stored, the time, the signing
/// keys, and how long each kind of token lasts.
pub struct Sessions<'a> {
    pub db: &'a Db,
    pub clock: &'a dyn Clock,
    pub keys: &'a TokenKeys,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
}

/// A new session's (or a rotation's) credentials.
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
}

/// Why a refresh was refused, with the messages `/api/v1` clients know.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("Invalid refresh token")]
    Unknown,
    #[error("Refresh token has been revoked")]
    Revoked,
    #[error("Refresh token has expired")]
    Expired,
    #[error("User not found")]
    NoUser,
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<RefreshError> for ApiError {
    fn from(error: RefreshError) -> ApiError {
        match error {
            RefreshError::Api(error) => error,
            other => ApiError::Unauthorized(other.to_string()),
        }
    }
}

impl From<crate::storage::StorageError> for RefreshError {
    fn from(error: crate::storage::StorageError) -> RefreshError {
        RefreshError::Api(error.into())
    }
}

async fn store_refresh_token(
    sessions: &Sessions<'_>,
    tx: &mut dyn Transaction,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    let token = secret::random_token(32)?;
    let ttl = chrono::Duration::from_std(sessions.refresh_token_ttl).unwrap_or(chrono::Duration::days(7));
    tx.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at, created_at) VALUES ($1, $2, $3, $4)",
        params![secret::digest(&token), session_id, now + ttl, now],
    )
    .await?;
    Ok(token)
}

fn access_token(
    sessions: &Sessions<'_>,
    username: &str,
    user_id: i64,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    sessions
        .keys
        .issue(username, user_id, session_id, now, sessions.access_token_ttl)
        .map_err(|e| ApiError::internal_context("signing a token", e))
}

/// Opens a session for a user who just proved who they are.
pub async fn open(sessions: &Sessions<'_>, user_id: i64, username: &str) -> Result<Issued, ApiError> {
    let now = sessions.clock.now();
    let session_id = uuid::Uuid::new_v4().to_string();
    let mut tx = sessions.db.begin().await?;
    tx.execute(
        "INSERT INTO auth_sessions (id, user_id, created_at) VALUES ($1, $2, $3)",
        params![session_id.as_str(), user_id, now],
    )
    .await?;
    let refresh_token = store_refresh_token(sessions, tx.as_mut(), &session_id, now).await?;
    tx.commit().await?;
    Ok(Issued {
        access_token: access_token(sessions, username, user_id, &session_id, now)?,
        refresh_token,
    })
}

/// Exchanges a refresh token for a new pair (rotation), with reuse detection.
pub async fn refresh(sessions: &Sessions<'_>, refresh_token: &str) -> Result<Issued, RefreshError> {
    let now = sessions.clock.now();
    let mut tx = sessions.db.begin().await?;
    let row = tx
        .query_opt(
            "SELECT t.session_id, t.expires_at, t.rotated_at, s.revoked_at, s.user_id
             FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id
             WHERE t.token_hash = $1",
            params![secret::digest(refresh_token)],
        )
        .await?
        .ok_or(RefreshError::Unknown)?;
    let session_id: String = row.get("session_id")?;
    let user_id: i64 = row.get("user_id")?;
    let replayed = row.get::<Option<DateTime<Utc>>>("rotated_at")?.is_some()
        || row.get::<Option<DateTime<Utc>>>("revoked_at")?.is_some();
    // Marking the token rotated is also the race guard: of two concurrent exchanges, one wins.
    let claimed = !replayed
        && tx
            .execute(
                "UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL",
                params![secret::digest(refresh_token), now],
            )
            .await?
            == 1;
    if !claimed {
        let ended = tx
            .execute(
                "UPDATE auth_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                params![session_id.as_str(), now],
            )
            .await?;
        if ended == 1 {
            crate::events::revoke_sign_in(tx.as_mut(), user_id, Some(&session_id), now).await?;
        }
        tx.commit().await?;
        return Err(RefreshError::Revoked);
    }
    if row.get::<DateTime<Utc>>("expires_at")? <= now {
        return Err(RefreshError::Expired);
    }
    let user = tx
        .query_opt("SELECT username, is_active FROM users WHERE id = $1", params![user_id])
        .await?
        .ok_or(RefreshError::NoUser)?;
    if !user.get::<bool>("is_active")? {
        return Err(RefreshError::NoUser);
    }
    let username: String = user.get("username")?;
    let refresh_token = store_refresh_token(sessions, tx.as_mut(), &session_id, now).await?;
    tx.commit().await?;
    let access_token = access_token(sessions, &username, user_id, &session_id, now)?;
    Ok(Issued {
        access_token,
        refresh_token,
    })
}

/// Ends everything that signs in as `user_id`, in the caller's transaction: every session (and
/// so its access and refresh tokens) and every OAuth2 grant — the tokens and unused codes issued
/// for the user, and the client-credentials tokens of the clients the user owns, since those act
/// for the user too — and closes every socket of the user (OAuth2-authenticated ones too), on
/// every process. The number of sessions ended.
///
/// This is *the* revocation: logout ("log out everywhere"), an admin's password reset and
/// disabling an account all call it, so whatever must follow a revocation belongs here.
pub async fn revoke_all(clock: &dyn Clock, tx: &mut dyn Transaction, user_id: i64) -> Result<u64, ApiError> {
    let now = clock.now();
    let sessions = tx
        .execute(
            "UPDATE auth_sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            params![user_id, now],
        )
        .await?;
    tx.execute(
        "UPDATE oauth2_tokens SET revoked = $2
         WHERE revoked = $3
           AND (user_id = $1
                OR (user_id IS NULL AND client_id IN (SELECT client_id FROM oauth2_clients WHERE owner_id = $1)))",
        params![user_id, true, false],
    )
    .await?;
    tx.execute(
        "UPDATE oauth2_authorization_codes SET used = $2 WHERE user_id = $1 AND used = $3",
        params![user_id, true, false],
    )
    .await?;
    crate::events::revoke_sign_in(tx, user_id, None, now).await?;
    Ok(sessions)
}
