//! The TheMovieDB import: fetch everything first, then add the movies not
//! known yet and refresh the known ones (by `tmdb_id`) in one transaction,
//! with an event per movie added or changed. On request, at start-up and on
//! an interval ([`periodic`]). What becomes of each fetched movie is
//! decided in [`crate::domain::import`].
//!
//! One import runs at a time across replicas: the transaction takes a
//! transaction-scoped advisory lock ([`imports::try_lock`]) before fetching
//! and keeps it to commit. The periodic import also skips when any replica
//! completed one less than an interval ago, so N replicas do not import N
//! times.

mod periodic;

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::{Pool, RefuseExt};
use service_kit::outbox::Outbox;
use uuid::Uuid;

use crate::db::imports::{self, NewImport};
use crate::db::{self, Writing, movies};
use crate::domain::Refusal;
pub use crate::domain::import::Skipped;
use crate::domain::import::{addition, imported_within, refreshment};
use crate::events;
use crate::render;
use crate::tmdb::{TmdbClient, TmdbError, TmdbMovie};

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
    fn name(self) -> &'static str {
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

#[derive(Clone)]
pub struct Importer {
    pool: Pool,
    outbox: Outbox,
    client: TmdbClient,
    clock: Clock,
}

impl Importer {
    pub fn new(outbox: Outbox, client: TmdbClient, clock: Clock) -> Self {
        Self {
            pool: outbox.pool().clone(),
            outbox,
            client,
            clock,
        }
    }

    /// Imports `pages` pages of popular movies. `None` when the periodic
    /// import found a recent one and did nothing.
    pub async fn run(&self, trigger: Trigger, pages: u32) -> Result<Option<Summary>, ServiceError> {
        if !self.client.is_configured() {
            return Err(TmdbError::NotConfigured.into());
        }
        let mut conn = self.pool.get().await?;
        let summary = conn
            .transaction(async |conn| {
                if !imports::try_lock(conn).await? {
                    return Err(ServiceError::from(Refusal::ImportRunning));
                }
                if let Trigger::Interval { every } = trigger
                    && imported_within(
                        imports::last_completed(conn).await?,
                        self.clock.now(),
                        every,
                    )
                {
                    return Ok(None);
                }
                let fetched = self.client.fetch_popular(pages).await?;
                let summary = self.upsert(conn, trigger.actor(), &fetched).await?;
                imports::record(
                    conn,
                    NewImport {
                        trigger: trigger.name(),
                        actor_id: trigger.actor().user_id(),
                        pages: pages as i32,
                        created_count: summary.created,
                        updated_count: summary.updated,
                        unchanged_count: summary.unchanged,
                        skipped_count: summary.skipped.len() as i32,
                        completed_at: summary.completed_at,
                    },
                )
                .await?;
                Ok(Some(summary))
            })
            .await?;
        if let Some(summary) = &summary {
            self.outbox.committed();
            tracing::info!(
                trigger = trigger.name(),
                pages,
                created = summary.created,
                updated = summary.updated,
                unchanged = summary.unchanged,
                skipped = summary.skipped.len(),
                "TheMovieDB import committed"
            );
        }
        Ok(summary)
    }

    /// Adds the movies not known yet and refreshes the known ones, locked
    /// meanwhile.
    async fn upsert(
        &self,
        conn: &mut AsyncPgConnection,
        actor: Actor,
        fetched: &[TmdbMovie],
    ) -> Result<Summary, ServiceError> {
        let now = self.clock.now();
        let ids: Vec<i64> = fetched.iter().map(|m| m.tmdb_id).collect();
        let known = movies::lock_by_tmdb_ids(conn, &ids).await?;
        let mut summary = Summary {
            completed_at: now,
            ..Summary::default()
        };
        let mut changes = Vec::new();
        for movie in fetched {
            match known.iter().find(|row| row.tmdb_id == Some(movie.tmdb_id)) {
                Some(row) => match refreshment(movie, &row.content(), &row.edited()) {
                    Some(revision) => {
                        let (content, edited) = (&revision.content, &revision.edited);
                        let row = movies::update(conn, row.id, content, edited, now).await?;
                        changes.push(render::movie_updated(&row, &revision.changed));
                        summary.updated += 1;
                    }
                    None => summary.unchanged += 1,
                },
                None => match addition(movie) {
                    Ok(content) => {
                        let writing = Writing::ImportedMovie {
                            tmdb_id: movie.tmdb_id,
                        };
                        let row = movies::insert(conn, Uuid::now_v7(), &content, now)
                            .await
                            .refuse(|v| db::refusal(v, writing).map(ServiceError::from))?;
                        changes.push(render::movie_created(&row));
                        summary.created += 1;
                    }
                    Err(reason) => summary.skipped.push(Skipped::new(movie, reason)),
                },
            }
        }
        events::append(conn, actor, now, changes).await?;
        Ok(summary)
    }
}
