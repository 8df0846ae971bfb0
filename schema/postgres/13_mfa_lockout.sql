-- Per-account second-factor lockout (src/auth/mfa_lockout.rs): wrong MFA codes and failed
-- re-authentications counted per account, whatever address they come from, and the end of the
-- lock they led to.
ALTER TABLE users ADD COLUMN mfa_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN mfa_locked_until TIMESTAMPTZ;
