//! Counting answers and their latencies, and the report made of them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::rush::RushReport;
use crate::watch::ProcessUsage;

/// Latencies are kept in microseconds, from 1 µs to 60 s, to 3 significant
/// digits; slower answers are counted as 60 s rather than dropped.
const HIGHEST_MICROS: u64 = 60_000_000;

/// One worker's answers; workers merge theirs at the end, so recording
/// takes no lock.
#[derive(Debug, Clone)]
pub struct Recorder {
    latency: Histogram<u64>,
    ok: u64,
    errors: BTreeMap<String, u64>,
    /// Answers the scenario expects to be refusals (a seat rush's orders
    /// once seats run out): neither successes nor errors.
    refused: BTreeMap<String, u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            // Bounds are constants that hdrhistogram accepts (1 ≤ low, 2·low ≤ high, sigfig ≤ 5).
            latency: Histogram::new_with_bounds(1, HIGHEST_MICROS, 3)
                .unwrap_or_else(|_| unreachable!("valid histogram bounds")),
            ok: 0,
            errors: BTreeMap::new(),
            refused: BTreeMap::new(),
        }
    }

    /// One answer: its latency, and success or the error's label (a gRPC
    /// code name, `HTTP 503`, `TIMEOUT`…). Errors count in the latencies too.
    pub fn record(&mut self, latency: Duration, outcome: Result<(), String>) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency
            .saturating_record(micros.clamp(1, HIGHEST_MICROS));
        match outcome {
            Ok(()) => self.ok += 1,
            Err(label) => *self.errors.entry(label).or_default() += 1,
        }
    }

    /// An expected refusal, by its label; its latency counts too.
    pub fn record_refused(&mut self, latency: Duration, label: String) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency
            .saturating_record(micros.clamp(1, HIGHEST_MICROS));
        *self.refused.entry(label).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Recorder) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.ok += other.ok;
        for (label, count) in &other.errors {
            *self.errors.entry(label.clone()).or_default() += count;
        }
        for (label, count) in &other.refused {
            *self.refused.entry(label.clone()).or_default() += count;
        }
    }

    pub fn requests(&self) -> u64 {
        self.ok + self.errors.values().sum::<u64>() + self.refused.values().sum::<u64>()
    }

    pub fn refused(&self) -> &BTreeMap<String, u64> {
        &self.refused
    }

    pub fn ok(&self) -> u64 {
        self.ok
    }

    pub fn errors(&self) -> &BTreeMap<String, u64> {
        &self.errors
    }

    pub fn latency(&self) -> Latency {
        let ms = |micros: u64| micros as f64 / 1000.0;
        if self.latency.is_empty() {
            return Latency::default();
        }
        Latency {
            p50: ms(self.latency.value_at_quantile(0.50)),
            p90: ms(self.latency.value_at_quantile(0.90)),
            p99: ms(self.latency.value_at_quantile(0.99)),
            max: ms(self.latency.max()),
            mean: self.latency.mean() / 1000.0,
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

/// One scenario over one transport.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: &'static str,
    pub transport: &'static str,
    pub target: String,
    pub concurrency: usize,
    pub requests: u64,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    /// Expected refusals by label (seat-rush only).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub refused: BTreeMap<String, u64>,
    pub elapsed_seconds: f64,
    pub requests_per_second: f64,
    pub latency_ms: Latency,
    pub processes: Vec<ProcessUsage>,
    /// A seat rush's own figures and its oversold check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rush: Option<RushReport>,
}

impl Report {
    pub fn new(
        scenario: &'static str,
        transport: &'static str,
        target: String,
        concurrency: usize,
        recorder: &Recorder,
        elapsed: Duration,
        processes: Vec<ProcessUsage>,
    ) -> Self {
        let seconds = elapsed.as_secs_f64();
        let requests = recorder.requests();
        Self {
            scenario,
            transport,
            target,
            concurrency,
            requests,
            ok: recorder.ok(),
            errors: recorder.errors().clone(),
            refused: recorder.refused().clone(),
            elapsed_seconds: seconds,
            requests_per_second: if seconds > 0.0 {
                requests as f64 / seconds
            } else {
                0.0
            },
            latency_ms: recorder.latency(),
            processes,
            rush: None,
        }
    }
}

/// Everything one invocation measured.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub runs: Vec<Report>,
    /// REST through the edge over direct gRPC, requests per second, when
    /// both ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge_throughput_ratio: Option<f64>,
}

impl Summary {
    pub fn new(runs: Vec<Report>) -> Self {
        let rate = |name: &str| {
            runs.iter()
                .find(|run| run.transport == name)
                .map(|run| run.requests_per_second)
        };
        let edge_throughput_ratio = match (rate("grpc"), rate("rest")) {
            (Some(grpc), Some(rest)) if grpc > 0.0 => Some(rest / grpc),
            _ => None,
        };
        Self {
            runs,
            edge_throughput_ratio,
        }
    }

    /// What makes the run a failure, whatever its figures: a seat rush
    /// whose oversold check does not hold.
    pub fn failures(&self) -> Vec<String> {
        self.runs
            .iter()
            .filter(|run| run.rush.as_ref().is_some_and(|rush| !rush.check.holds()))
            .map(|run| {
                format!(
                    "{} over {}: the oversold check does not hold",
                    run.scenario, run.transport
                )
            })
            .collect()
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for run in &self.runs {
            write_run(&mut out, run);
        }
        if let Some(ratio) = self.edge_throughput_ratio {
            let _ = writeln!(
                out,
                "through the edge: {:.1}% of direct gRPC throughput",
                ratio * 100.0
            );
        }
        out
    }
}

fn write_run(out: &mut String, run: &Report) {
    let l = &run.latency_ms;
    let _ = writeln!(
        out,
        "{} over {} ({}), {} concurrent, {:.2} s",
        run.scenario, run.transport, run.target, run.concurrency, run.elapsed_seconds
    );
    let refused: u64 = run.refused.values().sum();
    let errors: u64 = run.errors.values().sum();
    if run.refused.is_empty() {
        let _ = writeln!(
            out,
            "  requests    {} (ok {}, errors {errors})",
            run.requests, run.ok
        );
    } else {
        let _ = writeln!(
            out,
            "  requests    {} (ok {}, refused {refused}, errors {errors})",
            run.requests, run.ok
        );
    }
    let _ = writeln!(out, "  throughput  {:.1} req/s", run.requests_per_second);
    if run.scenario == "create-order" {
        let _ = writeln!(
            out,
            "  (a request is an order of 2 tickets and its cancellation, timed together)"
        );
    }
    let _ = writeln!(
        out,
        "  latency ms  p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  (mean {:.2})",
        l.p50, l.p90, l.p99, l.max, l.mean
    );
    if !run.errors.is_empty() {
        let listed: Vec<String> = run
            .errors
            .iter()
            .map(|(label, count)| format!("{label} {count}"))
            .collect();
        let _ = writeln!(out, "  errors      {}", listed.join(", "));
    }
    if !run.refused.is_empty() {
        let listed: Vec<String> = run
            .refused
            .iter()
            .map(|(label, count)| format!("{label} {count}"))
            .collect();
        let _ = writeln!(out, "  refused     {}", listed.join(", "));
    }
    if let Some(rush) = &run.rush {
        rush.write(out);
    }
    for process in &run.processes {
        let per_request = if run.requests > 0 && process.samples > 0 {
            format!(
                " ({:.0} µs a request)",
                process.cpu_seconds * 1e6 / run.requests as f64
            )
        } else {
            String::new()
        };
        let _ = writeln!(out, "  process     {}{per_request}", process.describe());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn counts_successes_and_errors_by_label() {
        let mut recorder = Recorder::new();
        recorder.record(ms(1), Ok(()));
        recorder.record(ms(2), Err("UNAVAILABLE".into()));
        recorder.record(ms(3), Err("HTTP 503".into()));
        recorder.record(ms(4), Err("UNAVAILABLE".into()));
        assert_eq!(recorder.requests(), 4);
        assert_eq!(recorder.ok(), 1);
        assert_eq!(recorder.errors()["UNAVAILABLE"], 2);
        assert_eq!(recorder.errors()["HTTP 503"], 1);
    }

    #[test]
    fn percentiles_come_from_every_answer() {
        let mut recorder = Recorder::new();
        for n in 1..=100 {
            recorder.record(ms(n), Ok(()));
        }
        let latency = recorder.latency();
        // hdrhistogram keeps 3 significant digits: within 0.1%.
        let near = |got: f64, want: f64| (got - want).abs() <= want * 0.001;
        assert!(near(latency.p50, 50.0), "{latency:?}");
        assert!(near(latency.p90, 90.0), "{latency:?}");
        assert!(near(latency.p99, 99.0), "{latency:?}");
        assert!(near(latency.max, 100.0), "{latency:?}");
        assert!(near(latency.mean, 50.5), "{latency:?}");
    }

    #[test]
    fn merging_adds_counts_and_latencies() {
        let mut a = Recorder::new();
        a.record(ms(1), Ok(()));
        a.record(ms(1), Err("TIMEOUT".into()));
        let mut b = Recorder::new();
        b.record(ms(9), Ok(()));
        b.record(ms(9), Err("TIMEOUT".into()));
        a.merge(&b);
        assert_eq!(a.requests(), 4);
        assert_eq!(a.ok(), 2);
        assert_eq!(a.errors()["TIMEOUT"], 2);
        assert!(a.latency().max >= 8.9);
    }

    #[test]
    fn extremes_are_clamped_not_lost() {
        let mut recorder = Recorder::new();
        recorder.record(Duration::ZERO, Ok(()));
        recorder.record(Duration::from_secs(3600), Ok(()));
        assert_eq!(recorder.requests(), 2);
        assert!(recorder.latency().max >= 59_000.0);
        assert_eq!(Recorder::new().latency(), Latency::default());
    }

    #[test]
    fn reports_give_rates_and_the_edge_ratio() {
        let mut recorder = Recorder::new();
        for _ in 0..100 {
            recorder.record(ms(1), Ok(()));
        }
        let grpc = Report::new("login", "grpc", "g".into(), 4, &recorder, ms(1000), vec![]);
        assert!((grpc.requests_per_second - 100.0).abs() < 1e-9);
        let mut slower = Recorder::new();
        for _ in 0..80 {
            slower.record(ms(1), Ok(()));
        }
        slower.record(ms(1), Err("HTTP 503".into()));
        let rest = Report::new("login", "rest", "r".into(), 4, &slower, ms(1000), vec![]);
        let summary = Summary::new(vec![grpc.clone(), rest]);
        let ratio = summary.edge_throughput_ratio.unwrap();
        assert!((ratio - 0.81).abs() < 1e-9);
        let text = summary.text();
        assert!(text.contains("errors      HTTP 503 1"), "{text}");
        assert!(text.contains("81.0% of direct gRPC"), "{text}");

        let json = serde_json::to_value(Summary::new(vec![grpc])).unwrap();
        assert_eq!(json["runs"][0]["requests"], 100);
        assert_eq!(json["runs"][0]["transport"], "grpc");
        assert!(json.get("edge_throughput_ratio").is_none());
        assert!(json["runs"][0]["latency_ms"]["p99"].is_number());
    }
}
