//! At the door: a ticket admits once, and only to a showing that takes
//! place.

use diesel_async::AsyncConnection;
use kursi_proto::order::v1 as pb;
use pb::order_event::Event;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::values::timestamp;

use crate::db::orders::OrderRow;
use crate::db::tickets::{self, TicketRow};
use crate::db::{orders, showtimes};
use crate::domain::OrderStatus;
use crate::orders::Orders;
use crate::transition;

fn unknown() -> ServiceError {
    ServiceError::NotFound("no ticket with this code".into())
}

fn redeemed_at(ticket: &TicketRow) -> ServiceError {
    ServiceError::FailedPrecondition(format!(
        "ticket {} for seat {} was redeemed already, at {}",
        ticket.code,
        ticket.label,
        ticket
            .redeemed_at
            .map(|at| at.to_rfc3339())
            .unwrap_or_default()
    ))
}

impl Orders {
    /// Admits the ticket `code`, for the staff member `actor`.
    pub async fn redeem(
        &self,
        actor: Actor,
        code: &str,
    ) -> Result<(TicketRow, OrderRow), ServiceError> {
        // A person admits a ticket (the table records who), never the
        // service itself.
        let by = actor
            .user_id()
            .ok_or_else(|| ServiceError::internal("a ticket admitted by no account"))?;
        let now = self.now();
        let mut conn = self.pool().get().await?;
        let redeemed = conn
            .transaction(async |conn| {
                let ticket = tickets::find(conn, code).await?.ok_or_else(unknown)?;
                // Locked: a refund of the order in flight is waited for
                // (and then refuses the ticket), and none starts until this
                // admission has committed.
                let order = orders::find_for_update(conn, ticket.order_id)
                    .await?
                    .ok_or_else(unknown)?;
                match order.status() {
                    Some(OrderStatus::Paid) => {}
                    Some(OrderStatus::Refunded) => {
                        return Err(ServiceError::FailedPrecondition(format!(
                            "the order was refunded ({}); its tickets do not admit",
                            order.close_reason.as_deref().unwrap_or("no reason given")
                        )));
                    }
                    _ => {
                        return Err(ServiceError::FailedPrecondition(format!(
                            "the order is {}; only a PAID order's tickets admit",
                            order.status
                        )));
                    }
                }
                if let Some(showtime) = showtimes::find(conn, order.showtime_id).await? {
                    if showtime.is_cancelled() {
                        return Err(ServiceError::FailedPrecondition(
                            "the showtime was cancelled; its tickets do not admit".into(),
                        ));
                    }
                    if showtime.end_time <= now {
                        return Err(ServiceError::FailedPrecondition(format!(
                            "the showtime ended at {}",
                            showtime.end_time.to_rfc3339()
                        )));
                    }
                }
                if ticket.redeemed_at.is_some() {
                    return Err(redeemed_at(&ticket));
                }
                let Some(admitted) = tickets::redeem(conn, code, by, now).await? else {
                    // Another redeem of this code won the race meanwhile.
                    let ticket = tickets::find(conn, code).await?.ok_or_else(unknown)?;
                    return Err(redeemed_at(&ticket));
                };
                // The order reads differently now (the ticket's
                // redeem_time): a change like any other, with its version,
                // so a follower that keeps the highest version it has seen
                // does not take this event for one it has.
                let order = orders::touch(conn, order.id, now).await?;
                let event = Event::TicketRedeemed(pb::TicketRedeemed {
                    seat: admitted.label.clone(),
                    redeem_time: Some(timestamp(now)),
                });
                transition::append(conn, &order, actor, now, event).await?;
                Ok::<_, ServiceError>((admitted, order))
            })
            .await?;
        self.outbox().committed();
        Ok(redeemed)
    }
}
