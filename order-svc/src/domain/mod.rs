//! The order rules: seats and how they are picked, an order's life cycle,
//! tickets.

pub mod seats;
pub mod status;
pub mod ticket;

pub use seats::{Layout, Seat};
pub use status::{Command, Decision, OrderState, OrderStatus, decide};
