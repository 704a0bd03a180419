//! The suite's report: for each fault, the requests sent in its window, the
//! failures by label while it lasted and after, the longest stall of each
//! half of the load, and whether its promise held; then the data checks.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::ledger::{Attempt, Family, Outcome};
use super::promise;
use super::windows::{Window, longest_stall};

#[derive(Debug, Clone, Serialize)]
pub struct FaultReport {
    pub fault: String,
    pub promise: &'static str,
    pub during_seconds: f64,
    pub after_seconds: f64,
    pub sent: u64,
    pub ok: u64,
    /// The rules' answers (a table taken, a repeat answered): not failures.
    pub refused: u64,
    pub refused_by: BTreeMap<String, u64>,
    pub failed: u64,
    pub failed_during: BTreeMap<String, Failures>,
    pub failed_after: BTreeMap<String, Failures>,
    /// The failures its promise does not allow: "<label> <operation>: <count>".
    pub broken: Vec<String>,
    /// The longest time with no successful request, per half of the load.
    pub stall_reservations_seconds: f64,
    pub stall_orders_seconds: f64,
    /// The longest a failed request of the fault took to be answered.
    pub slowest_failure_seconds: f64,
    /// What the script saw; a `fail` note breaks the promise too.
    pub notes: Vec<String>,
    pub held: bool,
}

/// The failures under one label.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Failures {
    pub count: u64,
    /// By operation.
    pub ops: BTreeMap<&'static str, u64>,
    /// What the first of them said, if anything.
    pub said: Option<String>,
}

/// A data check's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub check: String,
    pub ok: bool,
    pub detail: String,
}

impl Finding {
    pub fn new(check: impl Into<String>, ok: bool, detail: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            ok,
            detail: detail.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    /// What was run, as the script describes it (date, commit, build).
    pub label: String,
    pub concurrency: usize,
    pub sent: u64,
    pub faults: Vec<FaultReport>,
    pub checks: Vec<Finding>,
}

impl SuiteReport {
    pub fn failures(&self) -> Vec<String> {
        let faults = self
            .faults
            .iter()
            .filter(|f| !f.held)
            .map(|f| format!("{}: the promise did not hold", f.fault));
        let checks = self
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("check failed: {}: {}", c.check, c.detail));
        faults.chain(checks).collect()
    }
}

/// Puts each attempt (sorted by their answer time) in the window of the
/// fault it was answered in: one sent just before a fault and failed by it
/// is the fault's. Within its window it counts as during the fault when it
/// was sent before the fault was over, and after it otherwise. The first
/// window also takes what was answered before it, the last runs to `end_us`.
pub fn faults(windows: &[Window], attempts: &[Attempt], end_us: u64) -> Vec<FaultReport> {
    let mut reports = Vec::new();
    for (i, window) in windows.iter().enumerate() {
        let next = windows.get(i + 1).map_or(end_us, |w| w.begin_us);
        let from = if i == 0 { 0 } else { window.begin_us };
        let fault_end = window.end_us.unwrap_or(next).min(next);
        let lo = attempts.partition_point(|a| a.answered_us() < from);
        let hi = attempts.partition_point(|a| a.answered_us() < next);
        let here = &attempts[lo..hi];
        let (during, after): (Vec<&Attempt>, Vec<&Attempt>) =
            here.iter().partition(|a| a.sent_us <= fault_end);
        let promise = promise::of(&window.fault);
        let broken: Vec<String> = promise
            .broken(during.iter().copied(), after.iter().copied())
            .into_iter()
            .map(|((label, op), n)| format!("{label} {}: {n}", op.name()))
            .collect();
        let stall = |family: Family| {
            let mut answered: Vec<u64> = here
                .iter()
                .filter(|a| a.op.family() == family && a.outcome == Outcome::Ok)
                .map(Attempt::answered_us)
                .collect();
            answered.sort_unstable();
            longest_stall(window.begin_us, next, &answered) as f64 / 1e6
        };
        let notes: Vec<String> = window
            .notes
            .iter()
            .map(|n| format!("{}{}", if n.failed { "FAIL: " } else { "" }, n.text))
            .collect();
        let count =
            |pred: fn(&Outcome) -> bool| here.iter().filter(|a| pred(&a.outcome)).count() as u64;
        reports.push(FaultReport {
            fault: window.fault.clone(),
            promise: promise.says,
            during_seconds: fault_end.saturating_sub(window.begin_us) as f64 / 1e6,
            after_seconds: next.saturating_sub(fault_end) as f64 / 1e6,
            sent: here.len() as u64,
            ok: count(|o| *o == Outcome::Ok),
            refused: count(|o| matches!(o, Outcome::Refused(_))),
            refused_by: here.iter().fold(BTreeMap::new(), |mut by, a| {
                if let Outcome::Refused(label) = &a.outcome {
                    *by.entry(label.clone()).or_default() += 1;
                }
                by
            }),
            failed: count(|o| matches!(o, Outcome::Failed(_))),
            failed_during: by_label(&during),
            failed_after: by_label(&after),
            held: broken.is_empty()
                && window.end_us.is_some()
                && !window.notes.iter().any(|n| n.failed),
            broken,
            stall_reservations_seconds: stall(Family::Reservations),
            stall_orders_seconds: stall(Family::Orders),
            slowest_failure_seconds: during
                .iter()
                .filter(|a| matches!(a.outcome, Outcome::Failed(_)))
                .map(|a| a.took_us)
                .max()
                .unwrap_or_default() as f64
                / 1e6,
            notes,
        });
    }
    reports
}

fn by_label(attempts: &[&Attempt]) -> BTreeMap<String, Failures> {
    let mut labels: BTreeMap<String, Failures> = BTreeMap::new();
    for attempt in attempts {
        if let Outcome::Failed(label) = &attempt.outcome {
            let failures = labels.entry(label.clone()).or_default();
            failures.count += 1;
            *failures.ops.entry(attempt.op.name()).or_default() += 1;
            if failures.said.is_none() {
                failures.said.clone_from(&attempt.message);
            }
        }
    }
    labels
}

/// "503 UNAVAILABLE 7 (book-table 4, pay-order 3)", one label a line.
fn listed(out: &mut String, title: &str, labels: &BTreeMap<String, Failures>) {
    if labels.is_empty() {
        let _ = writeln!(out, "  {title:<23} none");
        return;
    }
    for (i, (label, f)) in labels.iter().enumerate() {
        let ops: Vec<String> = f.ops.iter().map(|(op, n)| format!("{op} {n}")).collect();
        let title = if i == 0 { title } else { "" };
        let _ = writeln!(
            out,
            "  {title:<23} {label} {} ({})",
            f.count,
            ops.join(", ")
        );
        if let Some(said) = &f.said {
            let _ = writeln!(out, "  {:<23}   \"{said}\"", "");
        }
    }
}

impl SuiteReport {
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Kursi fault suite: {}", self.label);
        let _ = writeln!(
            out,
            "{} clients through the edge, {} requests in all\n",
            self.concurrency, self.sent
        );
        for f in &self.faults {
            let _ = writeln!(
                out,
                "{} ({:.1} s, then {:.1} s after)",
                f.fault, f.during_seconds, f.after_seconds
            );
            let refused: Vec<String> = f
                .refused_by
                .iter()
                .map(|(l, n)| format!("{l} {n}"))
                .collect();
            let refused = if refused.is_empty() {
                String::new()
            } else {
                format!(" ({})", refused.join(", "))
            };
            let _ = writeln!(
                out,
                "  sent {}: ok {}, refused {}{refused}, failed {}",
                f.sent, f.ok, f.refused, f.failed
            );
            listed(&mut out, "failed while it lasted", &f.failed_during);
            listed(&mut out, "failed after it", &f.failed_after);
            let _ = writeln!(
                out,
                "  longest stall           reservations {:.2} s, orders {:.2} s",
                f.stall_reservations_seconds, f.stall_orders_seconds
            );
            if f.slowest_failure_seconds > 0.0 {
                let _ = writeln!(
                    out,
                    "  slowest failed answer   {:.2} s",
                    f.slowest_failure_seconds
                );
            }
            for note in &f.notes {
                let _ = writeln!(out, "  seen                    {note}");
            }
            let verdict = if f.held { "held" } else { "NOT HELD" };
            let _ = writeln!(out, "  promise                 {}: {verdict}", f.promise);
            for broken in &f.broken {
                let _ = writeln!(out, "    not allowed: {broken}");
            }
            out.push('\n');
        }
        let _ = writeln!(out, "data checks");
        for c in &self.checks {
            let verdict = if c.ok { "ok  " } else { "FAIL" };
            let _ = writeln!(out, "  {verdict} {}: {}", c.check, c.detail);
        }
        let held = self.faults.iter().filter(|f| f.held).count();
        let passed = self.checks.iter().filter(|c| c.ok).count();
        let _ = writeln!(
            out,
            "\npromises held: {held} of {}; data checks passed: {passed} of {}",
            self.faults.len(),
            self.checks.len()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::ledger::Op;

    fn at(ms: u64, op: Op, outcome: Outcome) -> Attempt {
        Attempt {
            op,
            sent_us: ms * 1000,
            took_us: 1000,
            outcome,
            message: None,
        }
    }

    fn window(fault: &str, begin: u64, end: u64) -> Window {
        Window {
            fault: fault.into(),
            begin_us: begin * 1000,
            end_us: Some(end * 1000),
            notes: vec![],
        }
    }

    #[test]
    fn failures_go_to_their_fault_and_are_judged_by_its_promise() {
        let windows = [
            window("baseline", 0, 100),
            window("kill-order-svc", 100, 200),
        ];
        let failed = |l: &str| Outcome::Failed(l.into());
        let attempts = vec![
            at(10, Op::ReadOrder, Outcome::Ok),
            // Sent before the fault, answered (failed) by it: the fault's.
            at(99, Op::ReadOrder, failed("503 UNAVAILABLE")),
            at(110, Op::ReadOrder, failed("503 UNAVAILABLE")),
            at(120, Op::ReadReservation, Outcome::Ok),
            at(150, Op::BookTable, failed("503 UNAVAILABLE")),
            at(250, Op::ReadOrder, failed("503 UNAVAILABLE")),
            at(260, Op::ReadOrder, Outcome::Ok),
        ];
        let reports = faults(&windows, &attempts, 300_000);
        assert!(reports[0].held);
        assert_eq!(reports[0].sent, 1);
        let killed = &reports[1];
        assert_eq!((killed.sent, killed.ok, killed.failed), (6, 2, 4));
        assert_eq!(killed.failed_during["503 UNAVAILABLE"].count, 3);
        assert_eq!(killed.failed_during["503 UNAVAILABLE"].ops["book-table"], 1);
        assert_eq!(killed.failed_after["503 UNAVAILABLE"].count, 1);
        assert_eq!(
            killed.broken,
            [
                "503 UNAVAILABLE book-table: 1",
                "503 UNAVAILABLE read-order: 1"
            ]
        );
        assert!(!killed.held);
        // Orders: nothing answered from 100 until 261.
        assert!((killed.stall_orders_seconds - 0.161).abs() < 1e-9);
        let text = SuiteReport {
            label: "test".into(),
            concurrency: 1,
            sent: 7,
            faults: reports,
            checks: vec![Finding::new("keys", true, "fine")],
        }
        .text();
        assert!(
            text.contains("promise held") || text.contains(": NOT HELD"),
            "{text}"
        );
        assert!(
            text.contains("not allowed: 503 UNAVAILABLE book-table: 1"),
            "{text}"
        );
        assert!(
            text.contains("promises held: 1 of 2; data checks passed: 1 of 1"),
            "{text}"
        );
    }
}
