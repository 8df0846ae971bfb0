//! Access tokens: JWTs per RFC 8725.
//!
//! - The algorithm is pinned to HS256: a token whose header names any other algorithm (`none`
//!   included) is refused before its signature is looked at.
//! - The header's `typ` is `at+jwt` and the claims carry `type: "access"`, so no other kind of
//!   token can be passed off as an access token.
//! - `iss`, `aud`, `jti`, `iat`, `exp` are all required and checked; `exp` and `iat` against the
//!   server's injected clock, not the system clock.
//! - `sub` is the lower-case username (the wire format requires it); `uid` and `sid` name the user
//!   and the login session, which is how logout and reuse detection end access tokens at once.
//! - A token whose signature has been checked once is remembered, whole, with its claims
//!   ([`TokenKeys::verify`]): a client sends the same token with every request, and the HMAC and
//!   the JSON parse were most of what authenticating a request cost. Only a token that verified
//!   can match (the key is its entire text, signature included), and the time checks still run
//!   on every use.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "resource-reserver";
pub const AUDIENCE: &str = "resource-reserver-api";
const TYP: &str = "at+jwt";
const KIND: &str = "access";
/// Tolerated clock skew for `iat` in the future.
const LEEWAY_SECONDS: i64 = 30;
/// Most verified tokens remembered; when full, they are all forgotten (each is verified again
/// at its next use). Far more than the clients one process serves within a token's lifetime.
const REMEMBERED_TOKENS: usize = 20_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub uid: i64,
    pub sid: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("malformed or badly signed token")]
    Invalid,
    #[error("expired token")]
    Expired,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens whose signature and kind have been checked, by their whole text.
    verified: Mutex<HashMap<Box<str>, Claims>>,
}

impl TokenKeys {
    pub fn new(secret: &str) -> TokenKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Time is checked below against the server's clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        TokenKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// A signed access token for `username` (`uid`) in session `sid`, valid from `now` for `ttl`.
    pub fn issue(
        &self,
        username: &str,
        uid: i64,
        sid: &str,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: username.to_owned(),
            uid,
            sid: sid.to_owned(),
            kind: KIND.into(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
        };
        let header = Header {
            typ: Some(TYP.into()),
            ..Header::new(Algorithm::HS256)
        };
        jsonwebtoken::encode(&header, &claims, &self.encoding)
    }

    /// The claims of a valid, unexpired access token. The signature is checked at a token's
    /// first use only; its times at every use, against `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
        let remembered = self.remembered().get(token).cloned();
        let claims = match remembered {
            Some(claims) => claims,
            None => {
                let claims = self.signed_claims(token)?;
                self.remember(token, &claims);
                claims
            }
        };
        let now = now.timestamp();
        if claims.iat > now + LEEWAY_SECONDS {
            return Err(TokenError::Invalid);
        }
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// The claims of a token signed with this key, of the access token's type and kind.
    fn signed_claims(&self, token: &str) -> Result<Claims, TokenError> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map_err(|_| TokenError::Invalid)?;
        if data.header.typ.as_deref() != Some(TYP) || data.claims.kind != KIND || data.claims.jti.is_empty() {
            return Err(TokenError::Invalid);
        }
        Ok(data.claims)
    }

    fn remember(&self, token: &str, claims: &Claims) {
        let mut remembered = self.remembered();
        if remembered.len() >= REMEMBERED_TOKENS {
            remembered.clear();
        }
        remembered.insert(token.into(), claims.clone());
    }

    /// The map survives a panic elsewhere: every entry in it was verified when it went in.
    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Claims>> {
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use std::time::Duration;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_verifies_until_it_expires_by_the_given_clock() {
        let keys = TokenKeys::new(KEY);
        let now = Utc::now();
        let token = keys.issue("alice", 7, "s1", now, Duration::from_secs(60)).unwrap();
        let claims = keys.verify(&token, now).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.uid, claims.sid.as_str()),
            ("alice", 7, "s1")
        );
        let later = now + chrono::Duration::seconds(61);
        assert_eq!(keys.verify(&token, later).unwrap_err(), TokenError::Expired);
    }

    /// Once a token has verified, a copy with its signature or claims altered is still refused
    /// (it is not the remembered text), and the remembered tokens stay bounded.
    #[test]
    fn a_remembered_token_lets_in_no_altered_copy() {
        let keys = TokenKeys::new(KEY);
        let now = Utc::now();
        let token = keys.issue("alice", 7, "s1", now, Duration::from_secs(60)).unwrap();
        keys.verify(&token, now).unwrap();
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let mut flipped = signature.as_bytes().to_vec();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let forged_signature = format!("{signed}.{}", String::from_utf8(flipped).unwrap());
        assert_eq!(keys.verify(&forged_signature, now).unwrap_err(), TokenError::Invalid);
        let mut parts: Vec<&str> = token.split('.').collect();
        let mallory = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap())
                .unwrap()
                .replace("\"alice\"", "\"mallory\""),
        );
        parts[1] = &mallory;
        assert_eq!(keys.verify(&parts.join("."), now).unwrap_err(), TokenError::Invalid);
        assert_eq!(keys.verify(&token, now).unwrap().sub, "alice");

        for n in 0..REMEMBERED_TOKENS + 1 {
            let token = keys
                .issue("alice", 7, &format!("s{n}"), now, Duration::from_secs(60))
                .unwrap();
            keys.verify(&token, now).unwrap();
        }
        assert!(keys.remembered().len() <= REMEMBERED_TOKENS);
    }

    #[test]
    fn alg_none_other_keys_and_other_types_are_refused() {
        let keys = TokenKeys::new(KEY);
        let now = Utc::now();
        let token = keys.issue("alice", 7, "s1", now, Duration::from_secs(60)).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let none = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#)
        );
        assert_eq!(keys.verify(&none, now).unwrap_err(), TokenError::Invalid);
        let other = TokenKeys::new("another-key-another-key-another-key");
        assert_eq!(other.verify(&token, now).unwrap_err(), TokenError::Invalid);
        let untyped = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &keys.verify(&token, now).unwrap(),
            &EncodingKey::from_secret(KEY.as_bytes()),
        )
        .unwrap();
        assert_eq!(keys.verify(&untyped, now).unwrap_err(), TokenError::Invalid);
    }
}
