//! Every way reservation-svc says no, as a value naming the rule that
//! refused (with the data for its message), and the one mapping of those
//! refusals to the codes callers see.

use chrono::{DateTime, Utc};
use service_kit::ServiceError;
use uuid::Uuid;

use super::status::TransitionRefused;

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// The state machine does not allow the command in the current status.
    #[error(transparent)]
    Transition(#[from] TransitionRefused),
    #[error("no reservation with id {0}")]
    NoReservation(Uuid),
    #[error("no table with id {0}")]
    NoTable(Uuid),
    /// Customers run nothing on the floor but their own cancellations.
    #[error("only staff run the floor")]
    StaffOnly,
    /// The reason decides the refund, so customers cannot claim the
    /// restaurant called it off.
    #[error("RESTAURANT_REQUEST is given by the restaurant's staff; use CUSTOMER_REQUEST or OTHER")]
    RestaurantRequestByCustomer,
    #[error("the deposit of IDR {amount} must be paid before the reservation is confirmed")]
    DepositUnpaid { amount: i64 },
    #[error("this reservation needs no deposit")]
    NoDepositDue,
    #[error("the deposit was already paid with another payment reference")]
    DepositAlreadyPaid,
    #[error("must be the deposit due, IDR {due}")]
    WrongDepositAmount { due: i64 },
    /// A payment reference is the payment's idempotency key, and never
    /// expires: sent again, it must be for the same reservation and amount.
    /// One payment pays one deposit (a unique index guarantees it).
    #[error("payment reference {reference} was sent before for another reservation or amount")]
    PaymentReferenceReused { reference: String },
    #[error("the party is not late yet: the reservation starts at {}",
        .start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))]
    NotLateYet { start: DateTime<Utc> },
    #[error("table {label} is out of service")]
    TableOutOfService { label: String },
    #[error("table {label} seats {capacity}, fewer than the party of {party}")]
    TableTooSmall {
        label: String,
        capacity: i32,
        party: i32,
    },
    /// AssignTable's `capacity` (the earlier system's) is not the table's.
    #[error("table {label} seats {capacity}; leave capacity out or give that")]
    CapacityMismatch { label: String, capacity: i32 },
    /// AssignTable's `area` (the earlier system's) is not the table's.
    #[error("table {label} is in {area}; leave area out or give that")]
    AreaMismatch { label: String, area: String },
    /// Another active reservation holds the table for an overlapping time
    /// (the exclusion constraint guarantees it).
    #[error("the table is already held by another reservation for an overlapping time")]
    TableHeld,
    /// Labels are unique regardless of case (a unique index guarantees it).
    #[error("a table with this label already exists")]
    LabelTaken,
    /// Combined tables stand in one area.
    #[error("tables {first} and {other} are in different areas; only tables of one area combine")]
    TablesApart { first: String, other: String },
    #[error("tables {labels} seat {capacity} together, fewer than the party of {party}")]
    TablesTooSmall {
        labels: String,
        capacity: i32,
        party: i32,
    },
    /// A named table is held at the time asked for (a reschedule keeping
    /// its tables, an offer by hand).
    #[error("table {label} is already held by another booking or offer at that time")]
    TableTaken { label: String },
    /// The caller's version is not the reservation's: it changed since.
    #[error("the reservation is at version {current}, not {given}; read it again and retry")]
    StaleVersion { current: i64, given: i64 },
    #[error("no waitlist entry with id {0}")]
    NoWaitlistEntry(Uuid),
    /// The waitlist's state machine does not allow the command.
    #[error("cannot {command} a waitlist entry that is {current}")]
    WaitlistTransition {
        command: &'static str,
        current: &'static str,
    },
    #[error("the offer lapsed at {}; the slot went back to the line",
        .at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))]
    OfferLapsed { at: DateTime<Utc> },
}

impl From<Refusal> for ServiceError {
    fn from(refusal: Refusal) -> Self {
        use Refusal as R;
        let why = refusal.to_string();
        match refusal {
            R::NoReservation(_) | R::NoTable(_) | R::NoWaitlistEntry(_) => {
                ServiceError::NotFound(why)
            }
            R::StaleVersion { .. } => ServiceError::Aborted(why),
            R::StaffOnly => ServiceError::PermissionDenied(why),
            R::RestaurantRequestByCustomer => ServiceError::invalid("reason_code", why),
            R::WrongDepositAmount { .. } => ServiceError::invalid("amount", why),
            R::CapacityMismatch { .. } => ServiceError::invalid("capacity", why),
            R::AreaMismatch { .. } => ServiceError::invalid("area", why),
            R::LabelTaken => ServiceError::AlreadyExists(why),
            R::PaymentReferenceReused { reference } => ServiceError::IdempotencyKeyReused {
                field: "payment_reference",
                key: reference,
            },
            R::Transition(_)
            | R::DepositUnpaid { .. }
            | R::NoDepositDue
            | R::DepositAlreadyPaid
            | R::NotLateYet { .. }
            | R::TableOutOfService { .. }
            | R::TableTooSmall { .. }
            | R::TableHeld
            | R::TablesApart { .. }
            | R::TablesTooSmall { .. }
            | R::TableTaken { .. }
            | R::WaitlistTransition { .. }
            | R::OfferLapsed { .. } => ServiceError::FailedPrecondition(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Command, Status};

    #[test]
    fn each_refusal_has_its_code_and_bad_input_names_its_field() {
        let precondition = ServiceError::from(Refusal::Transition(TransitionRefused {
            command: Command::Confirm,
            current: Status::Completed,
        }));
        assert!(matches!(
            precondition,
            ServiceError::FailedPrecondition(ref m) if m == "cannot confirm a reservation that is COMPLETED"
        ));
        let amount = ServiceError::from(Refusal::WrongDepositAmount { due: 300_000 });
        assert!(matches!(
            amount,
            ServiceError::InvalidArgument(ref v) if v[0].field == "amount" && v[0].description.contains("300000")
        ));
        assert!(matches!(
            ServiceError::from(Refusal::StaffOnly),
            ServiceError::PermissionDenied(_)
        ));
        assert!(matches!(
            ServiceError::from(Refusal::LabelTaken),
            ServiceError::AlreadyExists(_)
        ));
        assert!(matches!(
            ServiceError::from(Refusal::PaymentReferenceReused { reference: "TILL-1".into() }),
            ServiceError::IdempotencyKeyReused { field: "payment_reference", ref key } if key == "TILL-1"
        ));
        assert!(matches!(
            ServiceError::from(Refusal::StaleVersion { current: 3, given: 2 }),
            ServiceError::Aborted(ref m) if m.contains("version 3")
        ));
        assert!(matches!(
            ServiceError::from(Refusal::NoTable(Uuid::nil())),
            ServiceError::NotFound(ref m) if m.contains(&Uuid::nil().to_string())
        ));
    }
}
