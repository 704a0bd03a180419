//! The restaurant's rules, free of gRPC and SQL: value objects, the
//! reservation state machine, the aggregate's commands and the policy
//! settings.

pub mod policy;
pub mod reservation;
pub mod status;
pub mod values;

pub use policy::{CancelReason, DailyWindow, DepositPolicy, RestaurantPolicy, TurnTimes};
pub use reservation::{Change, DepositStatus, Outcome, Refusal, Reservation, Step, TableOffer};
pub use status::{Command, HOLDING, Status, TransitionRefused, transition};
