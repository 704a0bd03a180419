//! Where a reservation is in its life cycle, and the one place that decides
//! which command may move it where.

use std::fmt;

/// A reservation's status, stored by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    Confirmed,
    CheckedIn,
    Completed,
    Cancelled,
    NoShow,
}

/// The statuses in which a reservation holds its table (the exclusion
/// constraint's predicate says the same).
pub const HOLDING: [Status; 3] = [Status::Pending, Status::Confirmed, Status::CheckedIn];

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Pending,
        Status::Confirmed,
        Status::CheckedIn,
        Status::Completed,
        Status::Cancelled,
        Status::NoShow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Confirmed => "CONFIRMED",
            Status::CheckedIn => "CHECKED_IN",
            Status::Completed => "COMPLETED",
            Status::Cancelled => "CANCELLED",
            Status::NoShow => "NO_SHOW",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == stored)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a caller (or the sweeper) asks of a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Confirm,
    AssignTable,
    CheckIn,
    Complete,
    Cancel,
    MarkNoShow,
    PayDeposit,
    Reschedule,
}

impl Command {
    fn verb(self) -> &'static str {
        match self {
            Command::Confirm => "confirm",
            Command::AssignTable => "assign a table to",
            Command::CheckIn => "check in",
            Command::Complete => "complete",
            Command::Cancel => "cancel",
            Command::MarkNoShow => "mark as no-show",
            Command::PayDeposit => "pay the deposit of",
            Command::Reschedule => "reschedule",
        }
    }
}

/// A command the current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a reservation that is {current}", .command.verb())]
pub struct TransitionRefused {
    pub command: Command,
    pub current: Status,
}

/// The state machine: PENDING → CONFIRMED → CHECKED_IN → COMPLETED;
/// PENDING or CONFIRMED → CANCELLED; CONFIRMED → NO_SHOW. Tables are assigned
/// and deposits paid while PENDING or CONFIRMED, without a status change.
/// Everything else is refused, naming the current status.
pub fn transition(current: Status, command: Command) -> Result<Status, TransitionRefused> {
    use Command as C;
    use Status as S;
    match (current, command) {
        (S::Pending, C::Confirm) => Ok(S::Confirmed),
        (S::Pending | S::Confirmed, C::AssignTable | C::PayDeposit | C::Reschedule) => Ok(current),
        (S::Confirmed, C::CheckIn) => Ok(S::CheckedIn),
        (S::CheckedIn, C::Complete) => Ok(S::Completed),
        (S::Pending | S::Confirmed, C::Cancel) => Ok(S::Cancelled),
        (S::Confirmed, C::MarkNoShow) => Ok(S::NoShow),
        (current, command) => Err(TransitionRefused { command, current }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMANDS: [Command; 8] = [
        Command::Confirm,
        Command::AssignTable,
        Command::CheckIn,
        Command::Complete,
        Command::Cancel,
        Command::MarkNoShow,
        Command::PayDeposit,
        Command::Reschedule,
    ];

    #[test]
    fn the_happy_path_runs_to_completed() {
        let mut status = Status::Pending;
        for command in [
            Command::PayDeposit,
            Command::AssignTable,
            Command::Confirm,
            Command::CheckIn,
            Command::Complete,
        ] {
            status = transition(status, command).expect("allowed");
        }
        assert_eq!(status, Status::Completed);
    }

    #[test]
    fn exactly_the_documented_transitions_are_allowed() {
        let mut allowed = Vec::new();
        for from in Status::ALL {
            for command in COMMANDS {
                if let Ok(to) = transition(from, command) {
                    allowed.push((from, command, to));
                }
            }
        }
        use Command as C;
        use Status as S;
        assert_eq!(
            allowed,
            [
                (S::Pending, C::Confirm, S::Confirmed),
                (S::Pending, C::AssignTable, S::Pending),
                (S::Pending, C::Cancel, S::Cancelled),
                (S::Pending, C::PayDeposit, S::Pending),
                (S::Pending, C::Reschedule, S::Pending),
                (S::Confirmed, C::AssignTable, S::Confirmed),
                (S::Confirmed, C::CheckIn, S::CheckedIn),
                (S::Confirmed, C::Cancel, S::Cancelled),
                (S::Confirmed, C::MarkNoShow, S::NoShow),
                (S::Confirmed, C::PayDeposit, S::Confirmed),
                (S::Confirmed, C::Reschedule, S::Confirmed),
                (S::CheckedIn, C::Complete, S::Completed),
            ]
        );
    }

    #[test]
    fn refusals_name_the_current_status() {
        let err = transition(Status::Completed, Command::Confirm).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot confirm a reservation that is COMPLETED"
        );
        let twice = transition(Status::Cancelled, Command::Cancel).unwrap_err();
        assert!(twice.to_string().contains("CANCELLED"));
        let early = transition(Status::Pending, Command::CheckIn).unwrap_err();
        assert_eq!(
            early.to_string(),
            "cannot check in a reservation that is PENDING"
        );
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("pending"), None);
    }
}
