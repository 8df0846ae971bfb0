//! Retention: one scheduler prunes every table that would otherwise grow without bound, each
//! after its own retention period (a setting each).
//!
//! | table | what goes | setting |
//! |---|---|---|
//! | `events` | events older than the period, once the tailer has read them | `EVENTS_RETENTION_HOURS` |
//! | `auth_sessions`, `refresh_tokens` | tokens expired, sessions revoked or without a live token, longer ago than the period | `SESSIONS_RETENTION_DAYS` |
//! | `oauth2_authorization_codes`, `oauth2_tokens` | codes expired, tokens revoked or expired (refresh tokens included), longer ago than the period | `OAUTH_RETENTION_DAYS` |
//! | `webhook_deliveries` | deliveries older than the period (none under a live claim) | `WEBHOOK_DELIVERIES_RETENTION_DAYS` |
//! | `email_outbox` | messages sent or given up, older than the period | `EMAIL_OUTBOX_RETENTION_DAYS` |
//! | `login_attempts` | attempts older than the period for usernames no account has | `LOGIN_ATTEMPTS_RETENTION_HOURS` |
//!
//! (Attempts for existing usernames are bounded by the lockout, which deletes a username's
//! attempts older than its window at each attempt.)
//!
//! Invariants:
//! - Time is the server's [`Clock`]: a pass runs when [`PRUNE_EVERY`] has passed on it, so tests
//!   move a manual clock.
//! - Every `DELETE` is bounded ([`BATCH`] rows, at most [`ROUNDS`] per table and pass), so a
//!   pass never holds long locks or a long transaction.
//! - Several processes on one PostgreSQL prune in turn: each batch runs in a transaction that
//!   first takes a transaction-scoped advisory lock without waiting; a process that does not get
//!   it leaves that pass to the one that did. SQLite has one writer at a time anyway. Deletes are
//!   idempotent, so a pass cut short anywhere is finished by the next.
//! - Nothing still in use goes: refresh tokens are kept until expired (a rotated one must stay
//!   to detect a replay), claimed deliveries and pending messages are left to their senders.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use reserver_actors::Clock;

use crate::params;
use crate::storage::{BackendKind, Db, StorageError, Value};

/// How often a pass runs, by the server's clock.
pub const PRUNE_EVERY: Duration = Duration::minutes(1);
/// Rows deleted per statement.
pub const BATCH: i64 = 5_000;
/// Statements per table and pass.
pub const ROUNDS: usize = 10;
/// Arbitrary key of the advisory lock that lets one process prune at a time on PostgreSQL.
const PRUNE_LOCK_KEY: i64 = 0x7072_756e_6572; // "pruner"

/// The retention period of each table (see `Settings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionConfig {
    pub sessions: Duration,
    pub oauth: Duration,
    pub webhook_deliveries: Duration,
    pub email_outbox: Duration,
    pub login_attempts: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            sessions: Duration::days(7),
            oauth: Duration::days(7),
            webhook_deliveries: Duration::days(30),
            email_outbox: Duration::days(7),
            login_attempts: Duration::hours(24),
        }
    }
}

/// One bounded `DELETE`: `$1` is the cutoff, `$2` the batch size, then `extra`.
struct Rule {
    table: &'static str,
    sql: &'static str,
    cutoff: DateTime<Utc>,
    extra: Vec<Value>,
}

/// The scheduler. Driven by the event tailer's loop, which also knows how far events were read.
pub struct Pruner {
    db: Db,
    clock: Arc<dyn Clock>,
    config: RetentionConfig,
    /// `EVENTS_RETENTION_HOURS`.
    events: Duration,
    /// A refresh token lives this long; its OAuth2 token row is dead only after it.
    refresh_ttl: Duration,
    last: Option<DateTime<Utc>>,
}

impl Pruner {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        config: RetentionConfig,
        events: Duration,
        refresh_ttl: Duration,
    ) -> Pruner {
        Pruner {
            db,
            clock,
            config,
            events,
            refresh_ttl,
            last: None,
        }
    }

    /// Runs a pass when one is due; `events_read` is the tailer's position (later events stay).
    pub async fn prune_if_due(&mut self, events_read: i64) {
        let now = self.clock.now();
        if self.last.is_some_and(|last| now - last < PRUNE_EVERY) {
            return;
        }
        self.last = Some(now);
        for rule in self.rules(now, events_read) {
            if let Err(error) = self.prune(&rule).await {
                tracing::warn!(table = rule.table, %error, "cannot prune");
            }
        }
    }

    fn rules(&self, now: DateTime<Utc>, events_read: i64) -> Vec<Rule> {
        let c = &self.config;
        let rule = |table, sql, retention: Duration, extra| Rule {
            table,
            sql,
            cutoff: now - retention,
            extra,
        };
        vec![
            rule(
                "events",
                "DELETE FROM events WHERE id IN
                     (SELECT id FROM events WHERE created_at < $1 AND id <= $3 ORDER BY id LIMIT $2)",
                self.events,
                vec![events_read.into()],
            ),
            rule(
                "auth_sessions",
                "DELETE FROM auth_sessions WHERE id IN
                     (SELECT s.id FROM auth_sessions s
                      WHERE s.revoked_at < $1
                         OR (s.created_at < $1 AND NOT EXISTS
                                (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id AND t.expires_at >= $1))
                      LIMIT $2)",
                c.sessions,
                vec![],
            ),
            rule(
                "refresh_tokens",
                "DELETE FROM refresh_tokens WHERE token_hash IN
                     (SELECT token_hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)",
                c.sessions,
                vec![],
            ),
            rule(
                "oauth2_authorization_codes",
                "DELETE FROM oauth2_authorization_codes WHERE code_hash IN
                     (SELECT code_hash FROM oauth2_authorization_codes WHERE expires_at < $1 LIMIT $2)",
                c.oauth,
                vec![],
            ),
            // Revoked tokens go once created before the cutoff (when they were revoked is not
            // kept; gone or revoked, a token is refused the same); others once neither the
            // access token nor the refresh token can still be used.
            rule(
                "oauth2_tokens",
                "DELETE FROM oauth2_tokens WHERE id IN
                     (SELECT id FROM oauth2_tokens
                      WHERE (revoked = $3 AND created_at < $1)
                         OR (refresh_token_hash IS NULL AND expires_at < $1)
                         OR created_at < $4
                      LIMIT $2)",
                c.oauth,
                vec![true.into(), (now - c.oauth - self.refresh_ttl).into()],
            ),
            rule(
                "webhook_deliveries",
                "DELETE FROM webhook_deliveries WHERE id IN
                     (SELECT id FROM webhook_deliveries WHERE created_at < $1 AND claim IS NULL ORDER BY id LIMIT $2)",
                c.webhook_deliveries,
                vec![],
            ),
            rule(
                "email_outbox",
                "DELETE FROM email_outbox WHERE id IN
                     (SELECT id FROM email_outbox WHERE status <> 'pending' AND created_at < $1 ORDER BY id LIMIT $2)",
                c.email_outbox,
                vec![],
            ),
            rule(
                "login_attempts",
                "DELETE FROM login_attempts WHERE id IN
                     (SELECT a.id FROM login_attempts a
                      WHERE a.attempt_time < $1
                        AND NOT EXISTS (SELECT 1 FROM users u WHERE LOWER(u.username) = a.username)
                      ORDER BY a.id LIMIT $2)",
                c.login_attempts,
                vec![],
            ),
        ]
    }

    /// Deletes `rule`'s rows, a batch at a time, until fewer than a batch remain or the rounds
    /// run out (the next pass goes on).
    async fn prune(&self, rule: &Rule) -> Result<(), StorageError> {
        for _ in 0..ROUNDS {
            match self.batch(rule).await? {
                Some(deleted) if deleted as i64 == BATCH => continue,
                Some(deleted) => {
                    if deleted > 0 {
                        tracing::debug!(table = rule.table, deleted, "pruned");
                    }
                    return Ok(());
                }
                // Another process is pruning.
                None => return Ok(()),
            }
        }
        Ok(())
    }

    /// One bounded `DELETE` in its own transaction; `None` when another process holds the
    /// pruning lock (PostgreSQL).
    async fn batch(&self, rule: &Rule) -> Result<Option<u64>, StorageError> {
        let mut tx = self.db.begin().await?;
        if self.db.kind() == BackendKind::Postgres {
            let locked = tx
                .query_opt(
                    "SELECT pg_try_advisory_xact_lock($1) AS locked",
                    params![PRUNE_LOCK_KEY],
                )
                .await?
                .map(|row| row.get::<bool>("locked"))
                .transpose()?;
            if locked != Some(true) {
                return Ok(None);
            }
        }
        let mut values: Vec<Value> = vec![rule.cutoff.into(), BATCH.into()];
        values.extend(rule.extra.iter().cloned());
        let deleted = tx.execute(rule.sql, values).await?;
        tx.commit().await?;
        Ok(Some(deleted))
    }
}
