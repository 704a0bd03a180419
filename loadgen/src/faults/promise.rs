//! What Kursi promises under each fault of scripts/faults, as RELIABILITY.md
//! states it: which requests may fail while the fault lasts, and with which
//! answer. Once the fault is over (the script marks it when everything
//! answers SERVING again), no request may fail. A fault not listed here
//! promises that nothing fails.

use std::collections::BTreeMap;

use super::ledger::{Attempt, Op, Outcome, Service};

/// The answer of a request refused because something underneath is away.
pub const UNAVAILABLE: &str = "503 UNAVAILABLE";
/// The connection was refused: nothing was sent, so a client sends it again.
pub const CONNECT_FAILED: &str = "CONNECT_FAILED";
/// The connection closed before an answer (a kept-alive connection the edge
/// closed as it stopped): no status, and a client sends it again, a write
/// with its key.
pub const CLOSED: &str = "HTTP_TRANSPORT";

#[derive(Debug, Clone, Copy)]
pub struct Promise {
    /// Which requests may fail while the fault lasts…
    pub may_fail: fn(Op) -> bool,
    /// …and with which labels.
    pub with: &'static [&'static str],
    /// The promise in words, for the report.
    pub says: &'static str,
}

const NOTHING: Promise = Promise {
    may_fail: |_| false,
    with: &[],
    says: "no request fails",
};

/// The faults scripts/faults injects, in the order it injects them, with
/// their promises.
pub const FAULTS: &[(&str, Promise)] = &[
    ("baseline", NOTHING),
    (
        "pg-terminate",
        Promise {
            may_fail: |op| !op.is_read(),
            with: &[UNAVAILABLE],
            says: "no read fails; a write whose COMMIT was cut off may answer 503 UNAVAILABLE",
        },
    ),
    (
        "pg-stop",
        Promise {
            may_fail: |_| true,
            with: &[UNAVAILABLE],
            says: "requests answer 503 UNAVAILABLE while PostgreSQL is down, none after",
        },
    ),
    ("kill-auth-svc", NOTHING),
    (
        "kill-reservation-svc",
        Promise {
            may_fail: |op| op.needs(Service::Reservation),
            with: &[UNAVAILABLE],
            says: "reservation requests answer 503 UNAVAILABLE while it is down; orders never fail",
        },
    ),
    (
        "kill-catalog-svc",
        Promise {
            may_fail: |op| op.needs(Service::Catalog),
            with: &[UNAVAILABLE],
            says: "new orders answer 503 UNAVAILABLE while it is down; nothing else fails",
        },
    ),
    (
        "kill-order-svc",
        Promise {
            may_fail: |op| op.needs(Service::Order),
            with: &[UNAVAILABLE],
            says: "order requests answer 503 UNAVAILABLE while it is down; reservations never fail",
        },
    ),
    (
        "catalog-pause",
        Promise {
            may_fail: |op| op.needs(Service::Catalog),
            with: &[UNAVAILABLE],
            says: "new orders answer 503 UNAVAILABLE at order-svc's catalog deadline; nothing else fails",
        },
    ),
    ("nats-stop", NOTHING),
    (
        "edge-restart",
        Promise {
            may_fail: |_| true,
            with: &[CONNECT_FAILED, CLOSED],
            says: "requests in flight are answered; others fail without an answer (connection refused or closed), never with an error status",
        },
    ),
    ("slow-clients", NOTHING),
];

pub fn of(fault: &str) -> Promise {
    FAULTS
        .iter()
        .find(|(name, _)| *name == fault)
        .map_or(NOTHING, |(_, promise)| *promise)
}

impl Promise {
    /// The failures that break the promise, by label and operation: those
    /// of `during` it does not allow, and all of `after`.
    pub fn broken<'a>(
        &self,
        during: impl IntoIterator<Item = &'a Attempt>,
        after: impl IntoIterator<Item = &'a Attempt>,
    ) -> BTreeMap<(String, Op), u64> {
        let mut broken = BTreeMap::new();
        for attempt in during {
            if let Outcome::Failed(label) = &attempt.outcome
                && !((self.may_fail)(attempt.op) && self.with.contains(&label.as_str()))
            {
                *broken.entry((label.clone(), attempt.op)).or_default() += 1;
            }
        }
        for attempt in after {
            if let Outcome::Failed(label) = &attempt.outcome {
                *broken.entry((label.clone(), attempt.op)).or_default() += 1;
            }
        }
        broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(op: Op, label: &str) -> Attempt {
        Attempt {
            op,
            sent_us: 0,
            took_us: 1,
            outcome: Outcome::Failed(label.into()),
            message: None,
        }
    }

    #[test]
    fn terminated_connections_may_cost_writes_but_never_reads() {
        let promise = of("pg-terminate");
        let ok = [failed(Op::PayOrder, UNAVAILABLE)];
        assert!(promise.broken(&ok, &[]).is_empty());
        let read = [failed(Op::ReadOrder, UNAVAILABLE)];
        assert_eq!(promise.broken(&read, &[]).len(), 1);
        let internal = [failed(Op::PayOrder, "500 INTERNAL")];
        assert_eq!(promise.broken(&internal, &[]).len(), 1);
    }

    #[test]
    fn a_killed_service_costs_only_its_own_requests_and_only_while_down() {
        let promise = of("kill-reservation-svc");
        let own = [failed(Op::BookTable, UNAVAILABLE)];
        assert!(promise.broken(&own, &[]).is_empty());
        let other = [failed(Op::ReadOrder, UNAVAILABLE)];
        assert_eq!(promise.broken(&other, &[]).len(), 1);
        assert_eq!(promise.broken(&[], &own).len(), 1, "after it is back");
    }

    #[test]
    fn unknown_faults_and_the_baseline_allow_nothing() {
        let any = [failed(Op::ReadReservation, UNAVAILABLE)];
        assert_eq!(of("baseline").broken(&any, &[]).len(), 1);
        assert_eq!(of("meteor-strike").broken(&any, &[]).len(), 1);
        assert!(FAULTS.iter().all(|(name, _)| !name.is_empty()));
    }
}
