//! The `table_holds` table: a row per table a reservation or a waitlist
//! offer holds, under the exclusion constraint [`super::NO_DOUBLE_BOOKING`]
//! while `holding`. A hold that ends (the reservation ended, the offer was
//! answered or lapsed) keeps its row, no longer holding; tables a
//! reservation gives up (replaced, released by a reschedule) are deleted.
//!
//! Whoever writes holds on a table first locks the table
//! (`tables::lock_for_assignment` to add or move holds, `tables::lock_shared`
//! to end them), so that racing writers queue on the table's row instead of
//! deadlocking inside the constraint's index, and a writer that checked a
//! table free finds it free when it inserts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::table_holds;
use crate::domain::Seat;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = table_holds, check_for_backend(diesel::pg::Pg))]
pub struct HoldRow {
    pub id: i64,
    pub table_id: Uuid,
    pub reservation_id: Option<Uuid>,
    pub waitlist_entry_id: Option<Uuid>,
    pub label: String,
    pub capacity: i32,
    pub area: String,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub holding: bool,
    pub assigned_at: DateTime<Utc>,
}

impl HoldRow {
    /// The table as it was when assigned, for the seating rules.
    pub fn seat(&self) -> Seat {
        Seat {
            id: self.table_id,
            label: self.label.clone(),
            capacity: self.capacity,
            area: self.area.clone(),
            active: true,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = table_holds)]
pub struct NewHold<'a> {
    pub table_id: Uuid,
    pub reservation_id: Option<Uuid>,
    pub waitlist_entry_id: Option<Uuid>,
    pub label: &'a str,
    pub capacity: i32,
    pub area: &'a str,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub holding: bool,
    pub assigned_at: DateTime<Utc>,
}

/// Who holds: a reservation or a waitlist entry's offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Reservation(Uuid),
    Offer(Uuid),
}

/// Holds `seats` for `holder` over `[start, end)`. Breaking
/// [`super::NO_DOUBLE_BOOKING`] means a table is taken then.
pub async fn hold(
    conn: &mut AsyncPgConnection,
    holder: Holder,
    seats: &[Seat],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let (reservation_id, waitlist_entry_id) = match holder {
        Holder::Reservation(id) => (Some(id), None),
        Holder::Offer(id) => (None, Some(id)),
    };
    let rows: Vec<NewHold<'_>> = seats
        .iter()
        .map(|seat| NewHold {
            table_id: seat.id,
            reservation_id,
            waitlist_entry_id,
            label: &seat.label,
            capacity: seat.capacity,
            area: &seat.area,
            start_time: start,
            end_time: end,
            holding: true,
            assigned_at: now,
        })
        .collect();
    diesel::insert_into(table_holds::table)
        .values(rows)
        .execute(conn)
        .await
        .map(drop)
}

fn of_holder(holder: Holder) -> table_holds::BoxedQuery<'static, diesel::pg::Pg> {
    match holder {
        Holder::Reservation(id) => table_holds::table
            .filter(table_holds::reservation_id.eq(id))
            .into_boxed(),
        Holder::Offer(id) => table_holds::table
            .filter(table_holds::waitlist_entry_id.eq(id))
            .into_boxed(),
    }
}

/// The holder's holds stop holding (it ended); the rows stay as a record.
pub async fn end(conn: &mut AsyncPgConnection, holder: Holder) -> QueryResult<()> {
    let ids: Vec<i64> = of_holder(holder)
        .filter(table_holds::holding.eq(true))
        .select(table_holds::id)
        .load(conn)
        .await?;
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(table_holds::table.filter(table_holds::id.eq_any(ids)))
        .set(table_holds::holding.eq(false))
        .execute(conn)
        .await
        .map(drop)
}

/// The reservation gives its tables up (replaced, or released).
pub async fn release(conn: &mut AsyncPgConnection, reservation: Uuid) -> QueryResult<()> {
    diesel::delete(table_holds::table.filter(table_holds::reservation_id.eq(reservation)))
        .execute(conn)
        .await
        .map(drop)
}

/// Moves the reservation's holds to `[start, end)`; breaking
/// [`super::NO_DOUBLE_BOOKING`] means a table is taken then.
pub async fn move_to(
    conn: &mut AsyncPgConnection,
    reservation: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(table_holds::table.filter(table_holds::reservation_id.eq(reservation)))
        .set((
            table_holds::start_time.eq(start),
            table_holds::end_time.eq(end),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The holds of the given reservations, each's largest table first.
pub async fn of_reservations(
    conn: &mut AsyncPgConnection,
    reservations: &[Uuid],
) -> QueryResult<Vec<HoldRow>> {
    if reservations.is_empty() {
        return Ok(Vec::new());
    }
    table_holds::table
        .filter(table_holds::reservation_id.eq_any(reservations))
        .order((table_holds::capacity.desc(), table_holds::label.asc()))
        .select(HoldRow::as_select())
        .load(conn)
        .await
}

/// The holds of the given entries' offers (standing or past).
pub async fn of_offers(
    conn: &mut AsyncPgConnection,
    entries: &[Uuid],
) -> QueryResult<Vec<HoldRow>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    table_holds::table
        .filter(table_holds::waitlist_entry_id.eq_any(entries))
        .order((table_holds::capacity.desc(), table_holds::label.asc()))
        .select(HoldRow::as_select())
        .load(conn)
        .await
}

/// Every standing hold overlapping `[from, to)` (on `tables` only, when
/// given), except `except`'s own.
pub async fn overlapping(
    conn: &mut AsyncPgConnection,
    tables: Option<&[Uuid]>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    except: Option<Uuid>,
) -> QueryResult<Vec<HoldRow>> {
    let mut query = table_holds::table
        .filter(table_holds::holding.eq(true))
        .filter(table_holds::start_time.lt(to))
        .filter(table_holds::end_time.gt(from))
        .into_boxed();
    if let Some(tables) = tables {
        query = query.filter(table_holds::table_id.eq_any(tables.to_vec()));
    }
    if let Some(except) = except {
        query = query.filter(
            table_holds::reservation_id
                .ne(except)
                .or(table_holds::reservation_id.is_null()),
        );
    }
    query.select(HoldRow::as_select()).load(conn).await
}
