//! At the door: a ticket admits once, only while its order is PAID, and
//! only to a showing that takes place.

use chrono::{DateTime, Utc};

use super::{OrderState, OrderStatus, Refusal, ShowtimeState};

/// A ticket as the door sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState<'a> {
    pub code: &'a str,
    pub seat: &'a str,
    pub redeemed_at: Option<DateTime<Utc>>,
}

/// Whether `ticket` of `order` admits at `now` to `showtime` (`None` when
/// order-svc has no copy of it, which leaves the showing's rules unasked).
pub fn admit(
    order: &OrderState<'_>,
    showtime: Option<&ShowtimeState<'_>>,
    ticket: &TicketState<'_>,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    match order.status {
        OrderStatus::Paid => {}
        OrderStatus::Refunded => {
            return Err(Refusal::Refunded {
                reason: order.close_reason.map(str::to_owned),
            });
        }
        status => return Err(Refusal::NotPaid { status }),
    }
    if let Some(showtime) = showtime {
        if showtime.cancelled {
            return Err(Refusal::ShowingCancelled);
        }
        if showtime.end <= now {
            return Err(Refusal::ShowingEnded { at: showtime.end });
        }
    }
    if ticket.redeemed_at.is_some() {
        return Err(redeemed_already(ticket));
    }
    Ok(())
}

/// The refusal of a ticket that was admitted before.
pub fn redeemed_already(ticket: &TicketState<'_>) -> Refusal {
    Refusal::AlreadyRedeemed {
        code: ticket.code.to_owned(),
        seat: ticket.seat.to_owned(),
        at: ticket.redeemed_at,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::noon;

    fn order(status: OrderStatus) -> OrderState<'static> {
        OrderState {
            status,
            expire_at: noon(),
            payment_reference: Some("PAY-1"),
            close_reason: (status == OrderStatus::Refunded).then_some("flood"),
        }
    }

    fn showing(cancelled: bool) -> ShowtimeState<'static> {
        ShowtimeState {
            start: noon(),
            end: noon() + Duration::hours(2),
            cancelled,
            cancel_reason: None,
        }
    }

    fn ticket(redeemed_at: Option<DateTime<Utc>>) -> TicketState<'static> {
        TicketState {
            code: "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            seat: "C5",
            redeemed_at,
        }
    }

    #[test]
    fn a_paid_ticket_admits_once_during_its_showing() {
        let paid = order(OrderStatus::Paid);
        let on = showing(false);
        let during = noon() + Duration::minutes(30);
        assert_eq!(admit(&paid, Some(&on), &ticket(None), during), Ok(()));
        assert_eq!(admit(&paid, None, &ticket(None), during), Ok(()));
        assert_eq!(
            admit(&paid, Some(&on), &ticket(Some(noon())), during),
            Err(Refusal::AlreadyRedeemed {
                code: "ABCDEFGHIJKLMNOPQRSTUVWXYZ".into(),
                seat: "C5".into(),
                at: Some(noon())
            })
        );
        let after = noon() + Duration::hours(2);
        assert_eq!(
            admit(&paid, Some(&on), &ticket(None), after),
            Err(Refusal::ShowingEnded { at: after })
        );
        assert_eq!(
            admit(&paid, Some(&showing(true)), &ticket(None), during),
            Err(Refusal::ShowingCancelled)
        );
    }

    #[test]
    fn only_a_paid_orders_tickets_admit() {
        let on = showing(false);
        assert_eq!(
            admit(
                &order(OrderStatus::Refunded),
                Some(&on),
                &ticket(None),
                noon()
            ),
            Err(Refusal::Refunded {
                reason: Some("flood".into())
            })
        );
        for status in [
            OrderStatus::Pending,
            OrderStatus::Cancelled,
            OrderStatus::Expired,
        ] {
            assert_eq!(
                admit(&order(status), Some(&on), &ticket(None), noon()),
                Err(Refusal::NotPaid { status })
            );
        }
    }
}
