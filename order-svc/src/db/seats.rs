//! The `order_seats` table: the seats each order holds, bought or released.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::order_seats;
use crate::domain::{Layout, OrderStatus, Seat};

/// A seat some live order holds (HELD) or bought (SOLD).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = order_seats, check_for_backend(diesel::pg::Pg))]
pub struct LiveSeat {
    pub seat_row: i32,
    pub seat_number: i32,
    pub state: String,
}

impl LiveSeat {
    /// Held by an unpaid order (else sold).
    pub fn is_held(&self) -> bool {
        self.state == OrderStatus::Pending.seat_state()
    }

    pub fn seat(&self) -> Seat {
        Seat {
            row: self.seat_row,
            number: self.seat_number,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = order_seats)]
struct NewSeat<'a> {
    order_id: Uuid,
    showtime_id: Uuid,
    seat_row: i32,
    seat_number: i32,
    label: String,
    state: &'a str,
    seat_rows: i32,
    seats_per_row: i32,
}

/// The held and sold seats of a showtime.
pub async fn live(mut conn: &AsyncPgConnection, showtime_id: Uuid) -> QueryResult<Vec<LiveSeat>> {
    order_seats::table
        .filter(order_seats::showtime_id.eq(showtime_id))
        .filter(order_seats::state.eq_any(["HELD", "SOLD"]))
        .select(LiveSeat::as_select())
        .load(&mut conn)
        .await
}

/// Holds `seats` for an order, in row then number order (the same order in
/// every transaction, so two racing holds cannot wait on each other).
pub async fn hold(
    mut conn: &AsyncPgConnection,
    order_id: Uuid,
    showtime_id: Uuid,
    layout: Layout,
    seats: &[Seat],
) -> QueryResult<()> {
    let mut sorted = seats.to_vec();
    sorted.sort();
    let rows: Vec<NewSeat<'_>> = sorted
        .into_iter()
        .map(|seat| NewSeat {
            order_id,
            showtime_id,
            seat_row: seat.row,
            seat_number: seat.number,
            label: seat.label(),
            state: "HELD",
            seat_rows: layout.rows,
            seats_per_row: layout.seats_per_row,
        })
        .collect();
    diesel::insert_into(order_seats::table)
        .values(rows)
        .execute(&mut conn)
        .await
        .map(drop)
}

/// Sets the state of every seat of an order (SOLD when paid, RELEASED when
/// the order closes).
pub async fn set_state(
    mut conn: &AsyncPgConnection,
    order_id: Uuid,
    state: &str,
) -> QueryResult<()> {
    diesel::update(order_seats::table.filter(order_seats::order_id.eq(order_id)))
        .set(order_seats::state.eq(state))
        .execute(&mut conn)
        .await
        .map(drop)
}
