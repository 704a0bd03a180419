//! What the showtime allows: orders until it starts, unless the catalog
//! called it off; no payment for an order of a called-off showtime.

use chrono::{DateTime, Utc};

use super::{OrderStatus, Refusal};

/// A showtime as the rules see it (order-svc's copy of the catalog's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowtimeState<'a> {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub cancelled: bool,
    /// The catalog's reason, when it cancelled it and gave one.
    pub cancel_reason: Option<&'a str>,
}

/// A showtime takes orders while it is SCHEDULED and has not started.
pub fn check_orderable(showtime: &ShowtimeState<'_>, now: DateTime<Utc>) -> Result<(), Refusal> {
    check_not_called_off(showtime)?;
    if showtime.start <= now {
        return Err(Refusal::ShowtimeStarted { at: showtime.start });
    }
    Ok(())
}

/// A cancelled showtime takes no orders, whatever the catalog said a moment
/// earlier (order-svc's copy stays CANCELLED once it is).
pub fn check_not_called_off(showtime: &ShowtimeState<'_>) -> Result<(), Refusal> {
    if showtime.cancelled {
        return Err(Refusal::ShowtimeCancelled {
            reason: showtime.cancel_reason.map(str::to_owned),
        });
    }
    Ok(())
}

/// An order of a cancelled showtime that is still PENDING (its cancellation
/// is on its way) is not paid. Other states the life cycle answers.
pub fn check_payable(
    showtime: Option<&ShowtimeState<'_>>,
    order: OrderStatus,
) -> Result<(), Refusal> {
    match showtime {
        Some(showtime) if order == OrderStatus::Pending => check_not_called_off(showtime),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::noon;

    fn showtime(cancelled: bool) -> ShowtimeState<'static> {
        ShowtimeState {
            start: noon(),
            end: noon() + Duration::hours(2),
            cancelled,
            cancel_reason: cancelled.then_some("the projector broke"),
        }
    }

    #[test]
    fn a_showtime_takes_orders_until_it_starts_unless_cancelled() {
        let before = noon() - Duration::minutes(1);
        assert_eq!(check_orderable(&showtime(false), before), Ok(()));
        assert_eq!(
            check_orderable(&showtime(false), noon()),
            Err(Refusal::ShowtimeStarted { at: noon() })
        );
        assert_eq!(
            check_orderable(&showtime(true), before),
            Err(Refusal::ShowtimeCancelled {
                reason: Some("the projector broke".into())
            })
        );
    }

    #[test]
    fn a_cancelled_showtime_is_called_off() {
        assert_eq!(check_not_called_off(&showtime(false)), Ok(()));
        assert!(matches!(
            check_not_called_off(&showtime(true)),
            Err(Refusal::ShowtimeCancelled { .. })
        ));
    }

    #[test]
    fn only_a_pending_order_of_a_cancelled_showtime_is_refused_payment() {
        let cancelled = showtime(true);
        assert!(check_payable(Some(&cancelled), OrderStatus::Pending).is_err());
        assert_eq!(check_payable(Some(&cancelled), OrderStatus::Paid), Ok(()));
        assert_eq!(
            check_payable(Some(&showtime(false)), OrderStatus::Pending),
            Ok(())
        );
        assert_eq!(check_payable(None, OrderStatus::Pending), Ok(()));
    }
}
