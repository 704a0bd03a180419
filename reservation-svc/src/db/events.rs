//! The `reservation_events` table: the outbox.
//!
//! Positions come from an identity column, and a sequence hands them out in
//! the order transactions *ask*, not the order they *commit*. A follower that
//! read position 12 before 11 committed would pass 11 by for ever. So every
//! writer takes one transaction-scoped advisory lock right before inserting
//! its events and keeps it to commit: events commit in position order, and
//! "everything after p" is never missing an earlier event that commits later.
//! The lock is taken last, with every row lock already held, and its holder
//! waits for nothing, so it cannot deadlock; it serializes only the short
//! tail of each write.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::reservation_events;

/// The advisory lock key of the outbox ("kursi.reservation.outbox").
const OUTBOX_LOCK: i64 = 0x6b75_7273_6f75_7462;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reservation_events, check_for_backend(diesel::pg::Pg))]
pub struct EventRow {
    pub position: i64,
    pub reservation_id: Uuid,
    pub event_type: String,
    pub payload: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = reservation_events)]
pub struct NewEvent<'a> {
    pub reservation_id: Uuid,
    pub event_type: &'a str,
    pub payload: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// Appends events in order; call as the last statement of a transaction.
pub async fn append(conn: &mut AsyncPgConnection, events: Vec<NewEvent<'_>>) -> QueryResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<diesel::sql_types::Int8, _>(OUTBOX_LOCK)
        .execute(conn)
        .await?;
    diesel::insert_into(reservation_events::table)
        .values(events)
        .execute(conn)
        .await
        .map(drop)
}

/// Up to `limit` events after `position`, in order.
pub async fn after(
    conn: &mut AsyncPgConnection,
    position: i64,
    reservation_id: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    let mut query = reservation_events::table
        .filter(reservation_events::position.gt(position))
        .order(reservation_events::position.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .into_boxed();
    if let Some(id) = reservation_id {
        query = query.filter(reservation_events::reservation_id.eq(id));
    }
    query.load(conn).await
}
