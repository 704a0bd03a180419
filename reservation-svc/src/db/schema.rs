//! Diesel's view of `migrations/reservation`; keep in step with the SQL there.

diesel::table! {
    restaurant_tables (id) {
        id -> Uuid,
        label -> Text,
        capacity -> Int4,
        area -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    reservations (id) {
        id -> Uuid,
        customer_id -> Uuid,
        contact_name -> Text,
        contact_phone -> Text,
        contact_email -> Text,
        party_size -> Int4,
        start_time -> Timestamptz,
        duration_minutes -> Int4,
        end_time -> Timestamptz,
        is_peak_hour -> Bool,
        status -> Text,
        note -> Text,
        table_id -> Nullable<Uuid>,
        table_label -> Nullable<Text>,
        table_capacity -> Nullable<Int4>,
        table_area -> Nullable<Text>,
        table_assigned_at -> Nullable<Timestamptz>,
        cancel_reason -> Nullable<Text>,
        cancel_description -> Nullable<Text>,
        cancelled_at -> Nullable<Timestamptz>,
        deposit_amount -> Int8,
        deposit_status -> Text,
        payment_reference -> Nullable<Text>,
        paid_at -> Nullable<Timestamptz>,
        refunded_at -> Nullable<Timestamptz>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deposit_difference -> Int8,
    }
}

diesel::table! {
    reservation_history (id) {
        id -> Int8,
        reservation_id -> Uuid,
        version -> Int8,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor_id -> Nullable<Uuid>,
        note -> Text,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    waitlist_entries (id) {
        id -> Uuid,
        customer_id -> Uuid,
        contact_name -> Text,
        contact_phone -> Text,
        contact_email -> Text,
        party_size -> Int4,
        day -> Date,
        earliest_start -> Timestamptz,
        latest_start -> Timestamptz,
        duration_minutes -> Int4,
        note -> Text,
        state -> Text,
        offer_start -> Nullable<Timestamptz>,
        offer_end -> Nullable<Timestamptz>,
        offer_expires_at -> Nullable<Timestamptz>,
        reservation_id -> Nullable<Uuid>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    waitlist_history (id) {
        id -> Int8,
        entry_id -> Uuid,
        version -> Int8,
        action -> Text,
        from_state -> Nullable<Text>,
        to_state -> Text,
        actor_id -> Nullable<Uuid>,
        note -> Text,
        changed_at -> Timestamptz,
    }
}

diesel::table! {
    table_holds (id) {
        id -> Int8,
        table_id -> Uuid,
        reservation_id -> Nullable<Uuid>,
        waitlist_entry_id -> Nullable<Uuid>,
        label -> Text,
        capacity -> Int4,
        area -> Text,
        start_time -> Timestamptz,
        end_time -> Timestamptz,
        holding -> Bool,
        assigned_at -> Timestamptz,
    }
}

diesel::joinable!(reservations -> restaurant_tables (table_id));
diesel::joinable!(reservation_history -> reservations (reservation_id));
diesel::joinable!(waitlist_history -> waitlist_entries (entry_id));
diesel::joinable!(table_holds -> restaurant_tables (table_id));
diesel::allow_tables_to_appear_in_same_query!(
    restaurant_tables,
    reservations,
    reservation_history,
    waitlist_entries,
    waitlist_history,
    table_holds,
);
