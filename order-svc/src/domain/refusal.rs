//! Every way order-svc's rules refuse a request, as a value that names the
//! rule and carries what its message says, and the one mapping from them to
//! gRPC codes. The rules in `domain` return these; the constraints that
//! guarantee a rule (`db::refusal`) answer with the same values.

use chrono::{DateTime, Duration, DurationRound, Utc};
use chrono_tz::Tz;
use service_kit::ServiceError;
use uuid::Uuid;

use super::{Layout, OrderStatus, Seat};

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No such order, or one the caller may not see (answered alike, so ids
    /// cannot be probed).
    #[error("no order with id {0}")]
    UnknownOrder(Uuid),
    /// No ticket with this code.
    #[error("no ticket with this code")]
    UnknownTicket,

    // An order's life cycle (`status::decide`).
    /// Paying a PENDING order after its hold ran out.
    #[error(
        "the order expired at {} and its seats were released; order again",
        .at.to_rfc3339()
    )]
    Expired { at: DateTime<Utc> },
    /// Paying a PAID order again, with another reference.
    #[error("the order is PAID already, with another payment reference")]
    PaidWithAnotherReference,
    /// Paying or cancelling (`to` PAID or CANCELLED) an order that is no
    /// longer PENDING.
    #[error(
        "the order is {}; only a PENDING order can be {}",
        .status.as_str(),
        .to.as_str().to_lowercase()
    )]
    NotPending {
        status: OrderStatus,
        to: OrderStatus,
    },

    // The showtime (`showtime`).
    /// The catalog called the showtime off: no orders, no payments.
    #[error("the showtime was cancelled{}; it takes no orders", in_brackets(.reason))]
    ShowtimeCancelled { reason: Option<String> },
    /// Tickets are sold until the showtime starts.
    #[error(
        "the showtime started at {}; tickets are sold until it starts",
        .at.to_rfc3339()
    )]
    ShowtimeStarted { at: DateTime<Utc> },

    // Seats (`seats`).
    /// Chosen seats the showtime does not have (INVALID_ARGUMENT on `seats`).
    #[error(
        "{} {} not a seat of this showtime (rows A to {}, seats 1 to {})",
        labels(.seats),
        is_are(.seats),
        last_row(.layout),
        .layout.seats_per_row
    )]
    OutsideTheLayout { seats: Vec<Seat>, layout: Layout },
    /// No seat is free: every one sold, or some held by unpaid orders.
    #[error("{}", match .holds {
        None => "the showtime is sold out".to_owned(),
        Some(holds) => format!("no free seat; {holds}"),
    })]
    SoldOut { holds: Option<Holds> },
    /// Fewer seats are free than the order asks for.
    #[error(
        "only {left} {} left; {asked} were asked for{}",
        if *.left == 1 { "seat is" } else { "seats are" },
        .holds.map(|holds| format!("; {holds}")).unwrap_or_default()
    )]
    TooFewLeft {
        left: i32,
        asked: i32,
        holds: Option<Holds>,
    },
    /// Chosen seats another order holds or bought.
    #[error("{} {} held or sold; choose other seats", labels(.seats), is_are(.seats))]
    SeatsTaken { seats: Vec<Seat> },

    // The door (`admission::admit`).
    /// Only a PAID order's tickets admit.
    #[error("the order is {}; only a PAID order's tickets admit", .status.as_str())]
    NotPaid { status: OrderStatus },
    /// The order was refunded: its tickets are void.
    #[error(
        "the order was refunded ({}); its tickets do not admit",
        .reason.as_deref().unwrap_or("no reason given")
    )]
    Refunded { reason: Option<String> },
    #[error("the showtime was cancelled; its tickets do not admit")]
    ShowingCancelled,
    /// A ticket admits from when the doors open, `before` minutes before
    /// the showing starts (`at`, on the cinema's clock).
    #[error(
        "the doors open at {} ({before} minutes before the showing); \
         its tickets admit from then until it ends",
        .at.to_rfc3339()
    )]
    DoorsNotOpen { at: DateTime<Tz>, before: i64 },
    /// A ticket admits until its showing ends (`at`, on the cinema's clock).
    #[error("the showing ended at {}; its tickets no longer admit", .at.to_rfc3339())]
    ShowingEnded { at: DateTime<Tz> },
    /// A ticket admits once.
    #[error(
        "ticket {code} for seat {seat} was redeemed already, at {}",
        .at.map(|at| at.to_rfc3339()).unwrap_or_default()
    )]
    AlreadyRedeemed {
        code: String,
        seat: String,
        at: Option<DateTime<Utc>>,
    },

    // What the constraints guarantee (`db::refusal`).
    /// A seat was taken by a racing order. Orders of one showtime take
    /// turns, so this does not happen; the unique index is the guarantee.
    #[error("a seat was taken meanwhile; order again")]
    SeatTakenMeanwhile,
    /// One payment pays one order: its reference is the payment's
    /// idempotency key, and never expires.
    #[error("payment_reference {reference:?} has paid another order already")]
    PaymentReferenceTaken { reference: String },
    /// A create with this idempotency key was made by a concurrent retry
    /// whose key could not be read back (it expired meanwhile).
    #[error("a concurrent retry with this idempotency key is in flight; retry")]
    KeyTaken,
}

/// Seats held by unpaid orders, which come free if those lapse: how many,
/// and when the first is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holds {
    pub seats: i32,
    /// On the cinema's clock; `None` until the command has looked it up.
    pub first_released: Option<DateTime<Tz>>,
}

impl std::fmt::Display for Holds {
    /// "12 are held by unpaid orders, the first is released at 19:42
    /// (Asia/Jakarta)": the minute rounded up, so that a customer who comes
    /// back then finds the seat free.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self.first_released.map(|at| {
            let minute = at.duration_trunc(Duration::minutes(1)).unwrap_or(at);
            let minute = if minute < at {
                minute + Duration::minutes(1)
            } else {
                minute
            };
            format!("{} ({})", minute.format("%H:%M"), at.timezone().name())
        });
        match (self.seats, at) {
            (1, Some(at)) => write!(f, "1 is held by an unpaid order, released at {at}"),
            (1, None) => f.write_str("1 is held by an unpaid order"),
            (n, Some(at)) => write!(
                f,
                "{n} are held by unpaid orders, the first is released at {at}"
            ),
            (n, None) => write!(f, "{n} are held by unpaid orders"),
        }
    }
}

impl Refusal {
    /// The unpaid holds a refusal for too few free seats names, to be told
    /// when the first of them is released.
    pub fn holds_mut(&mut self) -> Option<&mut Holds> {
        match self {
            Refusal::SoldOut { holds } | Refusal::TooFewLeft { holds, .. } => holds.as_mut(),
            _ => None,
        }
    }
}

impl From<Refusal> for ServiceError {
    fn from(refusal: Refusal) -> Self {
        let message = refusal.to_string();
        match refusal {
            Refusal::UnknownOrder(_) | Refusal::UnknownTicket => ServiceError::NotFound(message),
            Refusal::OutsideTheLayout { .. } => ServiceError::invalid("seats", message),
            Refusal::SeatTakenMeanwhile | Refusal::KeyTaken => ServiceError::Aborted(message),
            Refusal::PaymentReferenceTaken { reference } => ServiceError::IdempotencyKeyReused {
                field: "payment_reference",
                key: reference,
            },
            Refusal::Expired { .. }
            | Refusal::PaidWithAnotherReference
            | Refusal::NotPending { .. }
            | Refusal::ShowtimeCancelled { .. }
            | Refusal::ShowtimeStarted { .. }
            | Refusal::SoldOut { .. }
            | Refusal::TooFewLeft { .. }
            | Refusal::SeatsTaken { .. }
            | Refusal::NotPaid { .. }
            | Refusal::Refunded { .. }
            | Refusal::ShowingCancelled
            | Refusal::DoorsNotOpen { .. }
            | Refusal::ShowingEnded { .. }
            | Refusal::AlreadyRedeemed { .. } => ServiceError::FailedPrecondition(message),
        }
    }
}

fn in_brackets(reason: &Option<String>) -> String {
    reason
        .as_ref()
        .map(|reason| format!(" ({reason})"))
        .unwrap_or_default()
}

/// "C5, C6": every seat named, so the customer fixes them in one go.
fn labels(seats: &[Seat]) -> String {
    seats
        .iter()
        .map(|seat| seat.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The letter of a layout's last row.
fn last_row(layout: &Layout) -> char {
    Seat {
        row: layout.rows,
        number: 1,
    }
    .row_letter()
}

fn is_are(seats: &[Seat]) -> &'static str {
    if seats.len() == 1 { "is" } else { "are" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::noon;

    fn seats(labels: &[&str]) -> Vec<Seat> {
        labels.iter().map(|l| Seat::parse(l).unwrap()).collect()
    }

    #[test]
    fn messages_name_what_refused() {
        assert_eq!(
            Refusal::NotPending {
                status: OrderStatus::Expired,
                to: OrderStatus::Cancelled
            }
            .to_string(),
            "the order is EXPIRED; only a PENDING order can be cancelled"
        );
        assert_eq!(
            Refusal::ShowtimeCancelled {
                reason: Some("flood".into())
            }
            .to_string(),
            "the showtime was cancelled (flood); it takes no orders"
        );
        assert_eq!(
            Refusal::ShowtimeCancelled { reason: None }.to_string(),
            "the showtime was cancelled; it takes no orders"
        );
        assert_eq!(
            Refusal::TooFewLeft {
                left: 1,
                asked: 3,
                holds: None
            }
            .to_string(),
            "only 1 seat is left; 3 were asked for"
        );
        assert_eq!(
            Refusal::SoldOut { holds: None }.to_string(),
            "the showtime is sold out"
        );
        // 12:41:10 UTC is 19:41:10 in Jakarta: released by 19:42.
        let lapses = (noon() + Duration::seconds(41 * 60 + 10)).with_timezone(&Tz::Asia__Jakarta);
        let held = |seats| Holds {
            seats,
            first_released: Some(lapses),
        };
        assert_eq!(
            Refusal::SoldOut {
                holds: Some(held(12))
            }
            .to_string(),
            "no free seat; 12 are held by unpaid orders, the first is released at 19:42 (Asia/Jakarta)"
        );
        assert_eq!(
            Refusal::TooFewLeft {
                left: 2,
                asked: 3,
                holds: Some(held(1))
            }
            .to_string(),
            "only 2 seats are left; 3 were asked for; 1 is held by an unpaid order, released at 19:42 (Asia/Jakarta)"
        );
        // On the minute, that minute.
        let on_the_minute = Holds {
            seats: 2,
            first_released: Some(noon().with_timezone(&Tz::UTC)),
        };
        assert_eq!(
            on_the_minute.to_string(),
            "2 are held by unpaid orders, the first is released at 12:00 (UTC)"
        );
        assert_eq!(
            Refusal::SeatsTaken {
                seats: seats(&["C5", "C6"])
            }
            .to_string(),
            "C5, C6 are held or sold; choose other seats"
        );
        assert_eq!(
            Refusal::OutsideTheLayout {
                seats: seats(&["K1"]),
                layout: Layout {
                    rows: 10,
                    seats_per_row: 12
                }
            }
            .to_string(),
            "K1 is not a seat of this showtime (rows A to J, seats 1 to 12)"
        );
    }

    #[test]
    fn each_refusal_has_its_code() {
        let code = |refusal: Refusal| match ServiceError::from(refusal) {
            ServiceError::NotFound(_) => "NOT_FOUND",
            ServiceError::InvalidArgument(v) if v[0].field == "seats" => "INVALID_ARGUMENT seats",
            ServiceError::Aborted(_) => "ABORTED",
            ServiceError::IdempotencyKeyReused {
                field: "payment_reference",
                key,
            } if key == "PAY-1" => "KEY_REUSED payment_reference",
            ServiceError::FailedPrecondition(_) => "FAILED_PRECONDITION",
            other => panic!("{other:?}"),
        };
        assert_eq!(code(Refusal::UnknownTicket), "NOT_FOUND");
        assert_eq!(
            code(Refusal::OutsideTheLayout {
                seats: seats(&["Z1"]),
                layout: Layout {
                    rows: 1,
                    seats_per_row: 1
                }
            }),
            "INVALID_ARGUMENT seats"
        );
        assert_eq!(code(Refusal::SeatTakenMeanwhile), "ABORTED");
        assert_eq!(code(Refusal::KeyTaken), "ABORTED");
        assert_eq!(
            code(Refusal::PaymentReferenceTaken {
                reference: "PAY-1".into()
            }),
            "KEY_REUSED payment_reference"
        );
        assert_eq!(
            code(Refusal::SoldOut { holds: None }),
            "FAILED_PRECONDITION"
        );
        assert_eq!(code(Refusal::ShowingCancelled), "FAILED_PRECONDITION");
    }
}
