-- Accounts, sessions, API tokens and sign-in attempts.
-- Placeholders: {id} auto-increment primary key, {bool} boolean type,
-- {true}/{false} its literals. Timestamps are BIGINT microseconds since
-- the Unix epoch on both engines. Every column is declared in the
-- personal-data registry (crates/domain/src/registry.rs).

CREATE TABLE users (
    id {id},
    kind TEXT NOT NULL DEFAULT 'user',
    login TEXT NOT NULL,
    login_key TEXT NOT NULL,
    firstname TEXT NOT NULL DEFAULT '',
    lastname TEXT NOT NULL DEFAULT '',
    email TEXT,
    email_key TEXT,
    admin {bool} NOT NULL DEFAULT {false},
    status TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'en',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    password_hash TEXT,
    password_changed_at BIGINT,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    blocked_until BIGINT,
    last_login_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_login_key ON users (login_key);
CREATE UNIQUE INDEX users_email_key ON users (email_key);
CREATE INDEX users_status ON users (status);

-- The built-in principals, in this order so that they get ids 1 and 2 on
-- both engines without touching sequences (see steward_domain::user).
INSERT INTO users (kind, login, login_key, firstname, lastname, status, created_at, updated_at)
VALUES ('deleted', 'deleted-user', 'deleted-user', 'Deleted', 'user', 'locked', 0, 0);
INSERT INTO users (kind, login, login_key, firstname, lastname, status, created_at, updated_at)
VALUES ('system', 'system', 'system', 'System', '', 'locked', 0, 0);

CREATE TABLE sessions (
    id {id},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    user_agent TEXT,
    ip_address TEXT,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE api_tokens (
    id {id},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE UNIQUE INDEX api_tokens_token_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE login_attempts (
    id {id},
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    login TEXT NOT NULL,
    success {bool} NOT NULL,
    reason TEXT NOT NULL,
    ip_address TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX login_attempts_user_id ON login_attempts (user_id);
CREATE INDEX login_attempts_created_at ON login_attempts (created_at);
