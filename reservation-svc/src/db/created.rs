//! A new reservation, its CREATED history entry and its outbox event,
//! written by one statement.
//!
//! Why one statement rather than a transaction of three inserts: each
//! statement is a round trip, and on a busy machine a round trip costs the
//! service, PostgreSQL and the kernel more CPU than the insert itself
//! (BEGIN, three INSERTs and COMMIT were five sends and five receives a
//! reservation). A statement is atomic on its own, so the three rows still
//! commit together or not at all, and the data-modifying CTEs see each
//! other's rows, so the history and the event take the reservation's id,
//! version and time from the row just inserted. It is a
//! [`service_kit::db::Prepared`] statement: parsed and planned once per
//! connection, not on every booking.
//!
//! A booking without an idempotency key is this one statement, in no
//! transaction of its own. One with a key must also claim the key, and the
//! claim and the booking must commit together (`bookings.rs`): BEGIN, the
//! claim and this statement sent together in one pipeline, COMMIT.

use diesel::QueryResult;
use diesel::sql_types::{Bool, Bytea, Int4, Int8, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use service_kit::db::{bind, prepared};
use service_kit::outbox::NewEvent;
use uuid::Uuid;

use super::reservations::{NewReservation, ReservationRow};

// `version` is given, not left to its default, so the row inserted is the
// row `NewReservation::as_row` says it is, and the event rendered from that.
const CREATE: &str = "
WITH created AS (
    INSERT INTO reservations (id, customer_id, contact_name, contact_phone, contact_email,
        party_size, start_time, duration_minutes, end_time, is_peak_hour, status, note,
        deposit_amount, deposit_status, version, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    RETURNING *
), history AS (
    INSERT INTO reservation_history (reservation_id, version, action, to_status, actor_id, note, changed_at)
    SELECT id, version, 'CREATED', status, ?, note, created_at FROM created
), event AS (
    INSERT INTO outbox (aggregate_id, event_type, payload, created_at)
    SELECT id, ?, ?, created_at FROM created
)
SELECT * FROM created";

/// What the statement writes: the reservation, who booked it (for the
/// history entry) and its event.
pub struct Creation<'a> {
    pub new: NewReservation<'a>,
    pub actor: Option<Uuid>,
    pub event: NewEvent,
}

/// Inserts the reservation, its history entry and its event. It takes the
/// connection shared, so that a keyed create can send it in one pipeline
/// with the key's claim.
pub async fn insert(
    mut conn: &AsyncPgConnection,
    creation: &Creation<'_>,
) -> QueryResult<ReservationRow> {
    let Creation { new, actor, event } = creation;
    prepared(
        CREATE,
        (
            bind::<SqlUuid, _>(new.id),
            bind::<SqlUuid, _>(new.customer_id),
            bind::<Text, _>(new.contact_name),
            bind::<Text, _>(new.contact_phone),
            bind::<Text, _>(new.contact_email),
            bind::<Int4, _>(new.party_size),
            bind::<Timestamptz, _>(new.start_time),
            bind::<Int4, _>(new.duration_minutes),
            bind::<Timestamptz, _>(new.end_time),
            bind::<Bool, _>(new.is_peak_hour),
            bind::<Text, _>(new.status),
            bind::<Text, _>(new.note),
            bind::<Int8, _>(new.deposit_amount),
            bind::<Text, _>(new.deposit_status),
            bind::<Int8, _>(new.version),
            bind::<Timestamptz, _>(new.created_at),
            bind::<Timestamptz, _>(new.updated_at),
            bind::<Nullable<SqlUuid>, _>(actor),
            bind::<Text, _>(event.event_type()),
            bind::<Bytea, _>(event.payload()),
        ),
    )
    .get_result(&mut conn)
    .await
}
