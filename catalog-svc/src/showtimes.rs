//! The showtime rules at work: scheduling (one room's schedulers take
//! turns; an exclusion constraint guarantees that showings never overlap),
//! reading, and cancelling, each in one transaction with its outbox event.

use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::clock::Clock;
use service_kit::db::{Lost, Pool, RefuseExt, ScopedFutureExt, read, transaction};
use service_kit::outbox::Outbox;
use uuid::Uuid;

use crate::db::movies::{self, Lock};
use crate::db::showtimes::{self, Filter, NewShowtime, ShowtimeView};
use crate::db::{self, Page, PageRequest, Writing};
use crate::domain::{
    Auditorium, Cancellation, Price, Refusal, ScheduleRules, SeatLayout, ShowtimeStatus,
};
use crate::events;
use crate::render;

/// A validated CreateShowtime.
#[derive(Debug, Clone)]
pub struct ShowtimeDraft {
    pub movie_id: Uuid,
    pub auditorium: Auditorium,
    pub start: DateTime<Utc>,
    pub price: Price,
    pub layout: SeatLayout,
}

#[derive(Clone)]
pub struct Showtimes {
    pool: Pool,
    outbox: Outbox,
    rules: ScheduleRules,
    clock: Clock,
}

/// Why scheduling stopped: a refusal, kept typed so that a race lost to a
/// concurrent scheduler can be told from the rest, or another failure.
enum Stopped {
    Refused(Refusal),
    Failed(ServiceError),
}

impl From<Refusal> for Stopped {
    fn from(refusal: Refusal) -> Self {
        Stopped::Refused(refusal)
    }
}

impl From<ServiceError> for Stopped {
    fn from(err: ServiceError) -> Self {
        Stopped::Failed(err)
    }
}

impl From<DieselError> for Stopped {
    fn from(err: DieselError) -> Self {
        Stopped::Failed(err.into())
    }
}

impl Lost for Stopped {
    fn connection_lost(&self) -> bool {
        matches!(self, Stopped::Failed(err) if err.connection_lost())
    }
}

impl Showtimes {
    pub fn new(outbox: Outbox, rules: ScheduleRules, clock: Clock) -> Self {
        Self {
            pool: outbox.pool().clone(),
            outbox,
            rules,
            clock,
        }
    }

    pub fn rules(&self) -> &ScheduleRules {
        &self.rules
    }

    /// Schedules a showing. A clash with another SCHEDULED showtime in the
    /// room is FAILED_PRECONDITION naming it. Schedulers of one room take
    /// turns (see [`showtimes::lock_auditorium`]), and the exclusion
    /// constraint guarantees that two racing requests for overlapping times
    /// cannot both win.
    pub async fn create(
        &self,
        actor: Actor,
        draft: ShowtimeDraft,
    ) -> Result<ShowtimeView, ServiceError> {
        let now = self.clock.now();
        let rules = &self.rules;
        let draft = &draft;
        let result = transaction(&self.pool, |conn| {
            async move {
                // Shared: concurrent showtimes of one movie do not wait for
                // each other, but a change or deletion of the movie does.
                let movie = movies::find(conn, draft.movie_id, Lock::ForShare)
                    .await?
                    .ok_or(Refusal::NoMovie(draft.movie_id))?;
                let (end, free_at) = rules.slot(draft.start, movie.duration_minutes);
                let auditorium = draft.auditorium.as_str();
                showtimes::lock_auditorium(conn, auditorium).await?;
                if let Some(other) =
                    showtimes::in_the_way(conn, auditorium, draft.start, free_at).await?
                {
                    return Err(Stopped::from(rules.taken_by(&other.occupant())));
                }
                let writing = Writing::Showtime {
                    movie_id: movie.id,
                    start: draft.start,
                    free_at,
                };
                let row = showtimes::insert(
                    conn,
                    NewShowtime {
                        id: Uuid::now_v7(),
                        movie_id: movie.id,
                        auditorium,
                        start_time: draft.start,
                        end_time: end,
                        free_at,
                        price: draft.price.rupiah(),
                        seat_rows: draft.layout.rows(),
                        seats_per_row: draft.layout.seats_per_row(),
                        status: ShowtimeStatus::Scheduled.as_str(),
                        created_at: now,
                        updated_at: now,
                    },
                )
                .await
                .refuse(|v| db::refusal(v, writing).map(Stopped::Refused))?;
                let view = ShowtimeView {
                    row,
                    movie_title: movie.title,
                };
                events::append(conn, actor, now, vec![render::showtime_scheduled(&view)]).await?;
                Ok(view)
            }
            .scope_boxed()
        })
        .await;
        match result {
            Ok(view) => {
                self.outbox.committed();
                tracing::info!(showtime_id = %view.row.id, "showtime scheduled");
                Ok(view)
            }
            Err(Stopped::Refused(Refusal::AuditoriumTakenMeanwhile { start, free_at })) => {
                // The winner of the race has committed; name it.
                let auditorium = draft.auditorium.as_str();
                let in_the_way = read(&self.pool, |conn| {
                    async move {
                        Ok::<_, ServiceError>(
                            showtimes::in_the_way(conn, auditorium, start, free_at).await?,
                        )
                    }
                    .scope_boxed()
                })
                .await?;
                match in_the_way {
                    Some(other) => Err(rules.taken_by(&other.occupant()).into()),
                    None => Err(Refusal::AuditoriumTakenMeanwhile { start, free_at }.into()),
                }
            }
            Err(Stopped::Refused(refusal)) => Err(refusal.into()),
            Err(Stopped::Failed(err)) => Err(err),
        }
    }

    pub async fn get(&self, id: Uuid) -> Result<ShowtimeView, ServiceError> {
        let view = read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(showtimes::find(conn, id).await?) }.scope_boxed()
        })
        .await?;
        Ok(view.ok_or(Refusal::NoShowtime(id))?)
    }

    pub async fn list(
        &self,
        request: &PageRequest<Filter, (DateTime<Utc>, Uuid)>,
    ) -> Result<Page<ShowtimeView>, ServiceError> {
        read(&self.pool, |conn| {
            async move { Ok::<_, ServiceError>(showtimes::page(conn, request).await?) }
                .scope_boxed()
        })
        .await
    }

    /// SCHEDULED → CANCELLED; a CANCELLED showtime is answered as it is.
    pub async fn cancel(
        &self,
        actor: Actor,
        id: Uuid,
        reason: Option<String>,
    ) -> Result<ShowtimeView, ServiceError> {
        let now = self.clock.now();
        let reason = &reason;
        let changed = transaction(&self.pool, |conn| {
            async move {
                let row = showtimes::find_for_update(conn, id)
                    .await?
                    .ok_or(Refusal::NoShowtime(id))?;
                let status = row.status().ok_or_else(|| {
                    ServiceError::internal(format!("showtime {id} has status {}", row.status))
                })?;
                match crate::domain::showtime::cancel(status, row.end_time, now)? {
                    Cancellation::AlreadyCancelled => Ok::<_, ServiceError>(false),
                    Cancellation::Cancel => {
                        showtimes::cancel(conn, id, reason.as_deref(), now).await?;
                        let view = showtimes::find(conn, id)
                            .await?
                            .ok_or(Refusal::NoShowtime(id))?;
                        let change = render::showtime_cancelled(&view);
                        events::append(conn, actor, now, vec![change]).await?;
                        Ok(true)
                    }
                }
            }
            .scope_boxed()
        })
        .await?;
        if changed {
            self.outbox.committed();
            tracing::info!(showtime_id = %id, "showtime cancelled");
        }
        self.get(id).await
    }
}
