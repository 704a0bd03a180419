//! A showtime's values and its one transition: SCHEDULED → CANCELLED.

use chrono::{DateTime, Utc};
use service_kit::FieldViolation;
use service_kit::values::parse_required_text;

use super::Refusal;

/// Where a showing takes place, e.g. "Studio 1": 1 to 50 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auditorium(String);

impl Auditorium {
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        parse_required_text("auditorium", raw, 50).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A ticket's price in whole rupiah, 0 to 10 000 000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price(i64);

impl Price {
    pub const MAX: i64 = 10_000_000;

    pub fn parse(rupiah: i64) -> Result<Self, FieldViolation> {
        if (0..=Self::MAX).contains(&rupiah) {
            Ok(Self(rupiah))
        } else {
            Err(FieldViolation::new(
                "price",
                "must be between 0 and 10000000 rupiah",
            ))
        }
    }

    pub fn rupiah(self) -> i64 {
        self.0
    }
}

/// Rows "A" to "Z" of 1 to 50 seats each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatLayout {
    rows: i32,
    seats_per_row: i32,
}

impl SeatLayout {
    pub fn parse(rows: i32, seats_per_row: i32) -> Result<Self, Vec<FieldViolation>> {
        let mut problems = Vec::new();
        if !(1..=26).contains(&rows) {
            problems.push(FieldViolation::new(
                "seat_layout.rows",
                "must be between 1 and 26 (rows A to Z)",
            ));
        }
        if !(1..=50).contains(&seats_per_row) {
            problems.push(FieldViolation::new(
                "seat_layout.seats_per_row",
                "must be between 1 and 50",
            ));
        }
        if problems.is_empty() {
            Ok(Self {
                rows,
                seats_per_row,
            })
        } else {
            Err(problems)
        }
    }

    pub fn rows(self) -> i32 {
        self.rows
    }

    pub fn seats_per_row(self) -> i32 {
        self.seats_per_row
    }

    pub fn capacity(self) -> i32 {
        self.rows * self.seats_per_row
    }
}

/// Whether a showtime still takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowtimeStatus {
    Scheduled,
    Cancelled,
}

impl ShowtimeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ShowtimeStatus::Scheduled => "SCHEDULED",
            ShowtimeStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "SCHEDULED" => Some(ShowtimeStatus::Scheduled),
            "CANCELLED" => Some(ShowtimeStatus::Cancelled),
            _ => None,
        }
    }
}

/// What cancelling a showtime does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancellation {
    /// SCHEDULED → CANCELLED.
    Cancel,
    /// Already CANCELLED: answered as it is (cancelling is idempotent).
    AlreadyCancelled,
}

/// Decides a cancellation of a showtime in `status` ending at `end`.
pub fn cancel(
    status: ShowtimeStatus,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Cancellation, Refusal> {
    match status {
        ShowtimeStatus::Cancelled => Ok(Cancellation::AlreadyCancelled),
        ShowtimeStatus::Scheduled if end <= now => Err(Refusal::ShowtimeEnded { end }),
        ShowtimeStatus::Scheduled => Ok(Cancellation::Cancel),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn layouts_are_a_to_z_by_1_to_50() {
        assert_eq!(SeatLayout::parse(26, 50).unwrap().capacity(), 1300);
        let fields: Vec<_> = SeatLayout::parse(0, 51)
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["seat_layout.rows", "seat_layout.seats_per_row"]);
        assert!(SeatLayout::parse(27, 1).is_err());
    }

    #[test]
    fn prices_and_auditoriums_have_bounds() {
        assert!(Price::parse(-1).is_err());
        assert!(Price::parse(10_000_001).is_err());
        assert_eq!(Price::parse(50_000).unwrap().rupiah(), 50_000);
        assert!(Auditorium::parse("").is_err());
        assert!(Auditorium::parse(&"x".repeat(51)).is_err());
        assert_eq!(
            Auditorium::parse(" Studio 1 ").unwrap().as_str(),
            "Studio 1"
        );
    }

    #[test]
    fn cancelling_is_idempotent_and_refused_after_the_end() {
        let now = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        let later = now + Duration::hours(2);
        assert_eq!(
            cancel(ShowtimeStatus::Scheduled, later, now),
            Ok(Cancellation::Cancel)
        );
        assert_eq!(
            cancel(ShowtimeStatus::Cancelled, later, now),
            Ok(Cancellation::AlreadyCancelled)
        );
        let ended = now - Duration::minutes(1);
        assert_eq!(
            cancel(ShowtimeStatus::Scheduled, ended, now),
            Err(Refusal::ShowtimeEnded { end: ended })
        );
        assert!(cancel(ShowtimeStatus::Scheduled, now, now).is_err());
    }
}
