//! The waitlist's rules: where an entry is, and the one place that decides
//! which command may move it where. An entry is WAITING in line, OFFERED a
//! slot (held for a while), then ACCEPTED (a reservation), DECLINED or
//! LAPSED; or it LEFT the line, or its day passed (EXPIRED).

use std::fmt;

use chrono::{DateTime, Utc};

use super::refusal::Refusal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitState {
    Waiting,
    Offered,
    Accepted,
    Declined,
    Lapsed,
    Left,
    Expired,
}

impl WaitState {
    pub const ALL: [WaitState; 7] = [
        WaitState::Waiting,
        WaitState::Offered,
        WaitState::Accepted,
        WaitState::Declined,
        WaitState::Lapsed,
        WaitState::Left,
        WaitState::Expired,
    ];

    /// Still in line: counted for places, swept when the day passes.
    pub const OPEN: [WaitState; 2] = [WaitState::Waiting, WaitState::Offered];

    pub fn as_str(self) -> &'static str {
        match self {
            WaitState::Waiting => "WAITING",
            WaitState::Offered => "OFFERED",
            WaitState::Accepted => "ACCEPTED",
            WaitState::Declined => "DECLINED",
            WaitState::Lapsed => "LAPSED",
            WaitState::Left => "LEFT",
            WaitState::Expired => "EXPIRED",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == stored)
    }

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

impl fmt::Display for WaitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can be done to an entry; each is one history action and one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCommand {
    Offer,
    Accept,
    Decline,
    Lapse,
    Leave,
    Expire,
}

impl WaitCommand {
    fn verb(self) -> &'static str {
        match self {
            WaitCommand::Offer => "offer a slot to",
            WaitCommand::Accept => "accept the offer of",
            WaitCommand::Decline => "decline the offer of",
            WaitCommand::Lapse => "lapse the offer of",
            WaitCommand::Leave => "leave with",
            WaitCommand::Expire => "expire",
        }
    }

    /// The history action it is recorded as.
    pub fn action(self) -> &'static str {
        match self {
            WaitCommand::Offer => "OFFERED",
            WaitCommand::Accept => "ACCEPTED",
            WaitCommand::Decline => "DECLINED",
            WaitCommand::Lapse => "OFFER_LAPSED",
            WaitCommand::Leave => "LEFT",
            WaitCommand::Expire => "EXPIRED",
        }
    }
}

/// What a command does to an entry: its new state, or nothing (leaving
/// twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    To(WaitState),
    Unchanged,
}

/// The one match over (state, command). Accepting also needs the offer to
/// stand at `now` (`expires`).
pub fn wait_transition(
    current: WaitState,
    command: WaitCommand,
    expires: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<WaitOutcome, Refusal> {
    use WaitCommand as C;
    use WaitState as S;
    let to = match (current, command) {
        (S::Waiting, C::Offer) => S::Offered,
        (S::Offered, C::Accept) => match expires {
            Some(at) if at <= now => return Err(Refusal::OfferLapsed { at }),
            _ => S::Accepted,
        },
        (S::Offered, C::Decline) => S::Declined,
        (S::Offered, C::Lapse) => S::Lapsed,
        (S::Waiting | S::Offered, C::Leave) => S::Left,
        (S::Left, C::Leave) => return Ok(WaitOutcome::Unchanged),
        (S::Waiting | S::Offered, C::Expire) => S::Expired,
        (S::Lapsed, C::Accept) => {
            return Err(Refusal::OfferLapsed {
                at: expires.unwrap_or(now),
            });
        }
        (current, command) => {
            return Err(Refusal::WaitlistTransition {
                command: command.verb(),
                current: current.as_str(),
            });
        }
    };
    Ok(WaitOutcome::To(to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn an_entry_waits_is_offered_and_answers() {
        let now = at("2030-01-01T12:00:00Z");
        let later = Some(at("2030-01-01T12:15:00Z"));
        let go = |s, c| wait_transition(s, c, later, now);
        assert_eq!(
            go(WaitState::Waiting, WaitCommand::Offer),
            Ok(WaitOutcome::To(WaitState::Offered))
        );
        for (command, to) in [
            (WaitCommand::Accept, WaitState::Accepted),
            (WaitCommand::Decline, WaitState::Declined),
            (WaitCommand::Lapse, WaitState::Lapsed),
            (WaitCommand::Leave, WaitState::Left),
            (WaitCommand::Expire, WaitState::Expired),
        ] {
            assert_eq!(
                go(WaitState::Offered, command),
                Ok(WaitOutcome::To(to)),
                "{command:?}"
            );
        }
        assert_eq!(
            go(WaitState::Left, WaitCommand::Leave),
            Ok(WaitOutcome::Unchanged)
        );
    }

    #[test]
    fn what_the_line_does_not_allow_is_refused_naming_the_state() {
        let now = at("2030-01-01T12:00:00Z");
        let err = wait_transition(WaitState::Waiting, WaitCommand::Accept, None, now).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot accept the offer of a waitlist entry that is WAITING"
        );
        for done in [WaitState::Accepted, WaitState::Declined, WaitState::Expired] {
            assert!(wait_transition(done, WaitCommand::Leave, None, now).is_err());
            assert!(wait_transition(done, WaitCommand::Offer, None, now).is_err());
        }
        // An offer past its time cannot be accepted, even before the sweeper.
        let lapsed = wait_transition(
            WaitState::Offered,
            WaitCommand::Accept,
            Some(at("2030-01-01T11:59:00Z")),
            now,
        );
        assert!(matches!(lapsed, Err(Refusal::OfferLapsed { .. })));
    }
}
