//! reservation-svc's SQL, one module per table. Handlers never write
//! queries; the command modules (`floor`, `reservations`, `sweeper`) call
//! these inside their transactions.
//!
//! The constraints the service relies on are named here, with what each
//! means for the caller when a statement breaks it.

pub mod created;
pub mod history;
pub mod holds;
pub mod reservations;
pub mod schema;
pub mod tables;
pub mod waitlist;

use service_kit::ServiceError;
use service_kit::db::{ConstraintKind, Violation};

use crate::domain::{Change, Refusal};

/// The exclusion constraint that keeps a table from being held twice, by
/// reservations and waitlist offers alike (`table_holds`).
pub const NO_DOUBLE_BOOKING: &str = "table_holds_no_double_booking";
/// One payment pays one deposit: a reference is on one reservation at most.
pub const PAYMENT_REFERENCE: &str = "reservations_payment_reference";
/// Table labels, unique regardless of case.
pub const TABLE_LABEL: &str = "restaurant_tables_label_key";

/// The refusal a broken constraint stands for, for `RefuseExt::refuse`:
/// losing a race for a table or a label is the caller's to hear about;
/// anything else takes the shared mapping.
pub fn refusal(broken: Violation<'_>) -> Option<ServiceError> {
    let refusal = match (broken.kind, broken.constraint) {
        (ConstraintKind::Exclusion, NO_DOUBLE_BOOKING) => Refusal::TableHeld,
        (ConstraintKind::Unique, TABLE_LABEL) => Refusal::LabelTaken,
        _ => return None,
    };
    Some(refusal.into())
}

/// The same, for the statement that writes `change`: a payment reference
/// another reservation holds ([`PAYMENT_REFERENCE`], when a payment raced
/// past the check) is that payment's key sent again, named.
pub fn refusal_writing(change: &Change) -> impl FnOnce(Violation<'_>) -> Option<ServiceError> + '_ {
    move |broken| match (broken.kind, broken.constraint, change.payment_reference()) {
        (ConstraintKind::Unique, PAYMENT_REFERENCE, Some(reference)) => Some(
            Refusal::PaymentReferenceReused {
                reference: reference.to_owned(),
            }
            .into(),
        ),
        _ => refusal(broken),
    }
}
