//! Rows to contract messages: what callers see and what the outbox stores.

use chrono::{DateTime, Utc};
use kursi_proto::order::v1 as pb;
use pb::order_event::Event;
use service_kit::values::timestamp;
use uuid::Uuid;

use crate::db::orders::OrderRow;
use crate::db::tickets::TicketRow;
use crate::domain::{OrderStatus, Seat};

pub const CURRENCY: &str = "IDR";

pub fn status(row: &OrderRow) -> i32 {
    match row.status() {
        Some(OrderStatus::Pending) => pb::OrderStatus::Pending as i32,
        Some(OrderStatus::Paid) => pb::OrderStatus::Paid as i32,
        Some(OrderStatus::Cancelled) => pb::OrderStatus::Cancelled as i32,
        Some(OrderStatus::Expired) => pb::OrderStatus::Expired as i32,
        Some(OrderStatus::Refunded) => pb::OrderStatus::Refunded as i32,
        None => pb::OrderStatus::Unspecified as i32,
    }
}

pub fn ticket(row: &TicketRow) -> pb::Ticket {
    pb::Ticket {
        seat: row.label.clone(),
        code: row.code.clone(),
        redeem_time: row.redeemed_at.map(timestamp),
    }
}

/// An order with its tickets (any of `tickets` that are its), in seat order.
pub fn order(row: &OrderRow, tickets: &[TicketRow]) -> pb::Order {
    let mut own: Vec<&TicketRow> = tickets.iter().filter(|t| t.order_id == row.id).collect();
    own.sort_by_key(|t| Seat::parse(&t.label));
    pb::Order {
        order_id: row.id.to_string(),
        customer_id: row.customer_id.to_string(),
        showtime_id: row.showtime_id.to_string(),
        movie_id: row.movie_id.to_string(),
        movie_title: row.movie_title.clone(),
        showtime_start_time: Some(timestamp(row.showtime_start)),
        auditorium: row.auditorium.clone(),
        seats: row.seats.clone(),
        quantity: row.quantity,
        unit_price: row.unit_price,
        total_amount: row.total_amount,
        currency: CURRENCY.into(),
        status: status(row),
        expire_time: Some(timestamp(row.expire_at)),
        payment_reference: row.payment_reference.clone().unwrap_or_default(),
        pay_time: row.paid_at.map(timestamp),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        tickets: own.into_iter().map(ticket).collect(),
        close_time: row.closed_at.map(timestamp),
        close_reason: row.close_reason.clone().unwrap_or_default(),
        version: row.version,
    }
}

/// An event's envelope, its position left 0 until it is read back.
pub fn envelope(
    row: &OrderRow,
    actor: Option<Uuid>,
    at: DateTime<Utc>,
    event: Event,
) -> pb::OrderEvent {
    pb::OrderEvent {
        position: 0,
        order_id: row.id.to_string(),
        customer_id: row.customer_id.to_string(),
        showtime_id: row.showtime_id.to_string(),
        event_time: Some(timestamp(at)),
        actor_id: actor.map(|id| id.to_string()).unwrap_or_default(),
        status: status(row),
        version: row.version,
        event: Some(event),
    }
}

/// The event a change to `to` makes, on the order as it is after it.
pub fn change_event(after: &OrderRow, tickets: &[TicketRow], to: OrderStatus) -> Option<Event> {
    let reason = after.close_reason.clone().unwrap_or_default();
    Some(match to {
        OrderStatus::Paid => {
            // Seats, not codes: an event reaches every follower, and a
            // code admits whoever shows it.
            let mut paid = order(after, tickets);
            for ticket in &mut paid.tickets {
                ticket.code.clear();
            }
            Event::Paid(pb::OrderPaid { order: Some(paid) })
        }
        OrderStatus::Cancelled => Event::Cancelled(pb::OrderCancelled {
            seats: after.seats.clone(),
            reason,
        }),
        OrderStatus::Expired => Event::Expired(pb::OrderExpired {
            seats: after.seats.clone(),
        }),
        OrderStatus::Refunded => Event::Refunded(pb::OrderRefunded {
            amount: after.total_amount,
            currency: CURRENCY.into(),
            payment_reference: after.payment_reference.clone().unwrap_or_default(),
            reason,
        }),
        OrderStatus::Pending => return None,
    })
}
