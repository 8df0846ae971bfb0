//! The code of a verification message, drawn when the outbox claims the message for sending
//! (never earlier, so no code is written in clear): only its SHA-256 is stored, in the
//! verification the message names, valid [`CODE_LIFETIME`] from then. Setting and proving an
//! address is [`super::verify`]; the outbox ([`super::store`]) calls [`issue_code`].

use chrono::{DateTime, Duration, Utc};

use crate::params;
use crate::secret;
use crate::storage::{Db, StorageError};

/// How long a verification code is accepted after it was mailed.
pub const CODE_LIFETIME: Duration = Duration::hours(24);

/// The body of a verification message carrying `code`.
fn body(code: &str) -> String {
    format!(
        "Your verification code is:\n\n{code}\n\nSend it to POST /api/v1/users/me/email/verify within 24 hours.\n\
         If you did not ask for this, ignore this message: the address stays unverified."
    )
}

/// Draws the code of verification message `message` (claimed now, to `user`), stores its hash
/// and returns the message's body; `None` when the verification it was for was replaced or
/// completed meanwhile (the message is then not sent).
pub(super) async fn issue_code(
    db: &Db,
    message: i64,
    user: i64,
    now: DateTime<Utc>,
) -> Result<Option<String>, StorageError> {
    let code = secret::random_token(32).map_err(|error| StorageError::Query(error.to_string()))?;
    let issued = db
        .execute(
            "UPDATE email_verifications SET code_hash = $1, expires_at = $2 WHERE outbox_id = $3 AND user_id = $4",
            params![secret::digest(&code), now + CODE_LIFETIME, message, user],
        )
        .await?;
    Ok((issued == 1).then(|| body(&code)))
}
