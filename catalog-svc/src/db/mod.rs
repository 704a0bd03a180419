//! catalog-svc's SQL, one module per table. Handlers never write queries;
//! the command modules (`movies`, `showtimes`, `import`, `operations`) call
//! these inside their transactions.
//!
//! The constraints below are the guarantees the commands rely on;
//! [`refusal`] is the one place where each becomes the rule's refusal. No
//! constraint name reaches a client.

pub mod imports;
pub mod movies;
pub mod operations;
pub mod schema;
pub mod showtimes;

use chrono::{DateTime, Utc};
use service_kit::db::{ConstraintKind, Violation};
use uuid::Uuid;

use crate::domain::{FieldRefusal, Refusal};

/// The exclusion constraint that keeps two showings out of one auditorium.
pub const NO_OVERLAP: &str = "showtimes_no_overlap";
/// TheMovieDB ids are unique.
pub const TMDB_ID_UNIQUE: &str = "movies_tmdb_id_key";
/// Genres: at most ten, 1 to 50 characters, distinct under lower().
pub const GENRES_VALID: &str = "movies_genres_check";
/// A showtime's movie must exist.
pub const SHOWTIME_MOVIE: &str = "showtimes_movie_id_fkey";
/// One import RUNNING at a time.
pub const ONE_RUNNING_IMPORT: &str = "operations_one_running";

/// What a List method asks for: `size` rows matching `filter`, after the
/// position `after` (the sort key of the last row of the page before).
#[derive(Debug, Clone)]
pub struct PageRequest<F, K> {
    pub filter: F,
    pub after: Option<K>,
    pub size: i64,
}

/// One page of a list: its rows, how many match in all, and whether more
/// follow.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total: i64,
    pub more: bool,
}

impl<T> Page<T> {
    /// The page of `size` rows in `fetched`, which was asked for one more:
    /// that one, when it came, says more follow.
    fn of(mut fetched: Vec<T>, size: i64, total: i64) -> Self {
        let more = fetched.len() as i64 > size;
        fetched.truncate(size as usize);
        Self {
            rows: fetched,
            total,
            more,
        }
    }
}

/// What a refused statement was writing, for its refusal to name.
#[derive(Debug, Clone, Copy)]
pub enum Writing {
    /// A movie, by hand.
    Movie { tmdb_id: Option<i64> },
    /// A movie the import adds.
    ImportedMovie { tmdb_id: i64 },
    /// A RUNNING import's operation.
    Operation,
    /// A showing of `movie_id` holding its auditorium over `[start, free_at)`.
    Showtime {
        movie_id: Uuid,
        start: DateTime<Utc>,
        free_at: DateTime<Utc>,
    },
}

/// The refusal a broken constraint stands for, given what was being
/// written; `None` for a constraint no command expects there, which takes
/// the shared mapping (`From<DieselError> for ServiceError`). Use with
/// `service_kit::db::RefuseExt::refuse`.
pub fn refusal(violation: Violation<'_>, writing: Writing) -> Option<Refusal> {
    use ConstraintKind::{Check, Exclusion, ForeignKey, Unique};
    match (violation.kind, violation.constraint, writing) {
        (Unique, TMDB_ID_UNIQUE, Writing::Movie { tmdb_id }) => Some(Refusal::TmdbIdTaken {
            tmdb_id: tmdb_id.unwrap_or_default(),
        }),
        (Unique, TMDB_ID_UNIQUE, Writing::ImportedMovie { tmdb_id }) => {
            Some(Refusal::ImportOvertaken { tmdb_id })
        }
        (Check, GENRES_VALID, Writing::Movie { .. }) => Some(FieldRefusal::GenresAlike.into()),
        (Exclusion, NO_OVERLAP, Writing::Showtime { start, free_at, .. }) => {
            Some(Refusal::AuditoriumTakenMeanwhile { start, free_at })
        }
        (ForeignKey, SHOWTIME_MOVIE, Writing::Showtime { movie_id, .. }) => {
            Some(Refusal::NoMovie(movie_id))
        }
        (Unique, ONE_RUNNING_IMPORT, Writing::Operation) => Some(Refusal::ImportRunning),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broke(kind: ConstraintKind, constraint: &str) -> Violation<'_> {
        Violation { kind, constraint }
    }

    #[test]
    fn a_page_knows_whether_more_follow() {
        let full = Page::of(vec![1, 2, 3], 2, 7);
        assert_eq!((full.rows, full.total, full.more), (vec![1, 2], 7, true));
        let last = Page::of(vec![1, 2], 2, 2);
        assert_eq!((last.rows, last.more), (vec![1, 2], false));
    }

    #[test]
    fn each_constraint_stands_for_its_rule_and_others_for_nothing() {
        let by_hand = Writing::Movie { tmdb_id: Some(550) };
        assert_eq!(
            refusal(broke(ConstraintKind::Unique, TMDB_ID_UNIQUE), by_hand),
            Some(Refusal::TmdbIdTaken { tmdb_id: 550 })
        );
        assert_eq!(
            refusal(
                broke(ConstraintKind::Unique, TMDB_ID_UNIQUE),
                Writing::ImportedMovie { tmdb_id: 550 }
            ),
            Some(Refusal::ImportOvertaken { tmdb_id: 550 })
        );
        let showing = Writing::Showtime {
            movie_id: Uuid::nil(),
            start: DateTime::UNIX_EPOCH,
            free_at: DateTime::UNIX_EPOCH,
        };
        assert_eq!(
            refusal(broke(ConstraintKind::ForeignKey, SHOWTIME_MOVIE), showing),
            Some(Refusal::NoMovie(Uuid::nil()))
        );
        assert_eq!(
            refusal(
                broke(ConstraintKind::Unique, ONE_RUNNING_IMPORT),
                Writing::Operation
            ),
            Some(Refusal::ImportRunning)
        );
        assert_eq!(
            refusal(broke(ConstraintKind::Unique, "movies_pkey"), by_hand),
            None
        );
        assert_eq!(
            refusal(broke(ConstraintKind::Exclusion, NO_OVERLAP), by_hand),
            None
        );
    }
}
