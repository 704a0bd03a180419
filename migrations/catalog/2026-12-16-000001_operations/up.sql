-- The catalog's long-running operations (AIP-151): an ImportMovies answers
-- at once with an operation, and the import reports its progress and its
-- end here, so that any replica's GetOperation reads it and a restart
-- loses none. One row per import; the movies it writes commit together
-- with its row's SUCCEEDED, so a SUCCEEDED import is in the catalog and a
-- FAILED or CANCELLED one left it as it was.
CREATE TABLE operations (
    id                  uuid PRIMARY KEY,
    -- What the operation runs: only ImportMovies so far.
    kind                text NOT NULL CHECK (kind IN ('import_movies')),
    state               text NOT NULL CHECK (state IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    -- As in movie_imports: 'request' (ImportMovies), 'start-up' or 'interval'.
    trigger             text NOT NULL CHECK (trigger IN ('request', 'start-up', 'interval')),
    actor_id            uuid,
    pages               integer NOT NULL CHECK (pages BETWEEN 1 AND 10),
    -- Progress, written as the import goes (throttled): requests_made,
    -- pages_fetched, movies_fetched, retries, and while TheMovieDB asks to
    -- wait (429 with Retry-After) waiting_until and waiting_for (the request
    -- it turned away).
    progress            jsonb NOT NULL DEFAULT '{}',
    -- CancelOperation asks; the import, wherever it runs, sees it and stops.
    cancel_requested_at timestamptz,
    -- The result of a SUCCEEDED import: created, updated, unchanged,
    -- skipped ([{tmdb_id, title, reason}]).
    response            jsonb,
    -- The error of a FAILED or CANCELLED one: a google.rpc.Code and message.
    error_code          integer,
    error_message       text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    finished_at         timestamptz,
    CONSTRAINT operations_finished CHECK ((state = 'RUNNING') = (finished_at IS NULL)),
    CONSTRAINT operations_response CHECK ((state = 'SUCCEEDED') = (response IS NOT NULL)),
    CONSTRAINT operations_error CHECK (
        (state IN ('FAILED', 'CANCELLED')) = (error_code IS NOT NULL AND error_message IS NOT NULL))
);

-- One import runs at a time across replicas. The import's advisory lock
-- decides it; this says it in the table: a second RUNNING import cannot be
-- written.
CREATE UNIQUE INDEX operations_one_running ON operations (kind) WHERE state = 'RUNNING';

-- ListOperations: newest first.
CREATE INDEX operations_listed ON operations (created_at DESC, id DESC);
