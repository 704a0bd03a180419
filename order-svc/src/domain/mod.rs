//! The order rules, as pure functions over values: seats and how they are
//! picked, the showtime's, an order's life cycle, the door's, tickets. Each
//! refuses with a [`Refusal`]; the command modules load, ask these, write.

pub mod admission;
pub mod refusal;
pub mod seats;
pub mod showtime;
pub mod status;
pub mod ticket;

pub use refusal::{Holds, Refusal};
pub use seats::{Layout, Seat, Taken, Wanted};
pub use showtime::ShowtimeState;
pub use status::{Command, Decision, OrderState, OrderStatus, decide};

/// A fixed instant for the rules' tests: the rules read no clock.
#[cfg(test)]
pub(crate) fn noon() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_796_472_000, 0).unwrap_or_default()
}
