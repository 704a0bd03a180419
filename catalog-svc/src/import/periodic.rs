//! The imports nobody asks for: at start-up, and on an interval that holds
//! across replicas.

use std::time::Duration;

use chrono::{DateTime, Utc};
use service_kit::ServiceError;
use tokio::sync::watch;
use tokio::time::Instant;

use super::{Importer, RunError, Summary, Trigger};
use crate::db::imports;

impl Importer {
    /// Imports at start-up when asked, then every `interval` (if any), until
    /// `shutdown` turns true, each with its operation, as ImportMovies does.
    /// Failures are logged; the next interval tries again.
    ///
    /// Not on a fixed tick (`service_kit::shutdown::every`): a tick finds
    /// this replica's own last import, committed a moment after the previous
    /// tick, a moment less than an interval old, skips, and so imports only
    /// every other interval. Instead the next import is due one interval
    /// after the last one that committed in any replica; one interval from
    /// now at first, and after a failure.
    pub async fn run_periodically(
        self,
        on_start: bool,
        interval: Option<Duration>,
        pages: u32,
        mut shutdown: watch::Receiver<bool>,
    ) {
        if on_start {
            log(self.run(Trigger::StartUp, pages).await);
        }
        let Some(every) = interval else {
            return;
        };
        let mut not_before = Instant::now() + every;
        loop {
            let due = match self.last_completed().await {
                Some(last) => not_before.max(self.instant_at(last) + every),
                None => not_before,
            };
            tokio::select! {
                () = tokio::time::sleep_until(due) => {}
                () = service_kit::shutdown::stopped(&mut shutdown) => return,
            }
            let result = self.run(Trigger::Interval { every }, pages).await;
            // After an import or a skip, the last import decides when the
            // next is due (a skip means another replica imported lately).
            not_before = match &result {
                Ok(_) => Instant::now(),
                Err(_) => Instant::now() + every,
            };
            log(result);
        }
    }

    /// When the last import committed, in any replica; `None` also when the
    /// database cannot say.
    async fn last_completed(&self) -> Option<DateTime<Utc>> {
        let mut conn = self.pool.get().await.ok()?;
        imports::last_completed(&mut conn).await.ok().flatten()
    }

    /// The monotonic instant of a time on the service's clock (now, for
    /// one in the past).
    fn instant_at(&self, at: DateTime<Utc>) -> Instant {
        Instant::now() + (at - self.clock.now()).to_std().unwrap_or_default()
    }
}

/// An import that began logged how it ended itself; this says why one did
/// not begin.
fn log(result: Result<Option<Summary>, RunError>) {
    match result {
        Ok(Some(_)) | Err(RunError::Ended { .. }) => {}
        Ok(None) => tracing::debug!("a recent import ran; skipping this one"),
        Err(RunError::NotStarted(ServiceError::Aborted(_))) => {
            tracing::debug!("another replica is importing; skipping")
        }
        Err(RunError::NotStarted(err)) => {
            tracing::warn!(error = %err, "the TheMovieDB import could not start; nothing changed")
        }
    }
}
