//! The outbox's tables, as `migrations/outbox/` creates them.

diesel::table! {
    outbox (id) {
        id -> Int8,
        position -> Nullable<Int8>,
        aggregate_id -> Uuid,
        event_type -> Text,
        payload -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    outbox_relays (relay) {
        relay -> Text,
        position -> Int8,
        holder -> Nullable<Uuid>,
        lease_until -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}
