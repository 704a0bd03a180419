//! Drives a scenario: `concurrency` workers, each sending its next request
//! as soon as its last one is answered (a closed loop), until the request
//! count or the time is up, whichever comes first.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::client::{Client, Load};
use crate::stats::Recorder;

/// How much load, for how long.
#[derive(Debug, Clone)]
pub struct Plan {
    pub concurrency: usize,
    /// The measuring window; requests in flight when it closes still finish.
    pub duration: Duration,
    /// Stop after this many measured requests.
    pub requests: Option<u64>,
    /// Sent before measuring starts, and not counted.
    pub warmup: Duration,
    /// A request not answered within this counts as `TIMEOUT`.
    pub timeout: Duration,
}

/// What the workers measured.
#[derive(Debug)]
pub struct Measured {
    pub recorder: Recorder,
    /// From the end of the warm-up to the last answer.
    pub elapsed: Duration,
}

/// Shared by the workers of one run.
struct Shared {
    load: Arc<Load>,
    plan: Plan,
    measure_from: Instant,
    end: Instant,
    /// Numbers every request, so each picks its user and data round robin.
    sequence: AtomicU64,
    /// Measured requests claimed so far, against `plan.requests`.
    claimed: AtomicU64,
}

pub async fn drive(plan: &Plan, load: Arc<Load>, client: &Client) -> Measured {
    let start = Instant::now();
    let measure_from = start + plan.warmup;
    let shared = Arc::new(Shared {
        load,
        plan: plan.clone(),
        measure_from,
        end: measure_from + plan.duration,
        sequence: AtomicU64::new(0),
        claimed: AtomicU64::new(0),
    });
    let mut workers = JoinSet::new();
    for index in 0..plan.concurrency.max(1) {
        workers.spawn(worker(shared.clone(), client.clone(), index));
    }
    let mut recorder = Recorder::new();
    let mut last = measure_from;
    while let Some(joined) = workers.join_next().await {
        // A worker cannot panic short of a bug; its counts are then lost.
        if let Ok((counted, finished)) = joined {
            recorder.merge(&counted);
            last = last.max(finished);
        }
    }
    Measured {
        recorder,
        elapsed: last.saturating_duration_since(measure_from),
    }
}

async fn worker(shared: Arc<Shared>, mut client: Client, index: usize) -> (Recorder, Instant) {
    let mut recorder = Recorder::new();
    loop {
        let now = Instant::now();
        if now >= shared.end {
            break;
        }
        let measured = now >= shared.measure_from;
        if measured
            && let Some(limit) = shared.plan.requests
            && shared.claimed.fetch_add(1, Ordering::Relaxed) >= limit
        {
            break;
        }
        let ticket = shared.sequence.fetch_add(1, Ordering::Relaxed);
        let sent = Instant::now();
        let outcome = match tokio::time::timeout(
            shared.plan.timeout,
            client.call(&shared.load, ticket, index),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => Err("TIMEOUT".to_owned()),
        };
        if measured {
            recorder.record(sent.elapsed(), outcome);
        }
    }
    (recorder, Instant::now())
}
