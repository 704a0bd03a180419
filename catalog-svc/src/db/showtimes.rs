//! The `showtimes` table, read with the current title of its movie.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Int4, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use service_kit::db::{bind, prepared};
use uuid::Uuid;

use super::movies::lower;
use super::schema::{movies, showtimes};
use super::{Page, PageRequest};
use crate::domain::{Occupant, ShowtimeStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = showtimes, check_for_backend(diesel::pg::Pg))]
pub struct ShowtimeRow {
    pub id: Uuid,
    pub movie_id: Uuid,
    pub auditorium: String,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub free_at: DateTime<Utc>,
    pub price: i64,
    pub seat_rows: i32,
    pub seats_per_row: i32,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ShowtimeRow {
    pub fn status(&self) -> Option<ShowtimeStatus> {
        ShowtimeStatus::parse(&self.status)
    }
}

/// A showtime as callers see it: with its movie's title (a query joins
/// `movies` to select one).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct ShowtimeView {
    #[diesel(embed)]
    pub row: ShowtimeRow,
    #[diesel(select_expression = movies::title)]
    pub movie_title: String,
}

impl ShowtimeView {
    /// The showing as what holds its auditorium, for a clash to name.
    pub fn occupant(&self) -> Occupant<'_> {
        Occupant {
            showtime_id: self.row.id,
            auditorium: &self.row.auditorium,
            movie_title: &self.movie_title,
            start: self.row.start_time,
            free_at: self.row.free_at,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = showtimes)]
pub struct NewShowtime<'a> {
    pub id: Uuid,
    pub movie_id: Uuid,
    pub auditorium: &'a str,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub free_at: DateTime<Utc>,
    pub price: i64,
    pub seat_rows: i32,
    pub seats_per_row: i32,
    pub status: &'a str,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    showtime: NewShowtime<'_>,
) -> QueryResult<ShowtimeRow> {
    diesel::insert_into(showtimes::table)
        .values(showtime)
        .returning(ShowtimeRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<ShowtimeView>> {
    first_view(conn, with_titles().filter(showtimes::id.eq(id))).await
}

/// The showtime, locked against concurrent cancellation.
pub async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<ShowtimeRow>> {
    showtimes::table
        .find(id)
        .select(ShowtimeRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn cancel(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<ShowtimeRow> {
    diesel::update(showtimes::table.find(id))
        .set((
            showtimes::status.eq(ShowtimeStatus::Cancelled.as_str()),
            showtimes::cancel_reason.eq(reason),
            showtimes::cancelled_at.eq(now),
            showtimes::updated_at.eq(now),
        ))
        .returning(ShowtimeRow::as_returning())
        .get_result(conn)
        .await
}

/// The advisory lock space of auditoriums ("kcau"); the key in it is the
/// hash of the auditorium's lowered name.
const AUDITORIUM_LOCKS: i32 = 0x6b63_6175;

/// Makes the transactions scheduling in `auditorium` (any case) take turns
/// until they end. Without it, two racing inserts can meet in the window
/// where PostgreSQL has added both to the exclusion constraint's index and
/// each then waits for the other: a deadlock, which PostgreSQL breaks by
/// failing one of them with "deadlock detected", an INTERNAL to its caller
/// instead of a clash naming the winner (the concurrency test caught it
/// in a few races in a hundred). Taking turns, the
/// check before the insert sees the winner and names it; the constraint
/// still guarantees the rule. A hash collision only makes two rooms wait
/// for each other.
pub async fn lock_auditorium(conn: &mut AsyncPgConnection, auditorium: &str) -> QueryResult<()> {
    prepared(
        "SELECT pg_advisory_xact_lock(?, hashtext(lower(?)))",
        (
            bind::<Int4, _>(AUDITORIUM_LOCKS),
            bind::<Text, _>(auditorium),
        ),
    )
    .execute(conn)
    .await
    .map(drop)
}

/// A SCHEDULED showtime in `auditorium` (any case) busy at some time of
/// `[start, free_at)`: what is in the way of a new one.
pub async fn in_the_way(
    conn: &mut AsyncPgConnection,
    auditorium: &str,
    start: DateTime<Utc>,
    free_at: DateTime<Utc>,
) -> QueryResult<Option<ShowtimeView>> {
    let query = with_titles()
        .filter(showtimes::auditorium_key.eq(lower(auditorium.to_owned().into_sql::<Text>())))
        .filter(showtimes::status.eq(ShowtimeStatus::Scheduled.as_str()))
        .filter(showtimes::start_time.lt(free_at))
        .filter(showtimes::free_at.gt(start))
        .order(showtimes::start_time);
    first_view(conn, query).await
}

/// How many of the movie's SCHEDULED showtimes have not ended at `now`.
pub async fn count_upcoming(
    conn: &mut AsyncPgConnection,
    movie_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    showtimes::table
        .filter(showtimes::movie_id.eq(movie_id))
        .filter(showtimes::status.eq(ShowtimeStatus::Scheduled.as_str()))
        .filter(showtimes::end_time.gt(now))
        .count()
        .get_result(conn)
        .await
}

/// What ListShowtimes asks for.
#[derive(Debug, Clone)]
pub struct Filter {
    pub movie_id: Option<Uuid>,
    /// Starts in `[from, to)`.
    pub starts: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Not ended at this time (when no day is asked for).
    pub not_ended_at: Option<DateTime<Utc>>,
    pub include_cancelled: bool,
}

type Boxed<'a> = diesel::helper_types::IntoBoxed<
    'a,
    diesel::helper_types::InnerJoin<showtimes::table, movies::table>,
    diesel::pg::Pg,
>;

/// Showtimes with their movies, for [`ShowtimeView`]s.
fn with_titles() -> Boxed<'static> {
    showtimes::table.inner_join(movies::table).into_boxed()
}

/// The first showtime `query` finds, with its movie's title.
async fn first_view(
    conn: &mut AsyncPgConnection,
    query: Boxed<'static>,
) -> QueryResult<Option<ShowtimeView>> {
    query
        .select(ShowtimeView::as_select())
        .first(conn)
        .await
        .optional()
}

fn filtered(filter: &Filter) -> Boxed<'static> {
    let mut query = with_titles();
    if let Some(movie) = filter.movie_id {
        query = query.filter(showtimes::movie_id.eq(movie));
    }
    if let Some((from, to)) = filter.starts {
        query = query
            .filter(showtimes::start_time.ge(from))
            .filter(showtimes::start_time.lt(to));
    }
    if let Some(at) = filter.not_ended_at {
        query = query.filter(showtimes::end_time.gt(at));
    }
    if !filter.include_cancelled {
        query = query.filter(showtimes::status.eq(ShowtimeStatus::Scheduled.as_str()));
    }
    query
}

/// A page of showtimes by start, then id.
pub async fn page(
    conn: &mut AsyncPgConnection,
    request: &PageRequest<Filter, (DateTime<Utc>, Uuid)>,
) -> QueryResult<Page<ShowtimeView>> {
    let mut query = filtered(&request.filter)
        .select(ShowtimeView::as_select())
        .order((showtimes::start_time.asc(), showtimes::id.asc()))
        .limit(request.size + 1);
    if let Some((start, id)) = request.after {
        query = query.filter(
            showtimes::start_time
                .gt(start)
                .or(showtimes::start_time.eq(start).and(showtimes::id.gt(id))),
        );
    }
    let rows = query.load(conn).await?;
    let total = filtered(&request.filter).count().get_result(conn).await?;
    Ok(Page::of(rows, request.size, total))
}
