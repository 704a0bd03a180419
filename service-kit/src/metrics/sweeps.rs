//! What a service's sweeper did: its runs, whether they failed, and the
//! changes each kind of sweep made (no-shows marked, holds expired, keys
//! pruned), so an operator sees the sweeper working, or stuck.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use super::Metrics;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Run {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Change {
    change: &'static str,
}

/// The sweeper's counters. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Sweeps {
    runs: Family<Run, Counter>,
    changes: Family<Change, Counter>,
}

impl Sweeps {
    /// `sweeper_runs_total{result}` and `sweeper_changes_total{change}` in
    /// `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        let sweeps = Self::default();
        metrics.register(
            "sweeper_runs",
            "Sweeper runs, by result (ok, failed).",
            sweeps.runs.clone(),
        );
        metrics.register(
            "sweeper_changes",
            "What sweeper runs changed, by kind of change.",
            sweeps.changes.clone(),
        );
        sweeps
    }

    /// A run ended, `ok` or not.
    pub fn ran(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.runs.get_or_create(&Run { result }).inc();
    }

    /// A run made `count` changes of kind `change` (e.g. `no_show`).
    pub fn changed(&self, change: &'static str, count: usize) {
        self.changes
            .get_or_create(&Change { change })
            .inc_by(count as u64);
    }
}
