-- The outbox: each domain event, written in the same transaction as the
-- change it records, as the encoded event envelope of the service's contract
-- (kursi.<service>.v1.<Service>Event, its `position` left 0).
--
-- Writers only INSERT: no lock, no counter, so their commits never wait for
-- one another and PostgreSQL can group them into one WAL flush. `id` is the
-- order the inserts happened in. `position`, what followers read and resume
-- from, is given after commit by the sequencer (service_kit::outbox), one
-- batch at a time, to committed events only: so a position, once visible, is
-- never followed by a smaller one, and nothing committed late is skipped.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL until sequenced; then 1, 2, 3, … without gaps.
    position      bigint UNIQUE CHECK (position > 0),
    -- What the event is about (a reservation, a movie, an order).
    aggregate_id  uuid NOT NULL,
    -- The event's name: the field of the envelope's `event` oneof that is
    -- set ("created", "showtime_cancelled"); the last token of its subject.
    event_type    text NOT NULL CHECK (event_type ~ '^[a-z][a-z0-9_]*$'),
    payload       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- What the sequencer looks for: small, since rows leave it once numbered.
CREATE INDEX outbox_unsequenced ON outbox (id) WHERE position IS NULL;
-- A follower of one aggregate's events.
CREATE INDEX outbox_aggregate ON outbox (aggregate_id, position) WHERE position IS NOT NULL;

-- How far each relay (the NATS publisher) has got, and which replica relays:
-- the lease row. A replica relays while `lease_until` is in the future and
-- `holder` is itself; one that dies stops renewing, and another takes over
-- when the lease runs out.
CREATE TABLE outbox_relays (
    relay        text PRIMARY KEY,
    -- Every event up to this position has been published.
    position     bigint NOT NULL DEFAULT 0 CHECK (position >= 0),
    holder       uuid,
    lease_until  timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
