//! The `showtimes` table: order-svc's copy of what it sells.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Uuid as SqlUuid;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use service_kit::db::{bind, prepared};
use uuid::Uuid;

use super::schema::showtimes;
use crate::domain::{Layout, ShowtimeState};

/// The stored statuses (the catalog's, by name).
pub const SCHEDULED: &str = "SCHEDULED";
pub const CANCELLED: &str = "CANCELLED";

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = showtimes, check_for_backend(diesel::pg::Pg))]
pub struct ShowtimeRow {
    pub id: Uuid,
    pub movie_id: Uuid,
    pub movie_title: String,
    pub auditorium: String,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub seat_rows: i32,
    pub seats_per_row: i32,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl ShowtimeRow {
    pub fn layout(&self) -> Layout {
        Layout {
            rows: self.seat_rows,
            seats_per_row: self.seats_per_row,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.status == CANCELLED
    }

    /// The rules' view of this showtime.
    pub fn state(&self) -> ShowtimeState<'_> {
        ShowtimeState {
            start: self.start_time,
            end: self.end_time,
            cancelled: self.is_cancelled(),
            cancel_reason: self.cancel_reason.as_deref(),
        }
    }
}

/// Stores the catalog's view of a showtime and returns what is stored. A
/// showtime known to be CANCELLED stays so: the catalog never schedules a
/// cancelled showtime again, and a copy fetched just before the
/// cancellation arrived must not undo it.
pub async fn upsert(mut conn: &AsyncPgConnection, copy: &ShowtimeRow) -> QueryResult<ShowtimeRow> {
    diesel::insert_into(showtimes::table)
        .values(copy)
        .on_conflict(showtimes::id)
        .do_update()
        .set((
            showtimes::movie_title.eq(excluded(showtimes::movie_title)),
            showtimes::status.eq(diesel::dsl::sql::<diesel::sql_types::Text>(
                "CASE WHEN showtimes.status = 'CANCELLED' THEN 'CANCELLED' ELSE excluded.status END",
            )),
            showtimes::cancel_reason.eq(diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
                "coalesce(showtimes.cancel_reason, excluded.cancel_reason)",
            )),
            showtimes::updated_at.eq(excluded(showtimes::updated_at)),
        ))
        .returning(ShowtimeRow::as_returning())
        .get_result(&mut conn)
        .await
}

pub async fn find(mut conn: &AsyncPgConnection, id: Uuid) -> QueryResult<Option<ShowtimeRow>> {
    showtimes::table
        .find(id)
        .select(ShowtimeRow::as_select())
        .first(&mut conn)
        .await
        .optional()
}

/// Makes the transactions that take seats of one showtime or close its
/// orders wholesale (ordering, following its cancellation) take turns
/// until they end; paying and cancelling one order lock that order's row.
/// The unique index over live seats is the guarantee; the turn keeps
/// racing orders from wasting their work on a seat another one is taking,
/// and lets each see the seat map as it is.
pub async fn lock(mut conn: &AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    prepared(
        "SELECT pg_advisory_xact_lock(hashtextextended(?::text, 7))",
        (bind::<SqlUuid, _>(id),),
    )
    .execute(&mut conn)
    .await
    .map(drop)
}
