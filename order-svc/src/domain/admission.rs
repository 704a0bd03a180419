//! At the door: a ticket admits once, only while its order is PAID, and
//! only to a showing that takes place, from when its doors open
//! (`DOORS_OPEN_MINUTES` before it starts) until it ends.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::{OrderState, OrderStatus, Refusal, ShowtimeState};

/// A ticket as the door sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState<'a> {
    pub code: &'a str,
    pub seat: &'a str,
    pub redeemed_at: Option<DateTime<Utc>>,
}

/// When a showing admits: its doors open `open_before` its start and close
/// at its end. Refusals tell the times on the cinema's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Doors {
    pub open_before: Duration,
    pub time_zone: Tz,
}

/// Whether `ticket` of `order` admits at `now` to `showtime` (`None` when
/// order-svc has no copy of it, which leaves the showing's rules unasked).
pub fn admit(
    order: &OrderState<'_>,
    showtime: Option<&ShowtimeState<'_>>,
    ticket: &TicketState<'_>,
    doors: &Doors,
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
        let open = showtime.start - doors.open_before;
        if now < open {
            return Err(Refusal::DoorsNotOpen {
                at: open.with_timezone(&doors.time_zone),
                before: doors.open_before.num_minutes(),
            });
        }
        if showtime.end <= now {
            return Err(Refusal::ShowingEnded {
                at: showtime.end.with_timezone(&doors.time_zone),
            });
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
    use super::*;
    use crate::domain::noon;

    const JAKARTA: Tz = chrono_tz::Asia::Jakarta;

    fn doors() -> Doors {
        Doors {
            open_before: Duration::minutes(30),
            time_zone: JAKARTA,
        }
    }

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
        assert_eq!(
            admit(&paid, Some(&on), &ticket(None), &doors(), during),
            Ok(())
        );
        assert_eq!(admit(&paid, None, &ticket(None), &doors(), during), Ok(()));
        assert_eq!(
            admit(&paid, Some(&on), &ticket(Some(noon())), &doors(), during),
            Err(Refusal::AlreadyRedeemed {
                code: "ABCDEFGHIJKLMNOPQRSTUVWXYZ".into(),
                seat: "C5".into(),
                at: Some(noon())
            })
        );
        assert_eq!(
            admit(&paid, Some(&showing(true)), &ticket(None), &doors(), during),
            Err(Refusal::ShowingCancelled)
        );
    }

    #[test]
    fn the_doors_open_a_set_time_before_the_start_and_close_at_the_end() {
        let paid = order(OrderStatus::Paid);
        let on = showing(false);
        let admits = |now| admit(&paid, Some(&on), &ticket(None), &doors(), now);
        let open = noon() - Duration::minutes(30);
        assert_eq!(admits(open), Ok(()));
        assert_eq!(
            admits(noon() + Duration::hours(2) - Duration::seconds(1)),
            Ok(())
        );
        let early = admits(open - Duration::seconds(1)).unwrap_err();
        assert_eq!(
            early,
            Refusal::DoorsNotOpen {
                at: open.with_timezone(&JAKARTA),
                before: 30
            }
        );
        // On the cinema's clock, in RFC 3339.
        assert_eq!(
            early.to_string(),
            "the doors open at 2026-12-05T18:30:00+07:00 (30 minutes before the showing); \
             its tickets admit from then until it ends"
        );
        // A day early is early too.
        assert!(matches!(
            admits(noon() - Duration::days(1)),
            Err(Refusal::DoorsNotOpen { .. })
        ));
        let end = noon() + Duration::hours(2);
        let late = admits(end).unwrap_err();
        assert_eq!(
            late,
            Refusal::ShowingEnded {
                at: end.with_timezone(&JAKARTA)
            }
        );
        assert_eq!(
            late.to_string(),
            "the showing ended at 2026-12-05T21:00:00+07:00; its tickets no longer admit"
        );
        // Doors that open with the showing.
        let at_the_start = Doors {
            open_before: Duration::zero(),
            ..doors()
        };
        let early = admit(&paid, Some(&on), &ticket(None), &at_the_start, open);
        assert!(matches!(
            early,
            Err(Refusal::DoorsNotOpen { before: 0, .. })
        ));
        assert_eq!(
            admit(&paid, Some(&on), &ticket(None), &at_the_start, noon()),
            Ok(())
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
                &doors(),
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
                admit(&order(status), Some(&on), &ticket(None), &doors(), noon()),
                Err(Refusal::NotPaid { status })
            );
        }
    }
}
