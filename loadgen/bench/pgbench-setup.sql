-- The physical limit of a create-reservation, for loadgen/bench/pgbench.sh:
-- tables shaped like reservation-svc's (the row, its history, the outbox),
-- with the same indexes and the same kind of constraints, in a scratch
-- database of their own.
DROP TABLE IF EXISTS bench_outbox, bench_history, bench_reservations;

CREATE TABLE bench_reservations (
    id                uuid PRIMARY KEY,
    customer_id       uuid NOT NULL,
    contact_name      text NOT NULL CHECK (length(contact_name) BETWEEN 1 AND 100),
    contact_phone     text NOT NULL CHECK (contact_phone ~ '^\+?[0-9]{8,15}$'),
    contact_email     text NOT NULL,
    party_size        integer NOT NULL CHECK (party_size BETWEEN 1 AND 20),
    start_time        timestamptz NOT NULL,
    duration_minutes  integer NOT NULL,
    end_time          timestamptz NOT NULL,
    is_peak_hour      boolean NOT NULL,
    status            text NOT NULL,
    note              text NOT NULL DEFAULT '',
    deposit_amount    bigint NOT NULL,
    deposit_status    text NOT NULL,
    idempotency_key   text,
    version           bigint NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (end_time = start_time + make_interval(mins => duration_minutes))
);
CREATE UNIQUE INDEX ON bench_reservations (customer_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX ON bench_reservations (start_time, id);
CREATE INDEX ON bench_reservations (customer_id, start_time, id);
CREATE INDEX ON bench_reservations (start_time) WHERE status IN ('PENDING', 'CONFIRMED');

CREATE TABLE bench_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reservation_id  uuid NOT NULL REFERENCES bench_reservations (id),
    version         bigint NOT NULL,
    action          text NOT NULL,
    to_status       text NOT NULL,
    actor_id        uuid,
    note            text NOT NULL DEFAULT '',
    changed_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (reservation_id, version, action)
);

CREATE TABLE bench_outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position      bigint UNIQUE,
    aggregate_id  uuid NOT NULL,
    event_type    text NOT NULL,
    payload       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON bench_outbox (id) WHERE position IS NULL;
CREATE INDEX ON bench_outbox (aggregate_id, position) WHERE position IS NOT NULL;
