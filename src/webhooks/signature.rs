//! Webhook signatures: HMAC-SHA256 with the webhook's secret, in lower-case hex.
//!
//! - `X-Webhook-Signature: sha256=<HMAC(secret, body)>` — the first scheme, over the exact
//!   bytes of the body.
//! - `X-Webhook-Signature-V2: sha256=<HMAC(secret, "<timestamp>.<body>")>` with
//!   `X-Webhook-Timestamp: <unix seconds>` — the same, bound to the time of the attempt, so a
//!   receiver can refuse replays (a timestamp more than a few minutes old) as well as forgeries.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::secret::hex;

pub const SIGNATURE_HEADER: &str = "X-Webhook-Signature";
pub const SIGNATURE_V2_HEADER: &str = "X-Webhook-Signature-V2";
pub const TIMESTAMP_HEADER: &str = "X-Webhook-Timestamp";

/// Lower-case hex HMAC-SHA256 of `message` under `secret`.
pub fn hmac_hex(secret: &str, message: &[u8]) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(message);
    hex(&mac.finalize().into_bytes())
}

/// The value of `X-Webhook-Signature` for `body`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hmac_hex(secret, body))
}

/// The value of `X-Webhook-Signature-V2` for `body` sent at `timestamp` (unix seconds).
pub fn signature_v2(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    format!("sha256={}", hmac_hex(secret, &message))
}

const PYTHON_EXAMPLE: &str = r#"import hashlib
import hmac

def verify_webhook(raw_body: bytes, signature_header: str, secret: str) -> bool:
    # Verify the raw request body exactly as received: do not parse and re-serialise it.
    expected = "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature_header)

def verify_webhook_v2(raw_body: bytes, timestamp: str, signature_header: str, secret: str,
                      now: float, tolerance: int = 300) -> bool:
    # X-Webhook-Signature-V2 covers X-Webhook-Timestamp too: refuse old (replayed) requests.
    if abs(now - int(timestamp)) > tolerance:
        return False
    message = timestamp.encode() + b"." + raw_body
    expected = "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature_header)
"#;

const JAVASCRIPT_EXAMPLE: &str = r#"const crypto = require('crypto');

// rawBody: the request body as received (a Buffer), not JSON.stringify of the parsed object.
function verifyWebhook(rawBody, signatureHeader, secret) {
  const expected = 'sha256=' + crypto.createHmac('sha256', secret).update(rawBody).digest('hex');
  return signatureHeader.length === expected.length &&
    crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signatureHeader));
}

// X-Webhook-Signature-V2 covers X-Webhook-Timestamp too: refuse old (replayed) requests.
function verifyWebhookV2(rawBody, timestamp, signatureHeader, secret, toleranceSeconds = 300) {
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const message = Buffer.concat([Buffer.from(timestamp + '.'), rawBody]);
  const expected = 'sha256=' + crypto.createHmac('sha256', secret).update(message).digest('hex');
  return signatureHeader.length === expected.length &&
    crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signatureHeader));
}
"#;

/// `GET /webhooks/signature-example`: both schemes, with code to verify them.
pub fn example() -> Value {
    let payload = r#"{"event":"reservation.created","timestamp":"2030-01-07T10:00:00Z","data":{"reservation_id":1}}"#;
    let secret = "your_webhook_secret";
    let timestamp = 1_893_924_000;
    json!({
        "algorithm": "HMAC-SHA256",
        "header": SIGNATURE_HEADER,
        "format": "sha256=<signature>",
        "example": {
            "payload": payload,
            "secret": secret,
            "signature": signature(secret, payload.as_bytes()),
        },
        "timestamped": {
            "header": SIGNATURE_V2_HEADER,
            "timestamp_header": TIMESTAMP_HEADER,
            "signed_message": "<timestamp>.<body>",
            "timestamp": timestamp,
            "signature": signature_v2(secret, timestamp, payload.as_bytes()),
        },
        "python_example": PYTHON_EXAMPLE,
        "javascript_example": JAVASCRIPT_EXAMPLE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_4231_test_case_2() {
        assert_eq!(
            hmac_hex("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_timestamped_signature_covers_the_timestamp() {
        let body = br#"{"event":"x"}"#;
        assert_ne!(signature_v2("k", 1, body), signature_v2("k", 2, body));
        assert_eq!(
            signature_v2("k", 7, body),
            format!("sha256={}", hmac_hex("k", br#"7.{"event":"x"}"#))
        );
    }
}
