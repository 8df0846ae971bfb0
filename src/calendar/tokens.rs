//! Feed tokens: the secret in a user's calendar feed URL.
//!
//! A token is `HMAC-SHA256(feed key, user id ‖ nonce)` in lower-case hex (64 characters, 256
//! bits): unguessable without the server's key, one per user. The database keeps the random
//! nonce and the token's SHA-256, never the token: the digest finds the feed (an indexed
//! equality lookup, so nothing is compared character by character), and the nonce lets
//! `subscription-url` show the same URL again without storing anything a
//! database reader could use. The feed key is derived from `SECRET_KEY`, so changing that key
//! invalidates every feed URL (as it ends every session); a new URL is issued on the next
//! `subscription-url`. Regeneration replaces the nonce: the old URL stops working at once.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::params;
use crate::secret;
use crate::storage::{Db, StorageError};

type HmacSha256 = Hmac<Sha256>;

/// Separates the feed key from every other use of `SECRET_KEY`.
const KEY_CONTEXT: &[u8] = b"resource-reserver/calendar-feed-token/v1\0";

/// The key feed tokens are derived with.
pub struct FeedKey([u8; 32]);

impl FeedKey {
    pub fn derive(secret_key: &str) -> FeedKey {
        let mut hash = Sha256::new();
        hash.update(KEY_CONTEXT);
        hash.update(secret_key.as_bytes());
        FeedKey(hash.finalize().into())
    }

    fn token(&self, user: i64, nonce: &str) -> Result<FeedToken, ApiError> {
        let mut mac = HmacSha256::new_from_slice(&self.0).map_err(ApiError::internal)?;
        mac.update(&user.to_be_bytes());
        mac.update(nonce.as_bytes());
        Ok(FeedToken(secret::hex(&mac.finalize().into_bytes())))
    }
}

/// A well-formed feed token: 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedToken(String);

impl FeedToken {
    pub fn parse(text: &str) -> Option<FeedToken> {
        let well_formed = text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        well_formed.then(|| FeedToken(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn digest(&self) -> String {
        secret::digest(&self.0)
    }
}

/// The owner of a feed.
#[derive(Debug, Clone)]
pub struct FeedOwner {
    pub user_id: i64,
    pub username: String,
}

fn new_nonce() -> Result<String, ApiError> {
    Ok(secret::hex(&secret::random_bytes(32)?))
}

/// `user`'s feed token, created on first use.
pub async fn current(db: &Db, key: &FeedKey, user: i64, now: DateTime<Utc>) -> Result<FeedToken, ApiError> {
    let select = || {
        db.query_opt(
            "SELECT nonce, token_hash FROM calendar_feeds WHERE user_id = $1",
            params![user],
        )
    };
    let row = match select().await? {
        Some(row) => row,
        None => {
            let nonce = new_nonce()?;
            let hash = key.token(user, &nonce)?.digest();
            // Of concurrent first requests one inserts; all then read the same row.
            db.execute(
                "INSERT INTO calendar_feeds (user_id, nonce, token_hash, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (user_id) DO NOTHING",
                params![user, nonce, hash, now],
            )
            .await?;
            select()
                .await?
                .ok_or_else(|| ApiError::Internal("calendar feed vanished".into()))?
        }
    };
    let nonce: String = row.get("nonce")?;
    let token = key.token(user, &nonce)?;
    if row.get::<String>("token_hash")? != token.digest() {
        // Issued under another SECRET_KEY: that URL is dead; this one replaces it.
        db.execute(
            "UPDATE calendar_feeds SET token_hash = $1 WHERE user_id = $2 AND nonce = $3",
            params![token.digest(), user, nonce],
        )
        .await?;
    }
    Ok(token)
}

/// Gives `user` a new feed token; the previous one stops working.
pub async fn regenerate(db: &Db, key: &FeedKey, user: i64, now: DateTime<Utc>) -> Result<FeedToken, ApiError> {
    let nonce = new_nonce()?;
    let token = key.token(user, &nonce)?;
    db.execute(
        "INSERT INTO calendar_feeds (user_id, nonce, token_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET nonce = excluded.nonce, token_hash = excluded.token_hash,
                                             created_at = excluded.created_at",
        params![user, nonce, token.digest(), now],
    )
    .await?;
    Ok(token)
}

/// Whose feed `token` opens: `None` for an unknown token or a disabled account.
pub async fn owner(db: &Db, token: &FeedToken) -> Result<Option<FeedOwner>, StorageError> {
    let row = db
        .query_opt(
            "SELECT u.id, u.username FROM calendar_feeds f JOIN users u ON u.id = f.user_id
             WHERE f.token_hash = $1 AND u.is_active = $2",
            params![token.digest(), true],
        )
        .await?;
    row.map(|row| {
        Ok(FeedOwner {
            user_id: row.get("id")?,
            username: row.get("username")?,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_64_hex_digits_per_user_nonce_and_key() {
        let key = FeedKey::derive("a-secret-key-a-secret-key-a-secret-key");
        let token = key.token(1, "n1").unwrap();
        assert!(FeedToken::parse(token.as_str()).is_some());
        assert_eq!(key.token(1, "n1").unwrap(), token, "the same URL can be shown again");
        assert_ne!(key.token(2, "n1").unwrap(), token);
        assert_ne!(key.token(1, "n2").unwrap(), token);
        let other = FeedKey::derive("another-secret-key-another-secret-key");
        assert_ne!(other.token(1, "n1").unwrap(), token);
    }

    #[test]
    fn only_lowercase_hex_of_the_right_length_parses() {
        assert!(FeedToken::parse(&"a".repeat(64)).is_some());
        for bad in [
            "A".repeat(64),
            "a".repeat(63),
            "a".repeat(65),
            "g".repeat(64),
            String::new(),
        ] {
            assert!(FeedToken::parse(&bad).is_none(), "{bad}");
        }
    }
}
