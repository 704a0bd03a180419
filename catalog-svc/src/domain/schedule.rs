//! The cinema's scheduling rules: its clock, how far ahead showtimes may be
//! set, and the turnaround an auditorium needs between showings.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use service_kit::FieldViolation;

#[derive(Debug, Clone)]
pub struct ScheduleRules {
    /// The cinema's clock: days in ListShowtimes are its days.
    pub time_zone: Tz,
    /// Cleaning and letting the next audience in, after each showing.
    pub turnaround: Duration,
    /// How far ahead a showtime may start.
    pub window: Duration,
}

impl Default for ScheduleRules {
    fn default() -> Self {
        Self {
            time_zone: chrono_tz::Asia::Jakarta,
            turnaround: Duration::minutes(15),
            window: Duration::days(365),
        }
    }
}

impl ScheduleRules {
    /// A new showtime's start: in the future, within the window.
    pub fn check_start(
        &self,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), FieldViolation> {
        if start <= now {
            return Err(FieldViolation::new("start_time", "must be in the future"));
        }
        if start > now + self.window {
            return Err(FieldViolation::new(
                "start_time",
                format!(
                    "must be within {} days from now (SCHEDULE_WINDOW_DAYS)",
                    self.window.num_days()
                ),
            ));
        }
        Ok(())
    }

    /// The instants `[from, to)` of a day on the cinema's clock.
    pub fn day(&self, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = |d: NaiveDate| {
            let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
            // A day that starts inside a DST gap starts when the gap ends.
            self.time_zone
                .from_local_datetime(&midnight)
                .earliest()
                .unwrap_or_else(|| self.time_zone.from_utc_datetime(&midnight))
                .with_timezone(&Utc)
        };
        let next = day.succ_opt().unwrap_or(day);
        (start(day), start(next))
    }

    /// An instant as people at the cinema read it, for messages.
    pub fn local(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.time_zone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_midnight_to_midnight_on_the_cinema_clock() {
        let rules = ScheduleRules::default();
        let (from, to) = rules.day(NaiveDate::from_ymd_opt(2030, 1, 2).unwrap());
        assert_eq!(from.to_rfc3339(), "2030-01-01T17:00:00+00:00");
        assert_eq!(to - from, Duration::hours(24));
    }

    #[test]
    fn starts_are_in_the_future_and_within_the_window() {
        let rules = ScheduleRules::default();
        let now = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        assert!(rules.check_start(now - Duration::minutes(1), now).is_err());
        assert!(rules.check_start(now + Duration::hours(1), now).is_ok());
        assert!(rules.check_start(now + Duration::days(366), now).is_err());
    }
}
