-- catalog-svc: movies, their showtimes, and the record of TheMovieDB
-- imports. Forward-only: a later change is a new migration, never an edit
-- here. The outbox comes from migrations/outbox, applied first.
--
-- The constraints carry the invariants; the service checks first only to
-- give a better message.

-- btree_gist lets one GiST index combine `auditorium_key WITH =` and a time
-- range; pg_trgm indexes "title contains" searches.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Genre names compared case-insensitively, in their order. IMMUTABLE as
-- lower() is, so it can feed a generated column and a CHECK.
CREATE FUNCTION catalog_genre_keys(genres text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(SELECT lower(g) FROM unnest(genres) WITH ORDINALITY AS t(g, n) ORDER BY n);

CREATE FUNCTION catalog_genres_valid(genres text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN cardinality(genres) <= 10
        AND NOT EXISTS (SELECT 1 FROM unnest(genres) g WHERE length(g) NOT BETWEEN 1 AND 50)
        AND (SELECT count(DISTINCT lower(g)) FROM unnest(genres) g) = cardinality(genres);

CREATE TABLE movies (
    id                uuid PRIMARY KEY,
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    genres            text[] NOT NULL DEFAULT '{}' CHECK (catalog_genres_valid(genres)),
    genre_keys        text[] GENERATED ALWAYS AS (catalog_genre_keys(genres)) STORED,
    duration_minutes  integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 600),
    overview          text NOT NULL DEFAULT '' CHECK (length(overview) <= 5000),
    release_date      date,
    poster_url        text CHECK (poster_url ~ '^https?://' AND length(poster_url) <= 2048),
    -- TheMovieDB's id; imports upsert by it.
    tmdb_id           bigint UNIQUE CHECK (tmdb_id > 0),
    -- Fields an admin changed by hand (names as in the contract's Movie);
    -- an import leaves them alone.
    edited_fields     text[] NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Lists are ordered by lower(title), then id; searches look inside titles.
CREATE INDEX movies_title_id ON movies (lower(title), id);
CREATE INDEX movies_title_search ON movies USING gin (lower(title) gin_trgm_ops);
CREATE INDEX movies_genre_keys ON movies USING gin (genre_keys);

CREATE TABLE showtimes (
    id                uuid PRIMARY KEY,
    -- DeleteMovie deletes a movie's showtimes with it, once none of them is
    -- SCHEDULED and still to end (checked under the movie's row lock).
    movie_id          uuid NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    auditorium        text NOT NULL CHECK (length(auditorium) BETWEEN 1 AND 50),
    -- "Studio 1" and "studio 1" are one room.
    auditorium_key    text GENERATED ALWAYS AS (lower(auditorium)) STORED,
    start_time        timestamptz NOT NULL,
    -- start + the movie's running time when scheduled; stored, since
    -- timestamptz + interval is not immutable.
    end_time          timestamptz NOT NULL,
    -- end + the turnaround (cleaning, the next audience coming in): the
    -- auditorium is busy until then.
    free_at           timestamptz NOT NULL,
    price             bigint NOT NULL CHECK (price BETWEEN 0 AND 10000000),
    seat_rows         integer NOT NULL CHECK (seat_rows BETWEEN 1 AND 26),
    seats_per_row     integer NOT NULL CHECK (seats_per_row BETWEEN 1 AND 50),
    status            text NOT NULL CHECK (status IN ('SCHEDULED', 'CANCELLED')),
    cancel_reason     text CHECK (length(cancel_reason) <= 500),
    cancelled_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT showtimes_ends_after_start CHECK (end_time > start_time AND free_at >= end_time),
    CONSTRAINT showtimes_cancelled_has_time CHECK (
        (status = 'CANCELLED') = (cancelled_at IS NOT NULL)
        AND (cancel_reason IS NULL OR status = 'CANCELLED')),
    -- No two SCHEDULED showtimes share an auditorium at once. Half-open, so
    -- the next showing may start the moment the room is free.
    CONSTRAINT showtimes_no_overlap EXCLUDE USING gist (
        auditorium_key WITH =,
        tstzrange(start_time, free_at, '[)') WITH &&
    ) WHERE (status = 'SCHEDULED')
);

CREATE INDEX showtimes_start_id ON showtimes (start_time, id);
CREATE INDEX showtimes_movie_start ON showtimes (movie_id, start_time, id);

-- Every TheMovieDB import that committed: what it did, so the periodic
-- import in any replica can tell that one ran recently.
CREATE TABLE movie_imports (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- 'request' (ImportMovies), 'start-up' or 'interval'.
    trigger         text NOT NULL CHECK (trigger IN ('request', 'start-up', 'interval')),
    actor_id        uuid,
    pages           integer NOT NULL CHECK (pages BETWEEN 1 AND 10),
    created_count   integer NOT NULL,
    updated_count   integer NOT NULL,
    unchanged_count integer NOT NULL,
    skipped_count   integer NOT NULL,
    completed_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX movie_imports_completed ON movie_imports (completed_at);
