//! One import, run in the background: take the lock, record the operation,
//! fetch while reporting progress (and watching for a cancel), write, and
//! record how it ended, in the transaction that holds the lock.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use service_kit::ServiceError;
use service_kit::db::RefuseExt;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{Ended, Importer, Summary, Trigger};
use crate::db::operations::{
    self, End, NewOperation, OperationRow, Progress, Response, SkippedEntry,
};
use crate::db::{self, Writing, imports};
use crate::domain::OperationState;
use crate::domain::import::imported_within;
use crate::domain::operation::INTERRUPTED;
use crate::tmdb::{Fetch, TmdbMovie};

/// How often a running import writes its progress and looks for a cancel.
const REPORT_EVERY: Duration = Duration::from_millis(250);

/// What the job tells [`Importer::start`] once it knows.
pub(super) enum Begun {
    Started(Box<OperationRow>),
    /// Another import holds the lock.
    Busy,
    /// The periodic import found a recent one.
    Skipped,
    /// It could not begin (no database).
    Failed(ServiceError),
}

/// Why an import stopped without importing.
enum Stop {
    /// CancelOperation asked.
    Cancelled,
    /// The service is stopping.
    Stopping,
    Failed(ServiceError),
}

impl From<ServiceError> for Stop {
    fn from(err: ServiceError) -> Self {
        Stop::Failed(err)
    }
}

impl From<diesel::result::Error> for Stop {
    fn from(err: diesel::result::Error) -> Self {
        Stop::Failed(err.into())
    }
}

type Begin = Option<oneshot::Sender<Begun>>;

fn tell(begin: &mut Begin, what: Begun) {
    if let Some(begin) = begin.take() {
        let _ = begin.send(what);
    }
}

impl Importer {
    /// The whole import; `Some` once it began (and told `begin` so).
    pub(super) async fn job(
        self,
        trigger: Trigger,
        pages: u32,
        begin: oneshot::Sender<Begun>,
    ) -> Option<Ended> {
        let mut begin = Some(begin);
        let mut opened: Option<Uuid> = None;
        let result = self.locked(trigger, pages, &mut begin, &mut opened).await;
        match (result, opened) {
            (Ok(Some(ended)), _) => Some(ended),
            (Ok(None), _) => None,
            (Err(err), None) => {
                tell(&mut begin, Begun::Failed(err));
                None
            }
            // The transaction failed: nothing was imported, and its end
            // was not recorded either.
            (Err(err), Some(id)) => Some(self.unrecorded(id, trigger, err).await),
        }
    }

    async fn locked(
        &self,
        trigger: Trigger,
        pages: u32,
        begin: &mut Begin,
        opened: &mut Option<Uuid>,
    ) -> Result<Option<Ended>, ServiceError> {
        let mut conn = self.pool.get().await?;
        let ended = conn
            .transaction(async |conn| {
                if !imports::try_lock(conn).await? {
                    tell(begin, Begun::Busy);
                    return Ok(None);
                }
                if let Trigger::Interval { every } = trigger {
                    let last = imports::last_completed(conn).await?;
                    if imported_within(last, self.clock.now(), every) {
                        tell(begin, Begun::Skipped);
                        return Ok(None);
                    }
                }
                let operation = self.open(trigger, pages).await?;
                *opened = Some(operation.id);
                tell(begin, Begun::Started(Box::new(operation.clone())));
                let (progress, result) = self.import(conn, &operation, trigger, pages).await;
                let (end, ended) = ending(result);
                let now = match &ended {
                    Ended::Succeeded(summary) => summary.completed_at,
                    Ended::Stopped { .. } => self.clock.now(),
                };
                operations::finish(conn, operation.id, &progress, &end, now).await?;
                Ok::<_, ServiceError>(Some(ended))
            })
            .await?;
        if let (Some(ended), Some(id)) = (&ended, opened) {
            log(*id, trigger, pages, ended);
            self.observed.ended(trigger, ended);
            if matches!(ended, Ended::Succeeded(_)) {
                self.outbox.committed();
            }
        }
        Ok(ended)
    }

    /// The operation of an import that holds the lock: any other RUNNING
    /// one was left by a process that stopped. Committed at once.
    async fn open(&self, trigger: Trigger, pages: u32) -> Result<OperationRow, ServiceError> {
        let mut conn = self.pool.get().await?;
        let now = self.clock.now();
        conn.transaction(async |conn| {
            let code = tonic::Code::Aborted as i32;
            for id in operations::fail_running(conn, code, INTERRUPTED, now).await? {
                tracing::warn!(operation = %id, "a TheMovieDB import was {INTERRUPTED}");
            }
            let new = NewOperation {
                id: Uuid::now_v7(),
                kind: operations::IMPORT_MOVIES,
                state: OperationState::Running.as_str(),
                trigger: trigger.name(),
                actor_id: trigger.actor().user_id(),
                pages: pages as i32,
                created_at: now,
                updated_at: now,
            };
            let operation = operations::insert(conn, new)
                .await
                .refuse(|v| db::refusal(v, Writing::Operation).map(ServiceError::from))?;
            tracing::info!(operation = %operation.id, trigger = trigger.name(), pages, "TheMovieDB import started");
            Ok(operation)
        })
        .await
    }

    /// Fetches, then writes in a savepoint, so that a cancel seen at the
    /// last moment undoes the writing and the import's end is still
    /// recorded.
    async fn import(
        &self,
        conn: &mut AsyncPgConnection,
        operation: &OperationRow,
        trigger: Trigger,
        pages: u32,
    ) -> (Progress, Result<Summary, Stop>) {
        let fetch = self.client.new_fetch();
        let fetched = self.fetch_reporting(operation.id, pages, &fetch).await;
        let progress = self.progress(&fetch);
        let result = match fetched {
            Err(stop) => Err(stop),
            Ok(movies) => {
                conn.transaction(async |conn| {
                    let summary = self.write(conn, trigger, pages, &movies).await?;
                    if operations::lock_cancel_request(conn, operation.id).await? {
                        return Err(Stop::Cancelled);
                    }
                    Ok(summary)
                })
                .await
            }
        };
        (progress, result)
    }

    /// TheMovieDB's movies, while the progress goes to the operation every
    /// [`REPORT_EVERY`]; stops at once on a cancel or when the service
    /// stops.
    async fn fetch_reporting(
        &self,
        id: Uuid,
        pages: u32,
        fetch: &Fetch,
    ) -> Result<Vec<TmdbMovie>, Stop> {
        let fetching = self.client.fetch_popular_into(pages, fetch);
        tokio::pin!(fetching);
        let mut reports = tokio::time::interval(REPORT_EVERY);
        reports.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stopping = self.stopping.clone();
        let stopped = async move {
            match &mut stopping {
                Some(stopping) => service_kit::shutdown::stopped(stopping).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                fetched = &mut fetching => return fetched.map_err(|err| Stop::Failed(err.into())),
                _ = reports.tick() => {
                    if self.report(id, fetch).await {
                        return Err(Stop::Cancelled);
                    }
                }
                () = &mut stopped => return Err(Stop::Stopping),
            }
        }
    }

    /// Writes the progress; answers whether a cancel was asked. Progress is
    /// for watching: when it cannot be written the import goes on.
    async fn report(&self, id: Uuid, fetch: &Fetch) -> bool {
        let progress = self.progress(fetch);
        let written = async {
            let mut conn = self.pool.get().await?;
            let asked = operations::report(&mut conn, id, &progress, self.clock.now()).await?;
            Ok::<_, ServiceError>(asked)
        };
        written.await.unwrap_or_else(|err| {
            tracing::warn!(operation = %id, error = %err, "could not write an import's progress");
            false
        })
    }

    /// The fetch's progress as the operation stores it, a wait on the
    /// service's clock.
    fn progress(&self, fetch: &Fetch) -> Progress {
        let now = (self.clock.now(), tokio::time::Instant::now());
        let fetched = fetch.progress();
        let (waiting_until, waiting_for) = match fetched.waiting {
            Some((until, why)) => {
                let left = until.saturating_duration_since(now.1);
                let left = chrono::Duration::from_std(left).unwrap_or_default();
                (Some(now.0 + left), Some(why))
            }
            None => (None, None),
        };
        let count = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        Progress {
            requests_made: count(fetched.requests),
            pages_fetched: count(fetched.pages),
            movies_fetched: count(fetched.movies),
            retries: count(fetched.retries),
            waiting_until,
            waiting_for,
        }
    }

    /// An import whose transaction failed after its operation was written:
    /// nothing was imported; its operation says so if the database lets it
    /// (else the next start-up or import does).
    async fn unrecorded(&self, id: Uuid, trigger: Trigger, err: ServiceError) -> Ended {
        let status = tonic::Status::from(err);
        let message = format!("{}; nothing was imported", status.message());
        let end = End::Stopped {
            state: OperationState::Failed,
            code: status.code() as i32,
            message: message.clone(),
        };
        let recorded = async {
            let mut conn = self.pool.get().await?;
            let now = self.clock.now();
            operations::finish(&mut conn, id, &Progress::default(), &end, now).await?;
            Ok::<_, ServiceError>(())
        };
        if let Err(again) = recorded.await {
            tracing::warn!(operation = %id, error = %again, "could not record an import's end");
        }
        let ended = Ended::Stopped {
            code: status.code(),
            message,
        };
        log(id, trigger, 0, &ended);
        self.observed.ended(trigger, &ended);
        ended
    }
}

/// How an import ended, as its operation stores it and as its caller sees it.
fn ending(result: Result<Summary, Stop>) -> (End, Ended) {
    let stopped = |state: OperationState, code: tonic::Code, message: String| {
        let end = End::Stopped {
            state,
            code: code as i32,
            message: message.clone(),
        };
        (end, Ended::Stopped { code, message })
    };
    match result {
        Ok(summary) => {
            let end = End::Succeeded(Response {
                created: summary.created,
                updated: summary.updated,
                unchanged: summary.unchanged,
                skipped: summary
                    .skipped
                    .iter()
                    .map(|s| SkippedEntry {
                        tmdb_id: s.tmdb_id,
                        title: s.title.clone(),
                        reason: s.reason.to_string(),
                    })
                    .collect(),
            });
            (end, Ended::Succeeded(summary))
        }
        Err(Stop::Cancelled) => stopped(
            OperationState::Cancelled,
            tonic::Code::Cancelled,
            "cancelled (CancelOperation); nothing was imported".into(),
        ),
        Err(Stop::Stopping) => stopped(
            OperationState::Failed,
            tonic::Code::Aborted,
            "interrupted: catalog-svc stopped; nothing was imported".into(),
        ),
        Err(Stop::Failed(err)) => {
            let status = tonic::Status::from(err);
            stopped(
                OperationState::Failed,
                status.code(),
                status.message().to_owned(),
            )
        }
    }
}

/// Says what happened, the way an admin reads the log.
fn log(id: Uuid, trigger: Trigger, pages: u32, ended: &Ended) {
    let trigger = trigger.name();
    match ended {
        Ended::Succeeded(summary) => tracing::info!(
            operation = %id,
            trigger,
            pages,
            created = summary.created,
            updated = summary.updated,
            unchanged = summary.unchanged,
            skipped = summary.skipped.len(),
            "TheMovieDB import committed"
        ),
        Ended::Stopped {
            code: tonic::Code::Cancelled,
            message,
        } => {
            tracing::info!(operation = %id, trigger, reason = %message, "TheMovieDB import cancelled")
        }
        Ended::Stopped { code, message } => tracing::warn!(
            operation = %id,
            trigger,
            code = ?code,
            reason = %message,
            "TheMovieDB import failed; nothing was imported"
        ),
    }
}
