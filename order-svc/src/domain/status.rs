//! An order's life cycle, decided in one place: what each command does to
//! an order in each state.

use chrono::{DateTime, Utc};

use super::Refusal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Pending,
    Paid,
    Cancelled,
    Expired,
    Refunded,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Paid => "PAID",
            OrderStatus::Cancelled => "CANCELLED",
            OrderStatus::Expired => "EXPIRED",
            OrderStatus::Refunded => "REFUNDED",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [
            OrderStatus::Pending,
            OrderStatus::Paid,
            OrderStatus::Cancelled,
            OrderStatus::Expired,
            OrderStatus::Refunded,
        ]
        .into_iter()
        .find(|status| status.as_str() == stored)
    }

    /// CANCELLED, EXPIRED and REFUNDED: the order is over.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            OrderStatus::Cancelled | OrderStatus::Expired | OrderStatus::Refunded
        )
    }

    /// What the order's seats are in this state.
    pub fn seat_state(self) -> &'static str {
        match self {
            OrderStatus::Pending => "HELD",
            OrderStatus::Paid => "SOLD",
            _ => "RELEASED",
        }
    }
}

/// What is asked of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Pay {
        reference: String,
    },
    /// The customer (or staff) calls the order off, saying why or not.
    Cancel {
        reason: Option<String>,
    },
    /// The sweeper, or an order made for the same showtime, finds the hold
    /// has run out.
    Expire,
    /// catalog-svc called the showtime off.
    ShowtimeCancelled {
        reason: String,
    },
}

impl Command {
    /// The payment's reference, when paying.
    pub fn payment_reference(&self) -> Option<&str> {
        match self {
            Command::Pay { reference } => Some(reference),
            _ => None,
        }
    }
}

/// What happens to the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Unchanged,
    Change {
        to: OrderStatus,
        /// Why, for a cancellation or refund.
        reason: Option<String>,
    },
}

/// The order as the rules see it.
#[derive(Debug, Clone)]
pub struct OrderState<'a> {
    pub status: OrderStatus,
    pub expire_at: DateTime<Utc>,
    pub payment_reference: Option<&'a str>,
    /// Why it was cancelled or refunded.
    pub close_reason: Option<&'a str>,
}

/// Decides `command` on an order in `state` at `now`; `Err` is why it is
/// refused, naming the order's state.
pub fn decide(
    state: &OrderState<'_>,
    command: &Command,
    now: DateTime<Utc>,
) -> Result<Decision, Refusal> {
    use OrderStatus::*;
    let change = |to| Ok(Decision::Change { to, reason: None });
    match (state.status, command) {
        (Pending, Command::Pay { .. }) if now >= state.expire_at => Err(Refusal::Expired {
            at: state.expire_at,
        }),
        (Pending, Command::Pay { .. }) => change(Paid),
        (Paid, Command::Pay { reference })
            if state.payment_reference == Some(reference.as_str()) =>
        {
            Ok(Decision::Unchanged)
        }
        (Paid, Command::Pay { .. }) => Err(Refusal::PaidWithAnotherReference),
        (Pending, Command::Cancel { reason }) => Ok(Decision::Change {
            to: Cancelled,
            reason: reason.clone(),
        }),
        // A cancel repeated: the order as it is, whatever reason the repeat
        // gives (the first one's is kept).
        (Cancelled, Command::Cancel { .. }) => Ok(Decision::Unchanged),
        (Pending, Command::Expire) if now >= state.expire_at => change(Expired),
        (_, Command::Expire) => Ok(Decision::Unchanged),
        (Pending, Command::ShowtimeCancelled { reason }) => Ok(Decision::Change {
            to: Cancelled,
            reason: Some(reason.clone()),
        }),
        (Paid, Command::ShowtimeCancelled { reason }) => Ok(Decision::Change {
            to: Refunded,
            reason: Some(reason.clone()),
        }),
        (_, Command::ShowtimeCancelled { .. }) => Ok(Decision::Unchanged),
        (status, Command::Pay { .. }) => Err(Refusal::NotPending { status, to: Paid }),
        (status, Command::Cancel { .. }) => Err(Refusal::NotPending {
            status,
            to: Cancelled,
        }),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::noon;

    fn state(status: OrderStatus, reference: Option<&str>) -> OrderState<'_> {
        OrderState {
            status,
            expire_at: noon() + Duration::minutes(10),
            payment_reference: reference,
            close_reason: None,
        }
    }

    fn pay(reference: &str) -> Command {
        Command::Pay {
            reference: reference.into(),
        }
    }

    #[test]
    fn paying_is_idempotent_on_the_reference_and_refused_once_expired() {
        let now = noon();
        assert_eq!(
            decide(&state(OrderStatus::Pending, None), &pay("R1"), now),
            Ok(Decision::Change {
                to: OrderStatus::Paid,
                reason: None
            })
        );
        assert_eq!(
            decide(&state(OrderStatus::Paid, Some("R1")), &pay("R1"), now),
            Ok(Decision::Unchanged)
        );
        assert_eq!(
            decide(&state(OrderStatus::Paid, Some("R1")), &pay("R2"), now),
            Err(Refusal::PaidWithAnotherReference)
        );
        let late = now + Duration::minutes(11);
        let refused = decide(&state(OrderStatus::Pending, None), &pay("R1"), late).unwrap_err();
        assert_eq!(
            refused,
            Refusal::Expired {
                at: now + Duration::minutes(10)
            }
        );
        assert!(refused.to_string().contains("expired"), "{refused}");
        for closed in [
            OrderStatus::Cancelled,
            OrderStatus::Expired,
            OrderStatus::Refunded,
        ] {
            let refused = decide(&state(closed, None), &pay("R1"), now).unwrap_err();
            assert!(refused.to_string().contains(closed.as_str()), "{refused}");
        }
    }

    fn cancel(reason: Option<&str>) -> Command {
        Command::Cancel {
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn only_pending_orders_cancel_and_cancelling_twice_is_no_change() {
        let now = noon();
        assert_eq!(
            decide(
                &state(OrderStatus::Pending, None),
                &cancel(Some("changed mind")),
                now
            ),
            Ok(Decision::Change {
                to: OrderStatus::Cancelled,
                reason: Some("changed mind".into())
            })
        );
        assert_eq!(
            decide(&state(OrderStatus::Pending, None), &cancel(None), now),
            Ok(Decision::Change {
                to: OrderStatus::Cancelled,
                reason: None
            })
        );
        for again in [cancel(None), cancel(Some("another reason"))] {
            assert_eq!(
                decide(&state(OrderStatus::Cancelled, None), &again, now),
                Ok(Decision::Unchanged)
            );
        }
        for final_state in [
            OrderStatus::Paid,
            OrderStatus::Expired,
            OrderStatus::Refunded,
        ] {
            assert_eq!(
                decide(&state(final_state, Some("R")), &cancel(Some("late")), now),
                Err(Refusal::NotPending {
                    status: final_state,
                    to: OrderStatus::Cancelled
                })
            );
        }
    }

    #[test]
    fn a_cancelled_showtime_cancels_the_unpaid_and_refunds_the_paid() {
        let now = noon();
        let called_off = Command::ShowtimeCancelled {
            reason: "flood".into(),
        };
        assert!(matches!(
            decide(&state(OrderStatus::Pending, None), &called_off, now),
            Ok(Decision::Change {
                to: OrderStatus::Cancelled,
                ..
            })
        ));
        assert!(matches!(
            decide(&state(OrderStatus::Paid, Some("R")), &called_off, now),
            Ok(Decision::Change {
                to: OrderStatus::Refunded,
                ..
            })
        ));
        assert_eq!(
            decide(&state(OrderStatus::Expired, None), &called_off, now),
            Ok(Decision::Unchanged)
        );
    }

    #[test]
    fn only_an_overdue_pending_order_expires() {
        let now = noon();
        assert_eq!(
            decide(&state(OrderStatus::Pending, None), &Command::Expire, now),
            Ok(Decision::Unchanged)
        );
        assert!(matches!(
            decide(
                &state(OrderStatus::Pending, None),
                &Command::Expire,
                now + Duration::minutes(11)
            ),
            Ok(Decision::Change {
                to: OrderStatus::Expired,
                ..
            })
        ));
        assert_eq!(
            decide(
                &state(OrderStatus::Paid, Some("R")),
                &Command::Expire,
                now + Duration::hours(1)
            ),
            Ok(Decision::Unchanged)
        );
    }
}
