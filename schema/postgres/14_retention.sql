-- Bounded growth and verified addresses (docs/src/security.md, "Retention and bounded growth").

-- Only verified addresses are unique. `email` becomes the address shown (claimed or verified, not
-- unique); `verified_email` (the old column, which keeps its UNIQUE constraint) holds the address
-- once its owner proved it, NULL otherwise. So an address someone claimed without proving it
-- cannot block its real owner.
ALTER TABLE users RENAME COLUMN email TO verified_email;
ALTER TABLE users ADD COLUMN email TEXT;
UPDATE users SET email = verified_email;
UPDATE users SET verified_email = NULL WHERE NOT email_verified;
CREATE UNIQUE INDEX users_verified_email_lower ON users (LOWER(verified_email));
CREATE INDEX users_email_lower ON users (LOWER(email));

-- A verification message is rendered when it is sent: the code is drawn then and only its hash
-- stored (in the verification the message names), so no code is ever written to the outbox.
ALTER TABLE email_outbox ADD COLUMN verifies_user BIGINT REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE email_verifications ADD COLUMN outbox_id BIGINT;
CREATE INDEX email_verifications_outbox ON email_verifications (outbox_id);
-- The throttles of verification messages, per user and per recipient.
CREATE INDEX email_outbox_verifies_user ON email_outbox (verifies_user, created_at) WHERE verifies_user IS NOT NULL;
CREATE INDEX email_outbox_verifies_recipient ON email_outbox (LOWER(recipient), created_at)
    WHERE verifies_user IS NOT NULL;
-- Messages already sent or given up keep no body (codes written by earlier releases included).
UPDATE email_outbox SET body = '' WHERE status <> 'pending';

-- What the pruner scans (src/retention.rs): each DELETE walks an index, a bounded batch at a time.
CREATE INDEX email_outbox_created ON email_outbox (created_at) WHERE status <> 'pending';
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX auth_sessions_created ON auth_sessions (created_at);
CREATE INDEX oauth2_codes_expires ON oauth2_authorization_codes (expires_at);
CREATE INDEX oauth2_tokens_created ON oauth2_tokens (created_at);
CREATE INDEX login_attempts_time ON login_attempts (attempt_time);
-- Attempts are pruned when no account has their username (kept lower-case): the look-up.
CREATE INDEX users_username_lower ON users (LOWER(username));
