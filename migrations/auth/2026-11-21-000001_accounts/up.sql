-- Accounts, refresh tokens and signing keys of auth-svc.
-- Forward-only: a later change is a new migration, never an edit here.

CREATE TABLE users (
    id                 uuid PRIMARY KEY,
    email              text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    username           text CHECK (username ~ '^[a-z0-9._-]{3,32}$'),
    display_name       text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    password_hash      text NOT NULL,
    role               text NOT NULL CHECK (role IN ('CUSTOMER', 'STAFF', 'ADMIN')),
    -- Failed sign-ins since the last success or lock; reset when the lock is set.
    failed_logins      integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Emails and usernames are unique regardless of case; sign-in compares lower().
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE INDEX users_created_at_id ON users (created_at, id);

-- Refresh tokens are stored as SHA-256 hashes only. Every token rotated from
-- one sign-in shares a family; presenting a spent token revokes the family.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    -- Set when exchanged for a successor; a second exchange is a reuse.
    spent_at    timestamptz,
    revoked_at  timestamptz
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Public halves of the keys that have signed access tokens. The current key
-- has no retired_at; a retired key stays published until every token it
-- signed has expired.
CREATE TABLE signing_keys (
    kid          text PRIMARY KEY,
    public_x     text NOT NULL,
    first_used   timestamptz NOT NULL DEFAULT now(),
    retired_at   timestamptz
);
