//! The outbox's SQL: what writers append, what followers read.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use diesel::sql_types::{Bytea, Text, Timestamptz, Uuid as SqlUuid};

use super::Envelope;
use super::schema::outbox;
use crate::db::{bind, prepared};

/// A numbered event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::pg::Pg))]
pub struct EventRow {
    #[diesel(select_expression = outbox::position.assume_not_null())]
    pub position: i64,
    pub aggregate_id: Uuid,
    pub event_type: String,
    pub payload: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

impl EventRow {
    /// The envelope as stored, with its position filled in.
    pub fn envelope<E: Envelope>(&self) -> Result<E, prost::DecodeError> {
        let mut event = E::decode(self.payload.as_slice())?;
        event.set_position(self.position);
        Ok(event)
    }
}

/// An event to append.
#[derive(Debug)]
pub struct NewEvent {
    aggregate_id: Uuid,
    event_type: &'static str,
    payload: Vec<u8>,
    created_at: DateTime<Utc>,
}

impl NewEvent {
    /// `envelope` about `aggregate_id`, its position left 0 (the row's is
    /// the truth). `None` when the envelope says no event, a bug upstream.
    pub fn new<E: Envelope>(aggregate_id: Uuid, envelope: &E, at: DateTime<Utc>) -> Option<Self> {
        Some(Self {
            aggregate_id,
            event_type: envelope.event_name()?,
            payload: envelope.encode_to_vec(),
            created_at: at,
        })
    }
}

impl NewEvent {
    /// The event's name, for a service that writes the row in a statement
    /// of its own (the `outbox` columns are the same in every service).
    pub fn event_type(&self) -> &'static str {
        self.event_type
    }

    /// The encoded envelope.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

/// Appends events, in order, in the caller's transaction. Takes no lock:
/// concurrent writers do not wait for each other here. A shared reference
/// to the connection, so the inserts can be sent in one round trip with the
/// statements before them (pipelined).
///
/// One prepared insert an event, sent together, rather than one insert of
/// many rows: diesel parses and plans a many-row insert again on every
/// run, and PostgreSQL runs the inserts in order, so ids keep the events'
/// order.
pub async fn append(conn: &AsyncPgConnection, events: Vec<NewEvent>) -> QueryResult<()> {
    let inserts = events.iter().map(|event| {
        let mut shared = conn;
        async move {
            prepared(
                "INSERT INTO outbox (aggregate_id, event_type, payload, created_at) VALUES (?, ?, ?, ?)",
                (
                    bind::<SqlUuid, _>(event.aggregate_id),
                    bind::<Text, _>(event.event_type),
                    bind::<Bytea, _>(event.payload.as_slice()),
                    bind::<Timestamptz, _>(event.created_at),
                ),
            )
            .execute(&mut shared)
            .await
        }
    });
    futures_util::future::try_join_all(inserts).await.map(drop)
}

/// Up to `limit` numbered events after `position`, in order.
pub async fn after(
    conn: &mut AsyncPgConnection,
    position: i64,
    aggregate: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    let mut query = outbox::table
        .filter(outbox::position.gt(position))
        .order(outbox::position.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .into_boxed();
    if let Some(id) = aggregate {
        query = query.filter(outbox::aggregate_id.eq(id));
    }
    query.load(conn).await
}
