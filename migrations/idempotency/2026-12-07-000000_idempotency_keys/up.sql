-- Idempotency keys of every service that takes them (service_kit::idempotency).
-- A key names one request of one caller for one operation: the fingerprint of
-- that request's defining fields is kept with the resource it created, so a
-- retry of the same request is answered with that resource and the same key
-- with another request is refused. Keys expire: a sweeper deletes them.
CREATE TABLE idempotency_keys (
    operation    text        NOT NULL CHECK (operation <> ''),
    caller_id    uuid        NOT NULL,
    key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
    fingerprint  bytea       NOT NULL CHECK (length(fingerprint) = 32),
    resource_id  uuid        NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL CHECK (expires_at > created_at),
    PRIMARY KEY (operation, caller_id, key)
);

-- The sweeper deletes by expiry.
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
