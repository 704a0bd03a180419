-- order-svc: its copy of the showtimes it sells, orders, the seats they hold
-- or bought, and their tickets. Forward-only. The outbox comes from
-- migrations/outbox, applied first.
--
-- The constraints carry the invariants; the service checks first only to
-- give a better message. Above all: no seat of a showtime is held or sold by
-- two live orders (a unique index over live seat rows), and no seat is
-- outside the showtime's layout (a foreign key to the layout and a check),
-- so no showtime sells more than its capacity, whatever the concurrency.

-- What order-svc knows of a showtime: copied from catalog-svc with each
-- order, and marked CANCELLED when catalog-svc's ShowtimeCancelled event
-- arrives. The layout never changes once scheduled.
CREATE TABLE showtimes (
    id              uuid PRIMARY KEY,
    movie_id        uuid NOT NULL,
    movie_title     text NOT NULL,
    auditorium      text NOT NULL,
    start_time      timestamptz NOT NULL,
    end_time        timestamptz NOT NULL,
    seat_rows       integer NOT NULL CHECK (seat_rows BETWEEN 1 AND 26),
    seats_per_row   integer NOT NULL CHECK (seats_per_row BETWEEN 1 AND 50),
    status          text NOT NULL CHECK (status IN ('SCHEDULED', 'CANCELLED')),
    cancel_reason   text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- What order_seats refers to, so every seat row carries its layout.
    UNIQUE (id, seat_rows, seats_per_row)
);

CREATE TABLE orders (
    id                  uuid PRIMARY KEY,
    customer_id         uuid NOT NULL,
    showtime_id         uuid NOT NULL REFERENCES showtimes (id),
    -- Copied when ordered, so the order reads the same whatever happens
    -- in the catalog later.
    movie_id            uuid NOT NULL,
    movie_title         text NOT NULL,
    showtime_start      timestamptz NOT NULL,
    auditorium          text NOT NULL,
    -- Row, then number order.
    seats               text[] NOT NULL,
    quantity            integer NOT NULL CHECK (quantity BETWEEN 1 AND 50),
    unit_price          bigint NOT NULL CHECK (unit_price >= 0),
    total_amount        bigint NOT NULL,
    status              text NOT NULL CHECK (status IN
                          ('PENDING', 'PAID', 'CANCELLED', 'EXPIRED', 'REFUNDED')),
    expire_at           timestamptz NOT NULL,
    payment_reference   text CHECK (length(payment_reference) BETWEEN 1 AND 100),
    paid_at             timestamptz,
    closed_at           timestamptz,
    close_reason        text,
    idempotency_key     text CHECK (length(idempotency_key) BETWEEN 1 AND 100),
    version             bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT orders_seats_match_quantity CHECK (cardinality(seats) = quantity),
    CONSTRAINT orders_total_is_price_times_quantity CHECK (total_amount = unit_price * quantity),
    CONSTRAINT orders_paid_has_payment CHECK (
        (status IN ('PAID', 'REFUNDED')) = (payment_reference IS NOT NULL AND paid_at IS NOT NULL)),
    CONSTRAINT orders_closed_has_time CHECK (
        (status IN ('CANCELLED', 'EXPIRED', 'REFUNDED')) = (closed_at IS NOT NULL))
);

-- A retried create with the same key returns the first order.
CREATE UNIQUE INDEX orders_idempotency_key
    ON orders (customer_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- One payment pays one order.
CREATE UNIQUE INDEX orders_payment_reference
    ON orders (payment_reference) WHERE payment_reference IS NOT NULL;
CREATE INDEX orders_created ON orders (created_at DESC, id DESC);
CREATE INDEX orders_customer_created ON orders (customer_id, created_at DESC, id DESC);
CREATE INDEX orders_showtime_status ON orders (showtime_id, status);
-- What the sweeper looks for.
CREATE INDEX orders_expiring ON orders (expire_at) WHERE status = 'PENDING';

-- The seats an order holds (PENDING) or bought (PAID), and released ones,
-- kept for the record.
CREATE TABLE order_seats (
    order_id        uuid NOT NULL REFERENCES orders (id),
    showtime_id     uuid NOT NULL,
    seat_row        integer NOT NULL,
    seat_number     integer NOT NULL,
    label           text NOT NULL,
    state           text NOT NULL CHECK (state IN ('HELD', 'SOLD', 'RELEASED')),
    -- The showtime's layout, which the seat must lie within.
    seat_rows       integer NOT NULL,
    seats_per_row   integer NOT NULL,
    PRIMARY KEY (order_id, label),
    FOREIGN KEY (showtime_id, seat_rows, seats_per_row)
        REFERENCES showtimes (id, seat_rows, seats_per_row),
    CONSTRAINT order_seats_within_layout CHECK (
        seat_row BETWEEN 1 AND seat_rows AND seat_number BETWEEN 1 AND seats_per_row),
    CONSTRAINT order_seats_label_names_the_seat CHECK (
        label = chr(ascii('A') + seat_row - 1) || seat_number::text)
);

-- No seat is held or sold by two live orders.
CREATE UNIQUE INDEX order_seats_live ON order_seats (showtime_id, label)
    WHERE state IN ('HELD', 'SOLD');

-- One per seat of a paid order. The code is the ticket: 128 random bits.
CREATE TABLE tickets (
    code            text PRIMARY KEY CHECK (code ~ '^[A-Z2-7]{26}$'),
    order_id        uuid NOT NULL REFERENCES orders (id),
    label           text NOT NULL,
    redeemed_at     timestamptz,
    redeemed_by     uuid,
    UNIQUE (order_id, label),
    CHECK ((redeemed_at IS NULL) = (redeemed_by IS NULL))
);
