//! The cinema's scheduling rules: its clock, how far ahead showtimes may be
//! set, and the turnaround an auditorium needs between showings.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::{Clash, FieldRefusal, Refusal};

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
    ) -> Result<(), FieldRefusal> {
        if start <= now {
            return Err(FieldRefusal::StartNotInTheFuture);
        }
        if start > now + self.window {
            return Err(FieldRefusal::StartBeyondTheWindow {
                days: self.window.num_days(),
            });
        }
        Ok(())
    }

    /// When a showing of a `minutes` long movie starting at `start` ends,
    /// and when its auditorium is free again (after the turnaround).
    pub fn slot(&self, start: DateTime<Utc>, minutes: i32) -> (DateTime<Utc>, DateTime<Utc>) {
        let end = start + Duration::minutes(minutes.into());
        (end, end + self.turnaround)
    }

    /// The refusal of a new showing that `occupant` is in the way of.
    pub fn taken_by(&self, occupant: &Occupant<'_>) -> Refusal {
        Refusal::AuditoriumTaken(Box::new(Clash {
            auditorium: occupant.auditorium.to_owned(),
            from: self.local(occupant.start),
            until: self.local(occupant.free_at),
            time_zone: self.time_zone.name(),
            turnaround_minutes: self.turnaround.num_minutes(),
            movie_title: occupant.movie_title.to_owned(),
            showtime_id: occupant.showtime_id,
        }))
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

/// A SCHEDULED showing holding its auditorium over `[start, free_at)`.
#[derive(Debug, Clone, Copy)]
pub struct Occupant<'a> {
    pub showtime_id: Uuid,
    pub auditorium: &'a str,
    pub movie_title: &'a str,
    pub start: DateTime<Utc>,
    pub free_at: DateTime<Utc>,
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
        assert_eq!(
            rules.check_start(now - Duration::minutes(1), now),
            Err(FieldRefusal::StartNotInTheFuture)
        );
        assert!(rules.check_start(now + Duration::hours(1), now).is_ok());
        assert_eq!(
            rules.check_start(now + Duration::days(366), now),
            Err(FieldRefusal::StartBeyondTheWindow { days: 365 })
        );
    }

    #[test]
    fn a_showing_holds_its_auditorium_through_the_turnaround() {
        let rules = ScheduleRules::default();
        let start = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        let (end, free_at) = rules.slot(start, 155);
        assert_eq!(end - start, Duration::minutes(155));
        assert_eq!(free_at - end, Duration::minutes(15));
        let occupant = Occupant {
            showtime_id: Uuid::nil(),
            auditorium: "Studio 1",
            movie_title: "Dune",
            start,
            free_at,
        };
        let Refusal::AuditoriumTaken(clash) = rules.taken_by(&occupant) else {
            panic!("not a clash");
        };
        assert_eq!(clash.time_zone, "Asia/Jakarta");
        assert_eq!(clash.from, rules.local(start));
        assert_eq!(clash.until, rules.local(free_at));
    }
}
