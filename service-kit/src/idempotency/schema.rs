//! The idempotency keys' table, as `migrations/idempotency/` creates it.

diesel::table! {
    idempotency_keys (operation, caller_id, key) {
        operation -> Text,
        caller_id -> Uuid,
        key -> Text,
        fingerprint -> Bytea,
        resource_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}
