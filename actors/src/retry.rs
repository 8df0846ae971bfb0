//! The retry schedule shared by the outboxes sent after commit (webhook deliveries, e-mail).

use chrono::{DateTime, Duration, Utc};

/// Seconds to wait before the retry that follows the n-th failure (the webhook schedule).
pub const RETRY_DELAYS: [i64; 5] = [60, 300, 900, 3600, 7200];

/// Failed attempts after which a message is given up (`failed`).
pub const MAX_ATTEMPTS: u32 = 5;

/// When the next attempt is due after the `failures`-th failure at `now`, or `None` when that
/// failure was the last one allowed.
pub fn next_attempt(failures: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if failures >= MAX_ATTEMPTS {
        return None;
    }
    let delay = RETRY_DELAYS[(failures.max(1) as usize - 1).min(RETRY_DELAYS.len() - 1)];
    Some(now + Duration::seconds(delay))
}
