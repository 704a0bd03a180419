//! What the import makes of TheMovieDB's data: a movie the catalog does not
//! have yet is added when it fits the catalog's rules (or left out, saying
//! why); a known one takes TheMovieDB's values except where an admin
//! changed it by hand. And when the periodic import has nothing to do.

use chrono::{DateTime, Utc};

use super::movie::{MovieContent, MovieField, Revision, refresh};
use super::values;
use crate::tmdb::TmdbMovie;

/// Why a movie TheMovieDB lists is left out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    #[error("{0} is not a TheMovieDB id")]
    NotAnId(i64),
    #[error("TheMovieDB gives no title")]
    NoTitle,
    #[error("TheMovieDB gives no running time")]
    NoRunningTime,
    #[error("its running time of {0} minutes is beyond 1 to 600")]
    RunningTimeOutOfBounds(i32),
}

/// A movie left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub tmdb_id: i64,
    /// Cut to a title's length.
    pub title: String,
    pub reason: SkipReason,
}

impl Skipped {
    pub fn new(movie: &TmdbMovie, reason: SkipReason) -> Self {
        Self {
            tmdb_id: movie.tmdb_id,
            title: movie.title.chars().take(values::Title::MAX).collect(),
            reason,
        }
    }
}

/// A movie the catalog does not know yet, as the import adds it: only with
/// a usable running time (a showtime needs one).
pub fn addition(movie: &TmdbMovie) -> Result<MovieContent, SkipReason> {
    let content = content_of(movie)?;
    Ok(MovieContent {
        duration_minutes: runtime(movie)?,
        ..content
    })
}

/// What the import changes in a known movie (see
/// [`refresh`](super::movie::refresh)); `None` when nothing changes, and
/// when TheMovieDB's data no longer fits the rules (the movie keeps its
/// own). A running time TheMovieDB does not know keeps the movie's.
pub fn refreshment(
    movie: &TmdbMovie,
    current: &MovieContent,
    edited: &[MovieField],
) -> Option<Revision> {
    let minutes = runtime(movie);
    let imported = MovieContent {
        // A 0 is never taken: `refresh` is told there is no running time.
        duration_minutes: minutes.clone().unwrap_or_default(),
        ..content_of(movie).ok()?
    };
    let revision = refresh(current, edited, &imported, minutes.is_ok());
    (!revision.changed.is_empty()).then_some(revision)
}

/// Whether an import completed (in any replica) less than `every` before
/// `now`: then the periodic import skips, so that N replicas do not import
/// N times.
pub fn imported_within(
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    every: std::time::Duration,
) -> bool {
    last.is_some_and(|last| now - last < chrono::Duration::from_std(every).unwrap_or_default())
}

/// TheMovieDB's running time, when it is one a showtime can use.
fn runtime(movie: &TmdbMovie) -> Result<i32, SkipReason> {
    match movie.runtime_minutes {
        None => Err(SkipReason::NoRunningTime),
        Some(minutes) => values::Duration::parse(minutes)
            .map(values::Duration::minutes)
            .map_err(|_| SkipReason::RunningTimeOutOfBounds(minutes)),
    }
}

/// TheMovieDB's data made to fit the catalog's rules: text cleaned and cut
/// to length, genres deduplicated and at most ten, a poster that is not an
/// http(s) URL dropped; no movie without a title or a positive id. The
/// running time is left 0 here (see [`runtime`]).
fn content_of(movie: &TmdbMovie) -> Result<MovieContent, SkipReason> {
    if movie.tmdb_id <= 0 {
        return Err(SkipReason::NotAnId(movie.tmdb_id));
    }
    let title = clean(&movie.title, values::Title::MAX, false);
    if title.is_empty() {
        return Err(SkipReason::NoTitle);
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
    use chrono::Duration;

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
        assert_eq!(
            content_of(&movie(" \u{7} ", &[], Some(90))),
            Err(SkipReason::NoTitle)
        );
    }

    #[test]
    fn a_running_time_must_be_usable() {
        assert_eq!(runtime(&movie("a", &[], Some(90))), Ok(90));
        assert_eq!(
            runtime(&movie("a", &[], None)),
            Err(SkipReason::NoRunningTime)
        );
        let long = runtime(&movie("a", &[], Some(601))).unwrap_err();
        assert_eq!(
            long.to_string(),
            "its running time of 601 minutes is beyond 1 to 600"
        );
    }

    #[test]
    fn a_new_movie_needs_a_running_time_and_a_known_one_keeps_its_own() {
        assert_eq!(
            addition(&movie("Dune", &[], Some(155)))
                .unwrap()
                .duration_minutes,
            155
        );
        assert_eq!(
            addition(&movie("Dune", &[], None)),
            Err(SkipReason::NoRunningTime)
        );
        let known = addition(&movie("Dune", &[], Some(155))).unwrap();
        assert_eq!(refreshment(&movie("Dune", &[], None), &known, &[]), None);
        let retitled = refreshment(&movie("Dune (2021)", &[], None), &known, &[]).unwrap();
        assert_eq!(retitled.changed, [MovieField::Title]);
        assert_eq!(retitled.content.duration_minutes, 155);
        // Unusable data from TheMovieDB leaves a known movie as it is.
        assert_eq!(refreshment(&movie(" ", &[], Some(90)), &known, &[]), None);
    }

    #[test]
    fn the_interval_import_skips_while_the_last_one_is_recent() {
        let now = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        let hour = std::time::Duration::from_secs(3600);
        assert!(!imported_within(None, now, hour));
        assert!(imported_within(
            Some(now - Duration::minutes(59)),
            now,
            hour
        ));
        assert!(!imported_within(
            Some(now - Duration::minutes(60)),
            now,
            hour
        ));
    }
}
