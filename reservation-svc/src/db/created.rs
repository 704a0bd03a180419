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

use diesel::QueryResult;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Bool, Bytea, Int4, Int8, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use service_kit::db::{ConstraintKind, bind, prepared, violation};
use service_kit::outbox::NewEvent;
use uuid::Uuid;

use super::reservations::{NewReservation, ReservationRow};

const CREATE: &str = "
WITH created AS (
    INSERT INTO reservations (id, customer_id, contact_name, contact_phone, contact_email,
        party_size, start_time, duration_minutes, end_time, is_peak_hour, status, note,
        deposit_amount, deposit_status, idempotency_key, created_at, updated_at)
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

/// What the insert did.
#[derive(Debug)]
pub enum Created {
    Row(Box<ReservationRow>),
    /// This customer's idempotency key is already on a reservation: a
    /// retry raced in with the first attempt, which won.
    KeyTaken,
}

/// Inserts the reservation, its history entry and its event; a key already
/// taken is [`Created::KeyTaken`], not an error.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewReservation<'_>,
    actor: Option<Uuid>,
    event: &NewEvent,
) -> QueryResult<Created> {
    let inserted: QueryResult<ReservationRow> = prepared(
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
            bind::<Nullable<Text>, _>(new.idempotency_key),
            bind::<Timestamptz, _>(new.created_at),
            bind::<Timestamptz, _>(new.updated_at),
            bind::<Nullable<SqlUuid>, _>(actor),
            bind::<Text, _>(event.event_type()),
            bind::<Bytea, _>(event.payload()),
        ),
    )
    .get_result(conn)
    .await;
    match inserted {
        Ok(row) => Ok(Created::Row(Box::new(row))),
        Err(err) if key_taken(&err) => Ok(Created::KeyTaken),
        Err(err) => Err(err),
    }
}

fn key_taken(err: &DieselError) -> bool {
    violation(err).is_some_and(|broken| {
        broken.kind == ConstraintKind::Unique && broken.constraint == super::IDEMPOTENCY_KEY
    })
}
