//! The restaurant's rules, free of gRPC and SQL: value objects, the
//! reservation state machine, the aggregate's commands, who may run them,
//! the policy settings, and every refusal with its status code.

pub mod access;
pub mod policy;
pub mod refusal;
pub mod reservation;
pub mod seating;
pub mod status;
pub mod values;
pub mod waitlist;

pub use policy::{CancelReason, DailyWindow, DepositPolicy, RestaurantPolicy, TurnTimes};
pub use refusal::Refusal;
pub use reservation::{Change, DepositStatus, Outcome, Reservation, Step, TableOffer};
pub use seating::Seat;
pub use status::{Command, HOLDING, Status, TransitionRefused, transition};
pub use waitlist::{WaitCommand, WaitOutcome, WaitState, wait_transition};
