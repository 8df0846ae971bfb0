//! Multi-factor authentication: TOTP (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step, what authenticator
//! apps expect) and ten single-use backup codes (8 upper-case hex characters), stored as argon2id
//! hashes since they are short.
//!
//! A TOTP code is accepted once: the last accepted time step is stored and only later steps
//! pass (RFC 6238 §5.2), so a code seen over a shoulder cannot be replayed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use qrcodegen::{QrCode, QrCodeEcc};
use totp_rs::{Builder, Secret, Totp};

use super::password;
use crate::error::ApiError;
use crate::params;
use crate::secret;
use crate::storage::{Db, Transaction};

pub const ISSUER: &str = "Resource Reserver";
const BACKUP_CODES: usize = 10;

fn totp(secret_base32: &str, username: &str) -> Result<Totp, ApiError> {
    let secret = Secret::try_from_base32(secret_base32).map_err(|e| ApiError::internal_context("MFA secret", e))?;
    Builder::new()
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(username)
        .build()
        .map_err(|e| ApiError::internal_context("TOTP", e))
}

/// A new 160-bit secret, base32 (32 characters).
pub fn new_secret() -> Result<String, ApiError> {
    let bytes = secret::random_bytes(20)?;
    Ok(Secret::from(bytes).to_base32())
}

/// The `otpauth://` URI an authenticator app scans.
pub fn provisioning_uri(secret_base32: &str, username: &str) -> Result<String, ApiError> {
    totp(secret_base32, username)?
        .to_url()
        .map_err(|e| ApiError::internal_context("TOTP URI", e))
}

/// The QR code of `uri` as an SVG data URI (renders in an `<img>` like a PNG one).
pub fn qr_code(uri: &str) -> Result<String, ApiError> {
    let code = QrCode::encode_text(uri, QrCodeEcc::Medium).map_err(|e| ApiError::internal_context("QR code", e))?;
    let border = 4;
    let size = code.size() + 2 * border;
    let mut path = String::new();
    for y in 0..code.size() {
        for x in 0..code.size() {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    );
    Ok(format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)))
}

/// The time step at which `code` is valid for `secret` at `now`, if any.
pub fn totp_step(secret_base32: &str, username: &str, code: &str, now: DateTime<Utc>) -> Result<Option<i64>, ApiError> {
    let Ok(time) = u64::try_from(now.timestamp()) else {
        return Ok(None);
    };
    let totp = totp(secret_base32, username)?;
    Ok(totp.check(code, time).and_then(|step| i64::try_from(step).ok()))
}

/// Ten fresh backup codes.
pub fn new_backup_codes() -> Result<Vec<String>, ApiError> {
    (0..BACKUP_CODES)
        .map(|_| Ok(secret::hex(&secret::random_bytes(4)?).to_uppercase()))
        .collect()
}

/// Replaces the user's backup codes with (hashes of) `codes`.
pub async fn store_backup_codes(tx: &mut dyn Transaction, user_id: i64, codes: &[String]) -> Result<(), ApiError> {
    tx.execute("DELETE FROM mfa_backup_codes WHERE user_id = $1", params![user_id])
        .await?;
    for code in codes {
        let hash = password::hash(code).await?;
        tx.execute(
            "INSERT INTO mfa_backup_codes (user_id, code_hash) VALUES ($1, $2)",
            params![user_id, hash],
        )
        .await?;
    }
    Ok(())
}

/// Checks a sign-in code of a user with MFA enabled: a TOTP code of a step later than the last
/// one accepted, or an unused backup code (which is then used up).
pub async fn accept_code(
    db: &Db,
    user_id: i64,
    username: &str,
    secret_base32: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let code = code.trim();
    if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
        let Some(step) = totp_step(secret_base32, username, code, now)? else {
            return Ok(false);
        };
        let accepted = db
            .execute(
                "UPDATE users SET mfa_last_step = $2 WHERE id = $1 AND (mfa_last_step IS NULL OR mfa_last_step < $2)",
                params![user_id, step],
            )
            .await?;
        return Ok(accepted == 1);
    }
    if code.len() != 8 || !code.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(false);
    }
    let code = code.to_uppercase();
    let unused = db
        .query(
            "SELECT id, code_hash FROM mfa_backup_codes WHERE user_id = $1 AND used_at IS NULL",
            params![user_id],
        )
        .await?;
    for row in unused {
        let hash: String = row.get("code_hash")?;
        if password::verify(&code, Some(&hash)).await {
            let used = db
                .execute(
                    "UPDATE mfa_backup_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
                    params![row.get::<i64>("id")?, now],
                )
                .await?;
            return Ok(used == 1);
        }
    }
    Ok(false)
}
