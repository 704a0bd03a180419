//! The catalog's rules: value objects, what a movie is made of and how it
//! changes, and a showtime's life cycle.

pub mod movie;
pub mod schedule;
pub mod showtime;
pub mod values;

pub use movie::{FieldValue, MovieContent, MovieEdit, MovieField, Revision};
pub use schedule::ScheduleRules;
pub use showtime::{Auditorium, Cancellation, Price, SeatLayout, ShowtimeStatus};
