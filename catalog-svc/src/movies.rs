//! The movie rules at work: each command runs in one transaction that
//! writes the movie and its outbox event together.

use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::{Pool, RefuseExt, ScopedFutureExt, read, transaction};
use service_kit::outbox::Outbox;
use uuid::Uuid;

use crate::db::movies::{self, Filter, Lock, MovieRow};
use crate::db::{self, Page, PageRequest, Writing, showtimes};
use crate::domain::movie::check_deletable;
use crate::domain::{MovieContent, MovieEdit, Refusal};
use crate::events;
use crate::render;

#[derive(Clone)]
pub struct Movies {
    pool: Pool,
    outbox: Outbox,
    clock: Clock,
}

/// A movie written by hand, refused by the table: the TheMovieDB id is
/// taken, or (a backstop) two genres are the same to PostgreSQL's lower().
fn refused(
    violation: service_kit::db::Violation<'_>,
    tmdb_id: Option<i64>,
) -> Option<ServiceError> {
    db::refusal(violation, Writing::Movie { tmdb_id }).map(ServiceError::from)
}

impl Movies {
    pub fn new(outbox: Outbox, clock: Clock) -> Self {
        Self {
            pool: outbox.pool().clone(),
            outbox,
            clock,
        }
    }

    pub async fn create(
        &self,
        actor: Actor,
        content: MovieContent,
    ) -> Result<MovieRow, ServiceError> {
        let now = self.clock.now();
        let content = &content;
        let row = transaction(&self.pool, |conn| {
            async move {
                let row = movies::insert(conn, Uuid::now_v7(), content, now)
                    .await
                    .refuse(|v| refused(v, content.tmdb_id))?;
                events::append(conn, actor, now, vec![render::movie_created(&row)]).await?;
                Ok::<_, ServiceError>(row)
            }
            .scope_boxed()
        })
        .await?;
        self.outbox.committed();
        tracing::info!(movie_id = %row.id, title = %row.title, "movie created");
        Ok(row)
    }

    pub async fn get(&self, id: Uuid) -> Result<MovieRow, ServiceError> {
        let row = read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(movies::find(conn, id, Lock::Unlocked).await?) }
                .scope_boxed()
        })
        .await?;
        Ok(row.ok_or(Refusal::NoMovie(id))?)
    }

    pub async fn list(
        &self,
        request: &PageRequest<Filter, (String, Uuid)>,
    ) -> Result<Page<MovieRow>, ServiceError> {
        read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(movies::page(conn, request).await?) }.scope_boxed()
        })
        .await
    }

    /// Applies a change by hand; a change that changes nothing writes
    /// nothing.
    pub async fn update(
        &self,
        actor: Actor,
        id: Uuid,
        edit: MovieEdit,
    ) -> Result<MovieRow, ServiceError> {
        let now = self.clock.now();
        let edit = &edit;
        let (row, changed) = transaction(&self.pool, |conn| {
            async move {
                let current = movies::find(conn, id, Lock::ForUpdate)
                    .await?
                    .ok_or(Refusal::NoMovie(id))?;
                let revision = edit.apply(&current.content(), &current.edited());
                if revision.changed.is_empty() {
                    return Ok::<_, ServiceError>((current, false));
                }
                let row = movies::update(conn, id, &revision.content, &revision.edited, now)
                    .await
                    .refuse(|v| refused(v, revision.content.tmdb_id))?;
                let change = render::movie_updated(&row, &revision.changed);
                events::append(conn, actor, now, vec![change]).await?;
                Ok((row, true))
            }
            .scope_boxed()
        })
        .await?;
        if changed {
            self.outbox.committed();
        }
        Ok(row)
    }

    /// Deletes the movie and its showtimes, unless one of them is SCHEDULED
    /// and still to end. The movie's row lock keeps a showtime from being
    /// scheduled meanwhile (its foreign key waits for the lock).
    pub async fn delete(&self, actor: Actor, id: Uuid) -> Result<(), ServiceError> {
        let now = self.clock.now();
        transaction(&self.pool, |conn| {
            async move {
                let row = movies::find(conn, id, Lock::ForUpdate)
                    .await?
                    .ok_or(Refusal::NoMovie(id))?;
                let upcoming = showtimes::count_upcoming(conn, id, now).await?;
                check_deletable(&row.title, upcoming)?;
                movies::delete(conn, id).await?;
                events::append(conn, actor, now, vec![render::movie_deleted(&row)]).await?;
                Ok::<_, ServiceError>(())
            }
            .scope_boxed()
        })
        .await?;
        self.outbox.committed();
        tracing::info!(movie_id = %id, "movie deleted");
        Ok(())
    }
}
