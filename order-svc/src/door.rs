//! At the door: staff admit a ticket. The rules are `domain::admission`;
//! this loads what they look at and records the admission.

use kursi_proto::order::v1 as pb;
use pb::order_event::Event;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::db::{ScopedFutureExt, transaction};
use service_kit::values::timestamp;

use crate::db::orders::OrderRow;
use crate::db::tickets::{self, TicketRow};
use crate::db::{orders, showtimes};
use crate::domain::Refusal;
use crate::domain::admission::{admit, redeemed_already};
use crate::orders::Orders;
use crate::transition;

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
        let redeemed = transaction(self.pool(), |conn| {
            async move {
                let ticket = tickets::find(conn, code)
                    .await?
                    .ok_or(Refusal::UnknownTicket)?;
                // Locked: a refund of the order in flight is waited for
                // (and then refuses the ticket), and none starts until this
                // admission has committed.
                let order = orders::find_for_update(conn, ticket.order_id)
                    .await?
                    .ok_or(Refusal::UnknownTicket)?;
                let showtime = showtimes::find(conn, order.showtime_id).await?;
                admit(
                    &order.state()?,
                    showtime.as_ref().map(|s| s.state()).as_ref(),
                    &ticket.state(),
                    self.doors(),
                    now,
                )?;
                let Some(admitted) = tickets::redeem(conn, code, by, now).await? else {
                    // Another redeem of this code won the race meanwhile.
                    let ticket = tickets::find(conn, code)
                        .await?
                        .ok_or(Refusal::UnknownTicket)?;
                    return Err(redeemed_already(&ticket.state()).into());
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
            }
            .scope_boxed()
        })
        .await?;
        self.outbox().committed();
        Ok(redeemed)
    }
}
