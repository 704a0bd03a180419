//! The one clock of a service. Every rule that depends on the time (a hold
//! running out, a sweeper's cut-off, a booking window) reads it from here,
//! passed in with the service's state, so tests can let time pass without
//! waiting for it. It reads to the microsecond, PostgreSQL's precision, so
//! a value rendered before an insert equals the row read back.
//!
//! Access tokens are the exception: they are checked against the machine's
//! time (`auth::verifier`), since they travel between processes whose
//! clocks a test may have moved apart.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// The time as a service sees it: the system's, or the system's moved
/// forward by a test.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Microseconds ahead of the system clock; `None` for the system's own.
    ahead: Option<Arc<AtomicI64>>,
}

/// Moves an adjustable [`Clock`] (and every copy of it) forward.
#[derive(Debug, Clone)]
pub struct ClockHand {
    ahead: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock: what every service runs with.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that starts at the system's time and that the returned hand
    /// moves forward, for tests in which time has to pass.
    pub fn adjustable() -> (Self, ClockHand) {
        let ahead = Arc::new(AtomicI64::new(0));
        (
            Self {
                ahead: Some(ahead.clone()),
            },
            ClockHand { ahead },
        )
    }

    /// Now, to the microsecond.
    pub fn now(&self) -> DateTime<Utc> {
        let micros = Utc::now().timestamp_micros()
            + self
                .ahead
                .as_ref()
                .map_or(0, |ahead| ahead.load(Ordering::Relaxed));
        DateTime::from_timestamp_micros(micros).unwrap_or_else(Utc::now)
    }
}

impl ClockHand {
    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.ahead.fetch_add(micros, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_to_the_microsecond() {
        let now = Clock::system().now();
        assert_eq!(now.timestamp_subsec_nanos() % 1_000, 0);
    }

    #[test]
    fn a_hand_moves_every_copy_of_its_clock() {
        let (clock, hand) = Clock::adjustable();
        let copy = clock.clone();
        let before = copy.now();
        hand.advance(Duration::hours(2));
        assert!(copy.now() - before >= Duration::hours(2));
        assert!(Clock::system().now() < clock.now() - Duration::minutes(110));
    }
}
