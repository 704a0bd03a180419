//! order-svc's SQL, one module per table. Handlers never write queries; the
//! service layer (`orders`, `sweeper`, `cancellations`) calls these inside
//! its transactions.

pub mod orders;
pub mod schema;
pub mod seats;
pub mod showtimes;
pub mod tickets;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// No seat is held or sold by two live orders.
pub const LIVE_SEATS_UNIQUE: &str = "order_seats_live";
/// A retried create with the same key returns the first order.
pub const IDEMPOTENCY_UNIQUE: &str = "orders_idempotency_key";
/// One payment pays one order.
pub const PAYMENT_UNIQUE: &str = "orders_payment_reference";

/// The unique index a failed statement broke, when it broke one.
pub fn unique_violated(err: &DieselError) -> Option<&str> {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name()
        }
        _ => None,
    }
}
