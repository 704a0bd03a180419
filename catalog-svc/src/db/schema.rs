//! Diesel's view of `migrations/catalog`; keep in step with the SQL there.

diesel::table! {
    movies (id) {
        id -> Uuid,
        title -> Text,
        genres -> Array<Text>,
        genre_keys -> Array<Text>,
        duration_minutes -> Int4,
        overview -> Text,
        release_date -> Nullable<Date>,
        poster_url -> Nullable<Text>,
        tmdb_id -> Nullable<Int8>,
        edited_fields -> Array<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    showtimes (id) {
        id -> Uuid,
        movie_id -> Uuid,
        auditorium -> Text,
        auditorium_key -> Text,
        start_time -> Timestamptz,
        end_time -> Timestamptz,
        free_at -> Timestamptz,
        price -> Int8,
        seat_rows -> Int4,
        seats_per_row -> Int4,
        status -> Text,
        cancel_reason -> Nullable<Text>,
        cancelled_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    movie_imports (id) {
        id -> Int8,
        trigger -> Text,
        actor_id -> Nullable<Uuid>,
        pages -> Int4,
        created_count -> Int4,
        updated_count -> Int4,
        unchanged_count -> Int4,
        skipped_count -> Int4,
        completed_at -> Timestamptz,
    }
}

diesel::table! {
    operations (id) {
        id -> Uuid,
        kind -> Text,
        state -> Text,
        trigger -> Text,
        actor_id -> Nullable<Uuid>,
        pages -> Int4,
        progress -> Jsonb,
        cancel_requested_at -> Nullable<Timestamptz>,
        response -> Nullable<Jsonb>,
        error_code -> Nullable<Int4>,
        error_message -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(showtimes -> movies (movie_id));
diesel::allow_tables_to_appear_in_same_query!(movies, showtimes, movie_imports, operations);
