//! The `movies` table.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::movies;
use super::{Page, PageRequest};
use crate::domain::{MovieContent, MovieField};

diesel::define_sql_function!(fn lower(x: Text) -> Text);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = movies, check_for_backend(diesel::pg::Pg))]
pub struct MovieRow {
    pub id: Uuid,
    pub title: String,
    pub genres: Vec<String>,
    pub duration_minutes: i32,
    pub overview: String,
    pub release_date: Option<NaiveDate>,
    pub poster_url: Option<String>,
    pub tmdb_id: Option<i64>,
    pub edited_fields: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MovieRow {
    pub fn content(&self) -> MovieContent {
        MovieContent {
            title: self.title.clone(),
            genres: self.genres.clone(),
            duration_minutes: self.duration_minutes,
            overview: self.overview.clone(),
            release_date: self.release_date,
            poster_url: self.poster_url.clone(),
            tmdb_id: self.tmdb_id,
        }
    }

    /// The fields an admin changed by hand; names the code does not know
    /// (there are none) are ignored.
    pub fn edited(&self) -> Vec<MovieField> {
        self.edited_fields
            .iter()
            .filter_map(|name| MovieField::parse(name))
            .collect()
    }
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = movies, treat_none_as_null = true)]
pub struct MovieValues<'a> {
    pub title: &'a str,
    pub genres: &'a [String],
    pub duration_minutes: i32,
    pub overview: &'a str,
    pub release_date: Option<NaiveDate>,
    pub poster_url: Option<&'a str>,
    pub tmdb_id: Option<i64>,
}

impl<'a> MovieValues<'a> {
    pub fn of(content: &'a MovieContent) -> Self {
        Self {
            title: &content.title,
            genres: &content.genres,
            duration_minutes: content.duration_minutes,
            overview: &content.overview,
            release_date: content.release_date,
            poster_url: content.poster_url.as_deref(),
            tmdb_id: content.tmdb_id,
        }
    }
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    content: &MovieContent,
    now: DateTime<Utc>,
) -> QueryResult<MovieRow> {
    diesel::insert_into(movies::table)
        .values((
            movies::id.eq(id),
            MovieValues::of(content),
            movies::created_at.eq(now),
            movies::updated_at.eq(now),
        ))
        .returning(MovieRow::as_returning())
        .get_result(conn)
        .await
}

/// How [`find`] locks the movie it finds, until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    Unlocked,
    /// Many showtimes of it may be scheduled at once, but it cannot change
    /// or go away.
    ForShare,
    /// Against changes, deletion and new showtimes of it (their foreign key
    /// takes a share lock on it).
    ForUpdate,
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    lock: Lock,
) -> QueryResult<Option<MovieRow>> {
    let query = movies::table.find(id).select(MovieRow::as_select());
    let found = match lock {
        Lock::Unlocked => query.first(conn).await,
        Lock::ForShare => query.for_share().first(conn).await,
        Lock::ForUpdate => query.for_update().first(conn).await,
    };
    found.optional()
}

/// The movies known by these TheMovieDB ids, locked, in id order.
pub async fn lock_by_tmdb_ids(
    conn: &mut AsyncPgConnection,
    tmdb_ids: &[i64],
) -> QueryResult<Vec<MovieRow>> {
    movies::table
        .filter(movies::tmdb_id.eq_any(tmdb_ids))
        .order(movies::id)
        .select(MovieRow::as_select())
        .for_update()
        .load(conn)
        .await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    content: &MovieContent,
    edited: &[MovieField],
    now: DateTime<Utc>,
) -> QueryResult<MovieRow> {
    let edited: Vec<&str> = edited.iter().map(|field| field.name()).collect();
    diesel::update(movies::table.find(id))
        .set((
            MovieValues::of(content),
            movies::edited_fields.eq(edited),
            movies::updated_at.eq(now),
        ))
        .returning(MovieRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(movies::table.find(id)).execute(conn).await
}

/// What ListMovies asks for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Text the title contains, compared case-insensitively.
    pub query: Option<String>,
    /// A genre the movie has, compared case-insensitively.
    pub genre: Option<String>,
}

type Boxed<'a> = movies::BoxedQuery<'a, diesel::pg::Pg>;

fn filtered(filter: &Filter) -> Boxed<'static> {
    let mut query = movies::table.into_boxed();
    if let Some(text) = &filter.query {
        // Lowered by PostgreSQL on both sides, as the index is.
        let pattern = format!("%{}%", escape_like(text));
        query = query.filter(lower(movies::title).like(lower(pattern.into_sql::<Text>())));
    }
    if let Some(genre) = &filter.genre {
        let key = lower(genre.clone().into_sql::<Text>());
        query = query.filter(movies::genre_keys.contains(diesel::dsl::array((key,))));
    }
    query
}

/// `text` as a LIKE pattern matching itself: `%`, `_` and `\` escaped.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A page of movies by lower(title), then id.
pub async fn page(
    conn: &mut AsyncPgConnection,
    request: &PageRequest<Filter, (String, Uuid)>,
) -> QueryResult<Page<MovieRow>> {
    let mut query = filtered(&request.filter)
        .select(MovieRow::as_select())
        .order((lower(movies::title).asc(), movies::id.asc()))
        .limit(request.size + 1);
    if let Some((title, id)) = &request.after {
        let key = || lower(title.clone().into_sql::<Text>());
        query = query.filter(
            lower(movies::title)
                .gt(key())
                .or(lower(movies::title).eq(key()).and(movies::id.gt(*id))),
        );
    }
    let rows = query.load(conn).await?;
    let total = filtered(&request.filter).count().get_result(conn).await?;
    Ok(Page::of(rows, request.size, total))
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_patterns_match_only_themselves() {
        assert_eq!(escape_like("100% _pure_ \\o/"), "100\\% \\_pure\\_ \\\\o/");
    }
}
