//! Diesel's view of `migrations/order`; keep in step with the SQL there.

diesel::table! {
    showtimes (id) {
        id -> Uuid,
        movie_id -> Uuid,
        movie_title -> Text,
        auditorium -> Text,
        start_time -> Timestamptz,
        end_time -> Timestamptz,
        seat_rows -> Int4,
        seats_per_row -> Int4,
        status -> Text,
        cancel_reason -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    orders (id) {
        id -> Uuid,
        customer_id -> Uuid,
        showtime_id -> Uuid,
        movie_id -> Uuid,
        movie_title -> Text,
        showtime_start -> Timestamptz,
        auditorium -> Text,
        seats -> Array<Text>,
        quantity -> Int4,
        unit_price -> Int8,
        total_amount -> Int8,
        status -> Text,
        expire_at -> Timestamptz,
        payment_reference -> Nullable<Text>,
        paid_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        close_reason -> Nullable<Text>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    order_seats (order_id, label) {
        order_id -> Uuid,
        showtime_id -> Uuid,
        seat_row -> Int4,
        seat_number -> Int4,
        label -> Text,
        state -> Text,
        seat_rows -> Int4,
        seats_per_row -> Int4,
    }
}

diesel::table! {
    tickets (code) {
        code -> Text,
        order_id -> Uuid,
        label -> Text,
        redeemed_at -> Nullable<Timestamptz>,
        redeemed_by -> Nullable<Uuid>,
    }
}

diesel::joinable!(orders -> showtimes (showtime_id));
diesel::joinable!(order_seats -> orders (order_id));
diesel::joinable!(tickets -> orders (order_id));
diesel::allow_tables_to_appear_in_same_query!(showtimes, orders, order_seats, tickets);
