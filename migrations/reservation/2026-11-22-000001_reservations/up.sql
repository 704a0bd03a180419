-- reservation-svc: the restaurant's tables, its reservations, their history
-- and the outbox of domain events. Forward-only: a later change is a new
-- migration, never an edit here.
--
-- The constraints carry the invariants; the service checks first only to
-- give a better message.

-- btree_gist lets one GiST index combine `table_id WITH =` and a time range.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE restaurant_tables (
    id          uuid PRIMARY KEY,
    label       text NOT NULL CHECK (length(label) BETWEEN 1 AND 32),
    capacity    integer NOT NULL CHECK (capacity BETWEEN 1 AND 50),
    area        text NOT NULL CHECK (length(area) BETWEEN 1 AND 50),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Labels are unique regardless of case; lists are ordered by lower(label).
CREATE UNIQUE INDEX restaurant_tables_label_key ON restaurant_tables (lower(label));

CREATE TABLE reservations (
    id                 uuid PRIMARY KEY,
    customer_id        uuid NOT NULL,
    contact_name       text NOT NULL CHECK (length(contact_name) BETWEEN 1 AND 100),
    contact_phone      text NOT NULL CHECK (contact_phone ~ '^\+?[0-9]{8,15}$'),
    contact_email      text NOT NULL CHECK (length(contact_email) BETWEEN 3 AND 254),
    party_size         integer NOT NULL CHECK (party_size BETWEEN 1 AND 20),
    start_time         timestamptz NOT NULL,
    duration_minutes   integer NOT NULL CHECK (duration_minutes BETWEEN 15 AND 480),
    -- Stored rather than generated: timestamptz + interval is not immutable.
    end_time           timestamptz NOT NULL,
    -- Judged on the restaurant's clock when booked, so it agrees with the
    -- deposit that was asked for.
    is_peak_hour       boolean NOT NULL,
    status             text NOT NULL CHECK (status IN
                         ('PENDING', 'CONFIRMED', 'CHECKED_IN', 'COMPLETED', 'CANCELLED', 'NO_SHOW')),
    note               text NOT NULL DEFAULT '' CHECK (length(note) <= 500),

    -- The table held (TableAssignment), as it was when assigned.
    table_id           uuid REFERENCES restaurant_tables (id),
    table_label        text,
    table_capacity     integer,
    table_area         text,
    table_assigned_at  timestamptz,

    -- Set exactly when CANCELLED.
    cancel_reason      text CHECK (cancel_reason IN
                         ('CUSTOMER_REQUEST', 'RESTAURANT_REQUEST', 'EXPIRED', 'OTHER')),
    cancel_description text CHECK (length(cancel_description) <= 500),
    cancelled_at       timestamptz,

    -- The deposit, in whole rupiah. 0 and NOT_REQUIRED go together.
    deposit_amount     bigint NOT NULL CHECK (deposit_amount >= 0),
    deposit_status     text NOT NULL CHECK (deposit_status IN
                         ('NOT_REQUIRED', 'UNPAID', 'PAID', 'REFUNDED', 'FORFEITED')),
    payment_reference  text CHECK (length(payment_reference) BETWEEN 1 AND 100),
    paid_at            timestamptz,
    refunded_at        timestamptz,

    -- A retried create with the same key returns the first reservation.
    idempotency_key    text CHECK (length(idempotency_key) BETWEEN 1 AND 100),
    version            bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT reservations_end_after_start
        CHECK (end_time = start_time + make_interval(mins => duration_minutes)),
    CONSTRAINT reservations_table_all_or_nothing CHECK (
        (table_id IS NULL) = (table_label IS NULL)
        AND (table_id IS NULL) = (table_capacity IS NULL)
        AND (table_id IS NULL) = (table_area IS NULL)
        AND (table_id IS NULL) = (table_assigned_at IS NULL)),
    CONSTRAINT reservations_table_seats_party
        CHECK (table_capacity IS NULL OR table_capacity >= party_size),
    CONSTRAINT reservations_cancelled_has_reason CHECK (
        (status = 'CANCELLED') = (cancel_reason IS NOT NULL)
        AND (cancel_reason IS NULL) = (cancelled_at IS NULL)
        AND (cancel_reason IS NOT NULL OR cancel_description IS NULL)),
    CONSTRAINT reservations_deposit_amount_matches_status
        CHECK ((deposit_amount = 0) = (deposit_status = 'NOT_REQUIRED')),
    CONSTRAINT reservations_paid_deposit_has_reference CHECK (
        (deposit_status IN ('PAID', 'REFUNDED', 'FORFEITED'))
            = (payment_reference IS NOT NULL AND paid_at IS NOT NULL)),
    CONSTRAINT reservations_refund_has_time
        CHECK ((deposit_status = 'REFUNDED') = (refunded_at IS NOT NULL)),
    -- No table is held by two active reservations for overlapping times.
    -- Ranges are half-open, so one party may sit down as the last one leaves.
    CONSTRAINT reservations_no_double_booking EXCLUDE USING gist (
        table_id WITH =,
        tstzrange(start_time, end_time, '[)') WITH &&
    ) WHERE (table_id IS NOT NULL AND status IN ('PENDING', 'CONFIRMED', 'CHECKED_IN'))
);

CREATE UNIQUE INDEX reservations_idempotency_key
    ON reservations (customer_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- One payment pays one deposit.
CREATE UNIQUE INDEX reservations_payment_reference
    ON reservations (payment_reference) WHERE payment_reference IS NOT NULL;
CREATE INDEX reservations_start_id ON reservations (start_time, id);
CREATE INDEX reservations_customer_start ON reservations (customer_id, start_time, id);
-- What the sweeper looks for.
CREATE INDEX reservations_overdue ON reservations (start_time)
    WHERE status IN ('PENDING', 'CONFIRMED');

-- Every change made to a reservation, oldest first. One command bumps the
-- version once; a cancellation that refunds writes two entries at one version.
CREATE TABLE reservation_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reservation_id  uuid NOT NULL REFERENCES reservations (id),
    version         bigint NOT NULL,
    action          text NOT NULL CHECK (action IN
                      ('CREATED', 'CONFIRMED', 'TABLE_ASSIGNED', 'CHECKED_IN', 'COMPLETED',
                       'CANCELLED', 'NO_SHOW', 'DEPOSIT_PAID', 'DEPOSIT_REFUNDED')),
    -- NULL for CREATED.
    from_status     text,
    to_status       text NOT NULL,
    -- NULL when the sweeper made the change.
    actor_id        uuid,
    note            text NOT NULL DEFAULT '',
    changed_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (reservation_id, version, action)
);

-- The outbox: each domain event as an encoded kursi.reservation.v1
-- ReservationEvent (its position left 0; the row's position is the truth).
-- Writers take an advisory lock just before inserting here and hold it to
-- commit, so positions become visible in order and a follower reading
-- "position > p" never skips an event that commits later with a smaller one.
CREATE TABLE reservation_events (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reservation_id  uuid NOT NULL REFERENCES reservations (id),
    event_type      text NOT NULL,
    payload         bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX reservation_events_reservation ON reservation_events (reservation_id, position);
