//! order-svc's SQL, one module per table. Handlers never write queries; the
//! command modules (`orders`, `door`, `transition`, `sweeper`,
//! `cancellations`) call these inside their transactions.
//!
//! The constraints the rules rely on are named here, and [`refusal`] says
//! once what breaking each of them means.

pub mod orders;
pub mod schema;
pub mod seats;
pub mod showtimes;
pub mod tickets;

use service_kit::db::{ConstraintKind, Violation};

use self::orders::OrderRow;
use crate::domain::Refusal;

/// No seat is held or sold by two live orders.
pub const LIVE_SEATS_UNIQUE: &str = "order_seats_live";
/// One payment pays one order.
pub const PAYMENT_UNIQUE: &str = "orders_payment_reference";

/// The refusal a broken constraint of order-svc's stands for, in a write of
/// `order` (the refusal names what of it broke the rule); `None` for one
/// the rules do not rely on, which takes the shared mapping. Used with
/// `service_kit::db::RefuseExt::refuse`.
pub fn refusal<E: From<Refusal>>(order: &OrderRow) -> impl FnOnce(Violation<'_>) -> Option<E> + '_ {
    move |broke| {
        let refusal = match (broke.kind, broke.constraint) {
            (ConstraintKind::Unique, LIVE_SEATS_UNIQUE) => Refusal::SeatTakenMeanwhile,
            (ConstraintKind::Unique, PAYMENT_UNIQUE) => Refusal::PaymentReferenceTaken {
                reference: order.payment_reference.clone().unwrap_or_default(),
            },
            _ => return None,
        };
        Some(E::from(refusal))
    }
}
