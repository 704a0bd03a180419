//! The catalog's rules: value objects, what a movie is made of and how it
//! changes, a showtime's life cycle, the scheduling rules, an import's
//! operation, and the typed refusals they answer with.

pub mod import;
pub mod movie;
pub mod operation;
pub mod refusal;
pub mod schedule;
pub mod showtime;
pub mod values;

pub use movie::{FieldValue, MovieContent, MovieEdit, MovieField, Revision};
pub use operation::{OperationName, OperationState};
pub use refusal::{Clash, FieldRefusal, Refusal};
pub use schedule::{Occupant, ScheduleRules};
pub use showtime::{Auditorium, Cancellation, Price, SeatLayout, ShowtimeStatus};
