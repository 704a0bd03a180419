//! The named scenarios, and which prepared data each request of one uses.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// A customer books a table (a write: one transaction, history and event rows).
    CreateReservation,
    /// A customer reads one of their own reservations by id.
    GetReservation,
    /// A customer lists their reservations, ten at a time.
    ListReservations,
    /// An account signs in: bcrypt-bound by design (BCRYPT_COST, 12 by default).
    Login,
    /// A customer orders 2 tickets by quantity and cancels the order: the
    /// pair is one request, so seats stay free however long the run.
    CreateOrder,
    /// Clients race for one fresh showtime (--rows × --seats-per-row) until
    /// it is sold out, ordering --quantity tickets each; then the seat map
    /// is checked for seats sold twice (a failed check exits non-zero).
    SeatRush,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Self::CreateReservation => "create-reservation",
            Self::GetReservation => "get-reservation",
            Self::ListReservations => "list-reservations",
            Self::Login => "login",
            Self::CreateOrder => "create-order",
            Self::SeatRush => "seat-rush",
        }
    }

    /// Whether the customers sign in before the run (and the bootstrap
    /// admin prepares data). Login only needs registered accounts: it signs
    /// in on every request.
    pub fn signs_in(self) -> bool {
        !matches!(self, Self::Login)
    }

    /// Whether the run needs reservations (and so a staff account and tables).
    pub fn needs_reservations(self) -> bool {
        matches!(
            self,
            Self::CreateReservation | Self::GetReservation | Self::ListReservations
        )
    }

    /// Whether the run orders tickets (and so needs a movie and showtimes).
    pub fn orders_tickets(self) -> bool {
        matches!(self, Self::CreateOrder | Self::SeatRush)
    }
}

/// Which of `len` items request `ticket` uses: round robin, so every user
/// and every reservation gets its share of the load.
pub fn pick(len: usize, ticket: u64) -> usize {
    if len == 0 {
        0
    } else {
        (ticket % len as u64) as usize
    }
}

/// When a reservation booked by request `ticket` starts, in Unix seconds.
///
/// Days 1 to 50 ahead (inside the 60-day booking window), at one of eight
/// half-hour slots from 05:00 UTC, which is 12:00–15:30 in Jakarta: within
/// the default opening hours and outside peak hours, so no deposit is asked.
pub fn start_time(now_unix: i64, ticket: u64) -> i64 {
    const DAY: i64 = 86_400;
    let today = now_unix.div_euclid(DAY);
    let day = today + 1 + (ticket % 50) as i64;
    let slot = ((ticket / 50) % 8) as i64;
    day * DAY + 5 * 3_600 + slot * 1_800
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_goes_round_robin() {
        let picks: Vec<usize> = (0..6).map(|t| pick(3, t)).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
        assert_eq!(pick(0, 7), 0);
    }

    #[test]
    fn start_times_are_ahead_inside_the_window_and_off_peak() {
        // 2026-01-01T23:59:59Z: the latest moment of a day.
        let now = 1_767_311_999;
        for ticket in 0..1_000 {
            let start = start_time(now, ticket);
            assert!(start > now + 3_600, "{ticket}");
            assert!(start < now + 51 * 86_400, "{ticket}");
            let second_of_day = start.rem_euclid(86_400);
            // 05:00–08:30 UTC = 12:00–15:30 in Jakarta (UTC+7).
            assert!((5 * 3_600..=8 * 3_600 + 1_800).contains(&second_of_day));
        }
        assert_ne!(start_time(now, 0), start_time(now, 1));
    }

    #[test]
    fn names_match_the_command_line() {
        for scenario in Scenario::value_variants() {
            let parsed = Scenario::from_str(scenario.name(), false).unwrap();
            assert_eq!(parsed, *scenario);
        }
    }
}
