//! What the load did: every request with its time and outcome, so failures
//! can be put on the fault windows afterwards; and every create with its
//! idempotency key, its body and what each of its attempts answered, for
//! the checks.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// What a request of the load does, through the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Op {
    BookTable,
    ReadReservation,
    ConfirmReservation,
    AssignTable,
    CancelReservation,
    OrderTickets,
    ReadOrder,
    PayOrder,
    CancelOrder,
}

/// The two halves of the load, whose stalls are told apart: a fault in
/// reservation-svc should not stall the orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Family {
    Reservations,
    Orders,
}

/// A Kursi service behind the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Auth,
    Reservation,
    Catalog,
    Order,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Self::BookTable => "book-table",
            Self::ReadReservation => "read-reservation",
            Self::ConfirmReservation => "confirm-reservation",
            Self::AssignTable => "assign-table",
            Self::CancelReservation => "cancel-reservation",
            Self::OrderTickets => "order-tickets",
            Self::ReadOrder => "read-order",
            Self::PayOrder => "pay-order",
            Self::CancelOrder => "cancel-order",
        }
    }

    pub fn family(self) -> Family {
        match self {
            Self::BookTable
            | Self::ReadReservation
            | Self::ConfirmReservation
            | Self::AssignTable
            | Self::CancelReservation => Family::Reservations,
            _ => Family::Orders,
        }
    }

    pub fn is_read(self) -> bool {
        matches!(self, Self::ReadReservation | Self::ReadOrder)
    }

    /// Whether the request cannot be answered without `service` (besides
    /// the edge and PostgreSQL). None needs auth-svc: the tokens were issued
    /// before the load, and the edge and the services check them with the
    /// signing keys they keep.
    pub fn needs(self, service: Service) -> bool {
        match service {
            Service::Auth => false,
            Service::Reservation => self.family() == Family::Reservations,
            Service::Order => self.family() == Family::Orders,
            // order-svc asks catalog-svc for the showtime of a new order.
            Service::Catalog => self == Self::OrderTickets,
        }
    }
}

/// How one request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// An answer the rules give (a table taken, a retried change that the
    /// first attempt had made): not a failure.
    Refused(String),
    /// A failure, under its label: `503 UNAVAILABLE`, `CONNECT_FAILED`, …
    Failed(String),
}

/// One request.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub op: Op,
    /// When it was sent, µs since the Unix epoch (the fault windows are
    /// marked on the same clock).
    pub sent_us: u64,
    pub took_us: u64,
    pub outcome: Outcome,
    /// What a failure's answer said (its google.rpc.Status message).
    pub message: Option<String>,
}

impl Attempt {
    pub fn answered_us(&self) -> u64 {
        self.sent_us + self.took_us
    }
}

/// A create sent with an idempotency key, and every id its attempts were
/// answered with: more than one is a key that maps to two results.
#[derive(Debug, Clone)]
pub struct Created {
    pub family: Family,
    /// The prepared customer who sent it.
    pub customer: usize,
    pub key: String,
    pub body: serde_json::Value,
    pub ids: Vec<String>,
}

/// One worker's record, merged into one at the end.
#[derive(Debug, Default)]
pub struct Ledger {
    pub attempts: Vec<Attempt>,
    pub created: Vec<Created>,
}

impl Ledger {
    pub fn merge(&mut self, other: Ledger) {
        self.attempts.extend(other.attempts);
        self.created.extend(other.created);
    }
}

/// Now, µs since the Unix epoch.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_op_needs_the_services_it_calls() {
        assert!(Op::BookTable.needs(Service::Reservation));
        assert!(!Op::BookTable.needs(Service::Order));
        assert!(Op::OrderTickets.needs(Service::Catalog));
        assert!(!Op::PayOrder.needs(Service::Catalog));
        assert!(Op::ReadOrder.needs(Service::Order));
        for op in [Op::BookTable, Op::ReadOrder, Op::OrderTickets] {
            assert!(!op.needs(Service::Auth), "{op:?}");
        }
        assert!(Op::ReadOrder.is_read() && !Op::PayOrder.is_read());
    }
}
