//! The fault windows scripts/faults marks in a file while the load runs,
//! one line each, on the wall clock in Unix milliseconds:
//!
//! ```text
//! 1765150000123 begin pg-stop
//! 1765150000456 info pg-stop terminated 14 connections
//! 1765150008789 end pg-stop
//! 1765150009000 fail pg-stop reservation-svc was not SERVING again after 60 s
//! ```
//!
//! `begin` is just before the fault is injected, `end` when it is over and
//! every process answers SERVING again. Each window's requests are those
//! sent from its `begin` to the next window's: during the fault up to its
//! `end`, after it from there on. `info` and `fail` are what the script saw
//! on the way; a `fail` fails the fault.

use anyhow::{Context, bail};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub fault: String,
    pub begin_us: u64,
    /// `None` when the script never marked the end (it failed on the way).
    pub end_us: Option<u64>,
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub failed: bool,
    pub text: String,
}

pub fn parse(text: &str) -> anyhow::Result<Vec<Window>> {
    let mut windows: Vec<Window> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.splitn(4, ' ');
        let (Some(ms), Some(kind), Some(fault)) = (words.next(), words.next(), words.next()) else {
            bail!(
                "line {}: {line:?} is not `<unix ms> <begin|end|info|fail> <fault> …`",
                n + 1
            );
        };
        let us = ms
            .parse::<u64>()
            .with_context(|| format!("line {}: {ms:?} is not a time in ms", n + 1))?
            * 1000;
        let rest = words.next().unwrap_or_default().to_owned();
        if kind == "begin" {
            windows.push(Window {
                fault: fault.to_owned(),
                begin_us: us,
                end_us: None,
                notes: Vec::new(),
            });
            continue;
        }
        let Some(window) = windows.iter_mut().rev().find(|w| w.fault == fault) else {
            bail!("line {}: {kind} {fault} before its begin", n + 1);
        };
        match kind {
            "end" => window.end_us = Some(us),
            "info" | "fail" => window.notes.push(Note {
                failed: kind == "fail",
                text: rest,
            }),
            _ => bail!("line {}: unknown mark {kind:?}", n + 1),
        }
    }
    Ok(windows)
}

/// The longest time in `[from, to)` in which nothing succeeded: between
/// `from`, the successes' answer times (sorted), and `to`.
pub fn longest_stall(from: u64, to: u64, successes: &[u64]) -> u64 {
    let mut last = from;
    let mut longest = 0;
    for &at in successes.iter().filter(|&&at| at >= from && at < to) {
        longest = longest.max(at - last);
        last = at;
    }
    longest.max(to.saturating_sub(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_collect_their_marks_and_notes() {
        let text = "1000 begin baseline\n2000 end baseline\n\
                    3000 begin pg-stop\n3500 info pg-stop stopped\n\
                    9000 end pg-stop\n9001 fail pg-stop order-svc not back\n";
        let windows = parse(text).unwrap();
        assert_eq!(windows.len(), 2);
        assert_eq!(windows[0].begin_us, 1_000_000);
        assert_eq!(windows[0].end_us, Some(2_000_000));
        assert_eq!(windows[1].notes.len(), 2);
        assert!(windows[1].notes[1].failed);
        assert_eq!(windows[1].notes[1].text, "order-svc not back");
        assert!(parse("1000 end nothing").is_err());
        assert!(parse("soon begin x").is_err());
        assert!(parse("1000 begin x\n1001 whatever x").is_err());
    }

    #[test]
    fn a_stall_is_the_longest_gap_between_successes() {
        assert_eq!(longest_stall(0, 100, &[10, 20, 70, 90]), 50);
        assert_eq!(longest_stall(0, 100, &[]), 100);
        assert_eq!(longest_stall(0, 100, &[5, 10]), 90, "until the end");
        assert_eq!(longest_stall(50, 100, &[10, 60]), 40, "only inside");
    }
}
