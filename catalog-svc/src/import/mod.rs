//! The TheMovieDB import, as a long-running operation (AIP-151): fetch
//! everything first, then add the movies not known yet and refresh the
//! known ones (by `tmdb_id`) in one transaction, with an event per movie
//! added or changed. On request ([`Importer::start`], which answers once
//! the operation is recorded), at start-up and on an interval
//! ([`periodic`], which waits for the end). What becomes of each fetched
//! movie is decided in [`crate::domain::import`]; the operation's rules in
//! [`crate::domain::operation`].
//!
//! One import runs at a time across replicas: its transaction takes a
//! transaction-scoped advisory lock ([`imports::try_lock`]) before anything
//! else and keeps it to commit, and its operation is written only while
//! that lock is held: started (committed at once, so any replica reads
//! it), its progress as it goes ([`job`]), and its end inside the
//! transaction, so SUCCEEDED commits with the movies. So an operation
//! RUNNING while nobody holds the lock was left by a process that stopped:
//! [`Importer::interrupt_orphans`] (at start-up) and every new import mark
//! it failed. The periodic import also skips when any replica completed one
//! less than an interval ago, so N replicas do not import N times.

mod job;
mod observed;
mod periodic;
mod write;

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::Pool;
use service_kit::metrics::Metrics;
use service_kit::outbox::Outbox;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub use observed::ImportMetrics;

use crate::db::imports;
use crate::db::operations::{self, OperationRow};
use crate::domain::Refusal;
pub use crate::domain::import::Skipped;
use crate::domain::operation::INTERRUPTED;
use crate::tmdb::{TmdbClient, TmdbError};

/// How long a request waits for a running import's operation to show
/// (between another import taking the lock and writing its operation).
const FIND_RUNNING_FOR: Duration = Duration::from_secs(2);

/// What started an import.
#[derive(Debug, Clone, Copy)]
pub enum Trigger {
    /// ImportMovies, by this account.
    Request(Actor),
    StartUp,
    /// The periodic import, which skips when one completed within `every`.
    Interval {
        every: Duration,
    },
}

impl Trigger {
    /// As stored (`movie_imports.trigger`, `operations.trigger`).
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Request(_) => "request",
            Trigger::StartUp => "start-up",
            Trigger::Interval { .. } => "interval",
        }
    }

    /// The admin who asked; the service itself at start-up and on the
    /// interval.
    fn actor(self) -> Actor {
        match self {
            Trigger::Request(actor) => actor,
            Trigger::StartUp | Trigger::Interval { .. } => Actor::System,
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub skipped: Vec<Skipped>,
    pub completed_at: DateTime<Utc>,
}

/// What [`Importer::start`] did.
#[derive(Debug)]
pub enum Started {
    /// An import began, with this operation; `job` ends with it (`Some`:
    /// it began).
    New {
        operation: OperationRow,
        job: JoinHandle<Option<Ended>>,
    },
    /// Another import was running (in any replica): its operation.
    Running(OperationRow),
    /// The periodic import found a recent one and did nothing.
    Skipped,
}

/// How an import that began ended (its operation says the same).
#[derive(Debug, Clone)]
pub enum Ended {
    Succeeded(Summary),
    /// Failed or cancelled, with its google.rpc.Code and message; nothing
    /// was imported.
    Stopped {
        code: tonic::Code,
        message: String,
    },
}

/// Why [`Importer::run`] imported nothing.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// It did not begin: another import runs, no token, no database.
    #[error("{0}")]
    NotStarted(#[from] ServiceError),
    /// It began and failed or was cancelled (and said so in its operation
    /// and the log).
    #[error("{message} ({code:?})")]
    Ended { code: tonic::Code, message: String },
}

#[derive(Clone)]
pub struct Importer {
    pool: Pool,
    outbox: Outbox,
    client: TmdbClient,
    clock: Clock,
    /// Turns true when the service stops; `None`: never.
    stopping: Option<watch::Receiver<bool>>,
    observed: ImportMetrics,
}

impl Importer {
    pub fn new(outbox: Outbox, client: TmdbClient, clock: Clock) -> Self {
        Self {
            pool: outbox.pool().clone(),
            outbox,
            client,
            clock,
            stopping: None,
            observed: ImportMetrics::default(),
        }
    }

    /// Counts how imports end, and what they did, in `metrics`.
    pub fn observed_by(self, metrics: &Metrics) -> Self {
        Self {
            observed: ImportMetrics::register(metrics),
            ..self
        }
    }

    /// An import running when `stopping` turns true stops, failed, with
    /// nothing imported.
    pub fn stopping_with(self, stopping: watch::Receiver<bool>) -> Self {
        Self {
            stopping: Some(stopping),
            ..self
        }
    }

    /// Starts importing `pages` pages of popular movies in the background
    /// and answers as soon as its operation is recorded; or answers the
    /// operation of the import already running. Without a token nothing
    /// starts.
    pub async fn start(&self, trigger: Trigger, pages: u32) -> Result<Started, ServiceError> {
        if !self.client.is_configured() {
            return Err(TmdbError::NotConfigured.into());
        }
        let give_up = tokio::time::Instant::now() + FIND_RUNNING_FOR;
        loop {
            let (begun, beginning) = oneshot::channel();
            let job = tokio::spawn(self.clone().job(trigger, pages, begun));
            match beginning.await {
                Ok(job::Begun::Started(operation)) => {
                    return Ok(Started::New {
                        operation: *operation,
                        job,
                    });
                }
                Ok(job::Begun::Skipped) => return Ok(Started::Skipped),
                Ok(job::Begun::Failed(err)) => return Err(err),
                Ok(job::Begun::Busy) => {}
                Err(_) => return Err(ServiceError::internal("the import ended before it began")),
            }
            // Another import holds the lock; its operation is written a
            // moment after it took it, or it has just ended: look again.
            let mut conn = self.pool.get().await?;
            if let Some(running) = operations::running(&mut conn).await? {
                return Ok(Started::Running(running));
            }
            if tokio::time::Instant::now() >= give_up {
                return Err(Refusal::ImportRunning.into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Imports and waits for the end. `None` when the periodic import found
    /// a recent one and did nothing.
    pub async fn run(&self, trigger: Trigger, pages: u32) -> Result<Option<Summary>, RunError> {
        match self.start(trigger, pages).await? {
            Started::New { job, .. } => match job.await {
                Ok(Some(Ended::Succeeded(summary))) => Ok(Some(summary)),
                Ok(Some(Ended::Stopped { code, message })) => {
                    Err(RunError::Ended { code, message })
                }
                Ok(None) | Err(_) => {
                    Err(ServiceError::internal("the import's task ended unexpectedly").into())
                }
            },
            Started::Running(_) => Err(ServiceError::from(Refusal::ImportRunning).into()),
            Started::Skipped => Ok(None),
        }
    }

    /// Marks failed the operations a stopped process left RUNNING, unless an
    /// import is running (then they are its own, or it marked them when it
    /// began). At start-up.
    pub async fn interrupt_orphans(&self) -> Result<usize, ServiceError> {
        let mut conn = self.pool.get().await?;
        let now = self.clock.now();
        let interrupted = conn
            .transaction(async |conn| {
                if !imports::try_lock(conn).await? {
                    return Ok::<_, ServiceError>(Vec::new());
                }
                Ok(
                    operations::fail_running(conn, tonic::Code::Aborted as i32, INTERRUPTED, now)
                        .await?,
                )
            })
            .await?;
        for id in &interrupted {
            tracing::warn!(operation = %id, "a TheMovieDB import was {INTERRUPTED}");
        }
        Ok(interrupted.len())
    }
}
