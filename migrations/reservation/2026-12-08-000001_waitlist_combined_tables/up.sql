-- Tables combined for one party, the waitlist, and moving a booking.
--
-- A reservation may now hold several tables, and a waitlist offer holds
-- tables too, so what a table is held by moves out of `reservations` into
-- `table_holds`: a row per table held, under one exclusion constraint, by a
-- reservation or by a standing waitlist offer. `holding` is true while the
-- reservation is PENDING, CONFIRMED or CHECKED_IN, or the offer stands; a
-- hold that ends keeps its row (the tables a reservation had), no longer
-- holding. Tables released by a reschedule or replaced by AssignTable are
-- deleted: the reservation no longer has them.
--
-- reservations.table_* stays, as the first of the tables, for the earlier
-- system's single `table` and `table_area`.

CREATE TABLE waitlist_entries (
    id                uuid PRIMARY KEY,
    customer_id       uuid NOT NULL,
    contact_name      text NOT NULL CHECK (length(contact_name) BETWEEN 1 AND 100),
    contact_phone     text NOT NULL CHECK (contact_phone ~ '^\+?[0-9]{8,15}$'),
    contact_email     text NOT NULL CHECK (length(contact_email) BETWEEN 3 AND 254),
    party_size        integer NOT NULL CHECK (party_size BETWEEN 1 AND 20),
    -- The day on the restaurant's clock, and the window of starts on it.
    day               date NOT NULL,
    earliest_start    timestamptz NOT NULL,
    latest_start      timestamptz NOT NULL,
    duration_minutes  integer NOT NULL CHECK (duration_minutes BETWEEN 15 AND 480),
    note              text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    state             text NOT NULL CHECK (state IN
                        ('WAITING', 'OFFERED', 'ACCEPTED', 'DECLINED', 'LAPSED', 'LEFT', 'EXPIRED')),
    -- The standing offer while OFFERED; the last one after it.
    offer_start       timestamptz,
    offer_end         timestamptz,
    offer_expires_at  timestamptz,
    reservation_id    uuid REFERENCES reservations (id),
    version           bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT waitlist_window_in_order CHECK (latest_start >= earliest_start),
    CONSTRAINT waitlist_offer_all_or_nothing CHECK (
        (offer_start IS NULL) = (offer_end IS NULL)
        AND (offer_start IS NULL) = (offer_expires_at IS NULL)
        AND (offer_end IS NULL OR offer_end > offer_start)),
    CONSTRAINT waitlist_offered_has_offer CHECK (state <> 'OFFERED' OR offer_start IS NOT NULL),
    CONSTRAINT waitlist_accepted_has_reservation
        CHECK ((state = 'ACCEPTED') = (reservation_id IS NOT NULL))
);

-- A day's line, in the order of joining.
CREATE INDEX waitlist_entries_line ON waitlist_entries (day, created_at, id);
CREATE INDEX waitlist_entries_customer ON waitlist_entries (customer_id, day, created_at, id);
-- What the sweeper and the matching look for.
CREATE INDEX waitlist_entries_open ON waitlist_entries (day) WHERE state IN ('WAITING', 'OFFERED');

CREATE TABLE waitlist_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id    uuid NOT NULL REFERENCES waitlist_entries (id),
    version     bigint NOT NULL,
    action      text NOT NULL CHECK (action IN
                  ('JOINED', 'OFFERED', 'ACCEPTED', 'DECLINED', 'OFFER_LAPSED', 'LEFT', 'EXPIRED')),
    -- NULL for JOINED.
    from_state  text,
    to_state    text NOT NULL,
    -- NULL when the service made the change.
    actor_id    uuid,
    note        text NOT NULL DEFAULT '',
    changed_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (entry_id, version, action)
);

CREATE TABLE table_holds (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_id           uuid NOT NULL REFERENCES restaurant_tables (id),
    reservation_id     uuid REFERENCES reservations (id),
    waitlist_entry_id  uuid REFERENCES waitlist_entries (id),
    -- The table as it was when assigned or offered.
    label              text NOT NULL,
    capacity           integer NOT NULL,
    area               text NOT NULL,
    -- The holder's time, kept equal to it (a reschedule moves both).
    start_time         timestamptz NOT NULL,
    end_time           timestamptz NOT NULL,
    holding            boolean NOT NULL,
    assigned_at        timestamptz NOT NULL,
    CONSTRAINT table_holds_one_holder
        CHECK ((reservation_id IS NULL) <> (waitlist_entry_id IS NULL)),
    CONSTRAINT table_holds_end_after_start CHECK (end_time > start_time),
    -- No table is held twice at overlapping times, whoever holds it.
    -- Ranges are half-open, so one party may sit down as the last one leaves.
    CONSTRAINT table_holds_no_double_booking EXCLUDE USING gist (
        table_id WITH =,
        tstzrange(start_time, end_time, '[)') WITH &&
    ) WHERE (holding)
);

CREATE UNIQUE INDEX table_holds_reservation ON table_holds (reservation_id, table_id)
    WHERE reservation_id IS NOT NULL;
CREATE UNIQUE INDEX table_holds_waitlist_entry ON table_holds (waitlist_entry_id, table_id)
    WHERE waitlist_entry_id IS NOT NULL;

-- Every assignment made so far becomes a hold.
INSERT INTO table_holds (table_id, reservation_id, label, capacity, area, start_time, end_time,
                         holding, assigned_at)
SELECT table_id, id, table_label, table_capacity, table_area, start_time, end_time,
       status IN ('PENDING', 'CONFIRMED', 'CHECKED_IN'), table_assigned_at
FROM reservations
WHERE table_id IS NOT NULL;

-- table_holds guards every table now; a party on combined tables sits at
-- tables that seat it together, not each alone.
ALTER TABLE reservations DROP CONSTRAINT reservations_no_double_booking;
ALTER TABLE reservations DROP CONSTRAINT reservations_table_seats_party;

-- After a reschedule of a paid deposit: what the policy now asks minus what
-- was paid.
ALTER TABLE reservations ADD COLUMN deposit_difference bigint NOT NULL DEFAULT 0;

ALTER TABLE reservation_history DROP CONSTRAINT reservation_history_action_check;
ALTER TABLE reservation_history ADD CONSTRAINT reservation_history_action_check CHECK (action IN
    ('CREATED', 'CONFIRMED', 'TABLE_ASSIGNED', 'CHECKED_IN', 'COMPLETED', 'CANCELLED', 'NO_SHOW',
     'DEPOSIT_PAID', 'DEPOSIT_REFUNDED', 'RESCHEDULED'));
