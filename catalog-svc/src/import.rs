//! The TheMovieDB import: fetch everything first, then upsert by `tmdb_id`
//! in one transaction, with an event per movie added or changed. On
//! request, at start-up and on an interval.
//!
//! One import runs at a time across replicas: the transaction takes a
//! transaction-scoped advisory lock before fetching and keeps it to commit.
//! Transaction-scoped, so that a request cancelled mid-fetch (the client
//! went away) cannot leave the lock behind on a pooled connection: the
//! connection is discarded and the server ends its session. The periodic
//! import also skips when any replica completed one less than an interval
//! ago, so N replicas do not import N times.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Bool, Int8};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::{Pool, RefuseExt};
use service_kit::outbox::Outbox;
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use crate::db::imports::{self, NewImport};
use crate::db::movies::{self, MovieRow};
use crate::db::{self, Writing};
use crate::domain::movie::refresh;
use crate::domain::{MovieContent, Refusal, values};
use crate::events::{self, CatalogChange};
use crate::render;
use crate::tmdb::{TmdbClient, TmdbMovie};

/// The advisory lock of the import ("kursi.catalog.import").
const IMPORT_LOCK: i64 = 0x6b75_7273_6369_6d70;

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

/// A movie left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub tmdb_id: i64,
    pub title: String,
    pub reason: String,
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

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
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
            return Err(crate::tmdb::TmdbError::NotConfigured.into());
        }
        let mut conn = self.pool.get().await?;
        let summary = conn
            .transaction(async |conn| {
                let locked: Locked =
                    diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
                        .bind::<Int8, _>(IMPORT_LOCK)
                        .get_result(conn)
                        .await?;
                if !locked.locked {
                    return Err(ServiceError::from(Refusal::ImportRunning));
                }
                if let Trigger::Interval { every } = trigger
                    && let Some(last) = imports::last_completed(conn).await?
                    && self.clock.now() - last
                        < chrono::Duration::from_std(every).unwrap_or_default()
                {
                    return Ok(None);
                }
                let fetched = self.client.fetch_popular(pages).await?;
                let summary = upsert(conn, trigger, &fetched, self.clock.now()).await?;
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

    /// Imports at start-up when asked, then every `interval` (if any), until
    /// `shutdown` turns true. Failures are logged; the next interval tries
    /// again.
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
            self.log(self.run(Trigger::StartUp, pages).await);
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
            self.log(result);
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

    fn log(&self, result: Result<Option<Summary>, ServiceError>) {
        match result {
            Ok(Some(_)) => {}
            Ok(None) => tracing::debug!("a recent import ran; skipping this one"),
            Err(ServiceError::Aborted(_)) => {
                tracing::debug!("another replica is importing; skipping")
            }
            Err(err) => tracing::warn!(error = %err, "TheMovieDB import failed; nothing changed"),
        }
    }
}

/// Adds the movies not known yet and refreshes the known ones.
async fn upsert(
    conn: &mut AsyncPgConnection,
    trigger: Trigger,
    fetched: &[TmdbMovie],
    now: DateTime<Utc>,
) -> Result<Summary, ServiceError> {
    let ids: Vec<i64> = fetched.iter().map(|m| m.tmdb_id).collect();
    let known = movies::lock_by_tmdb_ids(conn, &ids).await?;
    let mut summary = Summary {
        completed_at: now,
        ..Summary::default()
    };
    let mut changes = Vec::new();
    for movie in fetched {
        let existing = known.iter().find(|row| row.tmdb_id == Some(movie.tmdb_id));
        let minutes = runtime(movie);
        let imported = match content_of(movie) {
            // With TheMovieDB's running time when it has a usable one: a
            // refresh takes it from here (and a 0 would break the table's
            // check); without one, a known movie keeps its own.
            Ok(content) => MovieContent {
                duration_minutes: minutes.clone().unwrap_or_default(),
                ..content
            },
            Err(reason) => {
                if existing.is_some() {
                    summary.unchanged += 1;
                } else {
                    summary.skipped.push(skipped(movie, reason));
                }
                continue;
            }
        };
        match existing {
            Some(row) => match refresh_known(conn, row, &imported, minutes.is_ok(), now).await? {
                Some(change) => {
                    summary.updated += 1;
                    changes.push(change);
                }
                None => summary.unchanged += 1,
            },
            None => match minutes {
                Err(reason) => summary.skipped.push(skipped(movie, reason)),
                Ok(_) => {
                    let writing = Writing::ImportedMovie {
                        tmdb_id: movie.tmdb_id,
                    };
                    let row = movies::insert(conn, Uuid::now_v7(), &imported, now)
                        .await
                        .refuse(|v| db::refusal(v, writing).map(ServiceError::from))?;
                    summary.created += 1;
                    changes.push(render::movie_created(&row));
                }
            },
        }
    }
    events::append(conn, trigger.actor(), now, changes).await?;
    Ok(summary)
}

async fn refresh_known(
    conn: &mut AsyncPgConnection,
    row: &MovieRow,
    imported: &MovieContent,
    has_runtime: bool,
    now: DateTime<Utc>,
) -> Result<Option<CatalogChange>, ServiceError> {
    let revision = refresh(&row.content(), &row.edited(), imported, has_runtime);
    if revision.changed.is_empty() {
        return Ok(None);
    }
    let updated = movies::update(conn, row.id, &revision.content, &revision.edited, now).await?;
    Ok(Some(render::movie_updated(&updated, &revision.changed)))
}

fn skipped(movie: &TmdbMovie, reason: String) -> Skipped {
    Skipped {
        tmdb_id: movie.tmdb_id,
        title: movie.title.chars().take(values::Title::MAX).collect(),
        reason,
    }
}

/// TheMovieDB's running time, when it is one a showtime can use.
fn runtime(movie: &TmdbMovie) -> Result<i32, String> {
    match movie.runtime_minutes {
        None => Err("TheMovieDB gives no running time".into()),
        Some(minutes) => values::Duration::parse(minutes)
            .map(values::Duration::minutes)
            .map_err(|_| format!("its running time of {minutes} minutes is beyond 1 to 600")),
    }
}

/// TheMovieDB's data made to fit the catalog's rules: text cleaned and cut
/// to length, genres deduplicated and at most ten, a poster that is not an
/// http(s) URL dropped; no movie without a title or a positive id. The
/// running time is left 0 here (see [`runtime`]).
fn content_of(movie: &TmdbMovie) -> Result<MovieContent, String> {
    if movie.tmdb_id <= 0 {
        return Err(format!("{} is not a TheMovieDB id", movie.tmdb_id));
    }
    let title = clean(&movie.title, values::Title::MAX, false);
    if title.is_empty() {
        return Err("TheMovieDB gives no title".into());
    }
    let mut genres: Vec<String> = Vec::new();
    for name in &movie.genres {
        let name = clean(name, values::Genres::MAX_NAME, false);
        if !name.is_empty()
            && genres.len() < values::Genres::MAX
            && !genres
                .iter()
                .any(|g| values::Genres::key(g) == values::Genres::key(&name))
        {
            genres.push(name);
        }
    }
    Ok(MovieContent {
        title,
        genres,
        duration_minutes: 0,
        overview: clean(&movie.overview, values::Overview::MAX, true),
        release_date: movie.release_date,
        poster_url: movie
            .poster_url
            .as_deref()
            .and_then(|url| values::parse_poster_url(url).ok().flatten()),
        tmdb_id: Some(movie.tmdb_id),
    })
}

/// Trimmed, without control characters (line breaks kept where allowed),
/// at most `max` characters.
fn clean(text: &str, max: usize, multiline: bool) -> String {
    text.trim()
        .chars()
        .filter(|c| !c.is_control() || (multiline && matches!(c, '\n' | '\t')))
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn movie(title: &str, genres: &[&str], runtime: Option<i32>) -> TmdbMovie {
        TmdbMovie {
            tmdb_id: 7,
            title: title.into(),
            overview: "line one\nline two\u{0}".into(),
            release_date: None,
            genres: genres.iter().map(|g| (*g).to_owned()).collect(),
            poster_url: Some("javascript:alert(1)".into()),
            runtime_minutes: runtime,
        }
    }

    #[test]
    fn data_from_themoviedb_is_made_to_fit() {
        let long = "x".repeat(300);
        let content =
            content_of(&movie(&long, &["Action", "action", " ", "Drama"], Some(90))).unwrap();
        assert_eq!(content.title.chars().count(), 200);
        assert_eq!(content.genres, ["Action", "Drama"]);
        assert_eq!(content.overview, "line one\nline two");
        assert_eq!(content.poster_url, None);
        assert!(content_of(&movie(" \u{7} ", &[], Some(90))).is_err());
    }

    #[test]
    fn a_running_time_must_be_usable() {
        assert_eq!(runtime(&movie("a", &[], Some(90))), Ok(90));
        assert!(runtime(&movie("a", &[], None)).is_err());
        assert!(runtime(&movie("a", &[], Some(601))).is_err());
    }
}
