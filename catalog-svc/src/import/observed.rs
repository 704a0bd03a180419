//! TheMovieDB imports as Prometheus sees them: how each ended, by what
//! started it, and what they did to the catalog's movies.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use service_kit::metrics::Metrics;

use super::{Ended, Trigger};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct End {
    trigger: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Movies {
    change: &'static str,
}

/// The import counters. Cheap to clone; unregistered by default.
#[derive(Clone, Debug, Default)]
pub struct ImportMetrics {
    imports: Family<End, Counter>,
    movies: Family<Movies, Counter>,
}

impl ImportMetrics {
    /// `tmdb_imports_total{trigger,result}` and
    /// `tmdb_import_movies_total{change}` in `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        let observed = Self::default();
        metrics.register(
            "tmdb_imports",
            "TheMovieDB imports that began, by trigger and how they ended (succeeded, failed, cancelled).",
            observed.imports.clone(),
        );
        metrics.register(
            "tmdb_import_movies",
            "Movies of committed imports, by what the import did (created, updated, unchanged, skipped).",
            observed.movies.clone(),
        );
        observed
    }

    pub(super) fn ended(&self, trigger: Trigger, ended: &Ended) {
        let result = match ended {
            Ended::Succeeded(_) => "succeeded",
            Ended::Stopped {
                code: tonic::Code::Cancelled,
                ..
            } => "cancelled",
            Ended::Stopped { .. } => "failed",
        };
        self.imports
            .get_or_create(&End {
                trigger: trigger.name(),
                result,
            })
            .inc();
        if let Ended::Succeeded(summary) = ended {
            let counts = [
                ("created", summary.created),
                ("updated", summary.updated),
                ("unchanged", summary.unchanged),
                ("skipped", summary.skipped.len() as i32),
            ];
            for (change, count) in counts {
                self.movies
                    .get_or_create(&Movies { change })
                    .inc_by(u64::try_from(count).unwrap_or(0));
            }
        }
    }
}
