-- SQLite twin of the PostgreSQL migration: times are INTEGER microseconds, booleans 0/1.
-- Identity and access: roles, sessions and refresh tokens, login attempts, MFA, OAuth2 clients
-- and tokens, the audit log. Every secret a client presents (refresh tokens, OAuth2 tokens and
-- codes, backup codes) is stored only as a hash.

ALTER TABLE users ADD COLUMN mfa_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN mfa_secret TEXT;
-- The last TOTP time step accepted, so that one code cannot be replayed (RFC 6238 §5.2).
ALTER TABLE users ADD COLUMN mfa_last_step INTEGER;

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    description TEXT
);

INSERT INTO roles (name, description) VALUES
    ('admin', 'Administrator with full access'),
    ('manager', 'Manages resources and everyone''s bookings'),
    ('user', 'Regular user with standard permissions'),
    ('guest', 'Guest user with read-only access');

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

-- One login (a refresh-token family). Access tokens name their session, so revoking it ends
-- them at once.
CREATE TABLE auth_sessions (
    id         TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE INDEX auth_sessions_user ON auth_sessions (user_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,                    -- SHA-256 hex of the token
    session_id TEXT NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    rotated_at INTEGER                          -- set once exchanged; a second use is a replay
);

CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE login_attempts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    username       TEXT NOT NULL,                   -- lower-case
    ip_address     TEXT NOT NULL,
    success        INTEGER NOT NULL,
    attempt_time   INTEGER NOT NULL,
    failure_reason TEXT
);

CREATE INDEX login_attempts_key ON login_attempts (username, ip_address, attempt_time);

CREATE TABLE mfa_backup_codes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,                        -- argon2id PHC string
    used_at   INTEGER
);

CREATE INDEX mfa_backup_codes_user ON mfa_backup_codes (user_id);

CREATE TABLE oauth2_clients (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id          TEXT NOT NULL UNIQUE,
    client_secret_hash TEXT NOT NULL,               -- SHA-256 hex (the secret is 384 random bits)
    client_name        TEXT NOT NULL,
    redirect_uris      TEXT NOT NULL,               -- JSON array
    grant_types        TEXT NOT NULL,               -- space-separated
    scope              TEXT NOT NULL,               -- space-separated
    owner_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at         INTEGER NOT NULL
);

CREATE TABLE oauth2_authorization_codes (
    code_hash      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oauth2_clients (client_id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    code_challenge TEXT NOT NULL,                   -- PKCE S256 is mandatory
    expires_at     INTEGER NOT NULL,
    used           INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

CREATE TABLE oauth2_tokens (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id           TEXT NOT NULL REFERENCES oauth2_clients (client_id) ON DELETE CASCADE,
    user_id             INTEGER REFERENCES users (id) ON DELETE CASCADE,  -- NULL: client credentials
    access_token_hash   TEXT NOT NULL UNIQUE,
    refresh_token_hash  TEXT UNIQUE,
    scope               TEXT NOT NULL,
    expires_at          INTEGER NOT NULL,
    revoked             INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL
);

CREATE TABLE audit_logs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp      INTEGER NOT NULL,
    user_id        INTEGER,                          -- no foreign key: the log outlives users
    username       TEXT,
    action         TEXT NOT NULL,
    entity_type    TEXT NOT NULL,
    entity_id      INTEGER,
    entity_name    TEXT,
    ip_address     TEXT,
    user_agent     TEXT,
    request_method TEXT,
    request_path   TEXT,
    old_values     TEXT,                            -- JSON
    new_values     TEXT,                            -- JSON
    details        TEXT,
    success        INTEGER NOT NULL DEFAULT 1,
    error_message  TEXT
);

CREATE INDEX audit_logs_timestamp ON audit_logs (timestamp);
CREATE INDEX audit_logs_user ON audit_logs (user_id, timestamp);
CREATE INDEX audit_logs_action ON audit_logs (action);
