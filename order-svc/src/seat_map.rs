//! The seat map: every seat of a showtime and whether it is free, held or
//! sold, never who holds it.

use std::collections::HashMap;

use kursi_proto::order::v1 as pb;
use service_kit::ServiceError;
use service_kit::db::{ScopedFutureExt, read};
use uuid::Uuid;

use crate::db::{seats, showtimes};
use crate::domain::{Layout, Seat};
use crate::orders::Orders;

impl Orders {
    /// The layout comes from order-svc's own copy of the showtime when it
    /// has one (a layout never changes), else from the catalog on the
    /// caller's behalf: a seat map in a rush costs no call to the catalog.
    pub async fn seat_map(
        &self,
        showtime_id: Uuid,
        bearer: &str,
    ) -> Result<pb::GetSeatMapResponse, ServiceError> {
        let known = read(self.pool(), |conn| {
            async move { Ok::<_, ServiceError>(showtimes::find(conn, showtime_id).await?) }
                .scope_boxed()
        })
        .await?;
        let copy = match known {
            Some(copy) => copy,
            None => self.catalog().showtime(showtime_id, bearer).await?.copy,
        };
        let live = read(self.pool(), |conn| {
            async move { Ok::<_, ServiceError>(seats::live(conn, showtime_id).await?) }
                .scope_boxed()
        })
        .await?;
        let mut map = render(showtime_id, copy.layout(), &live);
        map.cancelled = copy.is_cancelled();
        Ok(map)
    }
}

fn render(showtime_id: Uuid, layout: Layout, live: &[seats::LiveSeat]) -> pb::GetSeatMapResponse {
    let states: HashMap<Seat, pb::SeatState> = live
        .iter()
        .map(|seat| {
            let state = if seat.state == "SOLD" {
                pb::SeatState::Sold
            } else {
                pb::SeatState::Held
            };
            (seat.seat(), state)
        })
        .collect();
    let seats: Vec<pb::Seat> = layout
        .seats()
        .map(|seat| pb::Seat {
            row: seat.row_letter().to_string(),
            number: seat.number,
            label: seat.label(),
            state: *states.get(&seat).unwrap_or(&pb::SeatState::Free) as i32,
        })
        .collect();
    let count =
        |state: pb::SeatState| seats.iter().filter(|s| s.state == state as i32).count() as i32;
    pb::GetSeatMapResponse {
        showtime_id: showtime_id.to_string(),
        rows: layout.rows,
        seats_per_row: layout.seats_per_row,
        free_count: count(pb::SeatState::Free),
        held_count: count(pb::SeatState::Held),
        sold_count: count(pb::SeatState::Sold),
        seats,
        cancelled: false,
    }
}
