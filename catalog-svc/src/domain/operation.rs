//! An import's long-running operation (AIP-151): its name, its life cycle,
//! and what cancelling and deleting may do in each state.
//!
//! RUNNING → SUCCEEDED | FAILED | CANCELLED, each final. Only the import
//! itself moves it: CancelOperation only asks (the import, in whichever
//! replica runs it, sees the request and stops), so that an import that
//! committed first stays SUCCEEDED.

use std::fmt;

use uuid::Uuid;

use super::{FieldRefusal, Refusal};

/// What an operation left RUNNING by a process that stopped reads as.
pub const INTERRUPTED: &str = "interrupted by a restart; nothing was imported";

/// An operation's name: `operations/{uuid}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationName(Uuid);

impl OperationName {
    const PREFIX: &'static str = "operations/";

    pub fn of(id: Uuid) -> Self {
        Self(id)
    }

    pub fn parse(raw: &str) -> Result<Self, FieldRefusal> {
        raw.trim()
            .strip_prefix(Self::PREFIX)
            .and_then(|id| Uuid::parse_str(id).ok())
            .map(Self)
            .ok_or(FieldRefusal::NotAnOperationName)
    }

    pub fn id(self) -> Uuid {
        self.0
    }
}

impl fmt::Display for OperationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.0)
    }
}

/// Where an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationState {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl OperationState {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationState::Running => "RUNNING",
            OperationState::Succeeded => "SUCCEEDED",
            OperationState::Failed => "FAILED",
            OperationState::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [
            OperationState::Running,
            OperationState::Succeeded,
            OperationState::Failed,
            OperationState::Cancelled,
        ]
        .into_iter()
        .find(|state| state.as_str() == stored)
    }

    pub fn is_done(self) -> bool {
        self != OperationState::Running
    }
}

impl fmt::Display for OperationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().to_ascii_lowercase())
    }
}

/// What CancelOperation does to an operation in a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelling {
    /// Running: ask the import to stop.
    Ask,
    /// Cancelled already: answer as before, nothing changes (Kursi's rule
    /// for every repeated cancel).
    AlreadyDone,
}

pub fn cancel(state: OperationState) -> Result<Cancelling, Refusal> {
    match state {
        OperationState::Running => Ok(Cancelling::Ask),
        OperationState::Cancelled => Ok(Cancelling::AlreadyDone),
        OperationState::Succeeded | OperationState::Failed => {
            Err(Refusal::OperationEnded { state })
        }
    }
}

/// DeleteOperation forgets only an operation that has ended.
pub fn check_deletable(state: OperationState) -> Result<(), Refusal> {
    match state {
        OperationState::Running => Err(Refusal::OperationRunning),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_operations_slash_a_uuid() {
        let id = Uuid::now_v7();
        let name = OperationName::of(id);
        assert_eq!(OperationName::parse(&name.to_string()), Ok(name));
        assert_eq!(name.id(), id);
        for bad in [
            "",
            "operations/",
            "operations/42",
            &id.to_string(),
            &format!("imports/{id}"),
        ] {
            assert_eq!(
                OperationName::parse(bad),
                Err(FieldRefusal::NotAnOperationName),
                "{bad}"
            );
        }
    }

    #[test]
    fn states_round_trip_and_only_running_is_not_done() {
        for state in [
            OperationState::Running,
            OperationState::Succeeded,
            OperationState::Failed,
            OperationState::Cancelled,
        ] {
            assert_eq!(OperationState::parse(state.as_str()), Some(state));
            assert_eq!(state.is_done(), state != OperationState::Running);
        }
        assert_eq!(OperationState::parse("running"), None);
    }

    #[test]
    fn a_running_operation_is_asked_to_stop_a_cancelled_one_is_left_and_an_ended_one_refused() {
        assert_eq!(cancel(OperationState::Running), Ok(Cancelling::Ask));
        assert_eq!(
            cancel(OperationState::Cancelled),
            Ok(Cancelling::AlreadyDone)
        );
        let refused = cancel(OperationState::Succeeded).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "the operation has already succeeded; only a running operation can be cancelled"
        );
        assert!(cancel(OperationState::Failed).is_err());
    }

    #[test]
    fn only_an_ended_operation_is_deleted() {
        assert_eq!(
            check_deletable(OperationState::Running),
            Err(Refusal::OperationRunning)
        );
        assert_eq!(check_deletable(OperationState::Failed), Ok(()));
    }
}
