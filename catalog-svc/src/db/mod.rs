//! catalog-svc's SQL, one module per table. Handlers never write queries;
//! the service layer (`movies`, `showtimes`, `import`) calls these inside
//! its transactions.

pub mod imports;
pub mod movies;
pub mod schema;
pub mod showtimes;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// The exclusion constraint that keeps two showings out of one auditorium.
pub const NO_OVERLAP: &str = "showtimes_no_overlap";
/// TheMovieDB ids are unique.
pub const TMDB_ID_UNIQUE: &str = "movies_tmdb_id_key";
/// Genres: at most ten, 1 to 50 characters, distinct under lower().
pub const GENRES_VALID: &str = "movies_genres_check";
/// A showtime's movie must exist.
pub const SHOWTIME_MOVIE: &str = "showtimes_movie_id_fkey";

/// The constraint a failed statement broke, when it broke one.
pub fn violated(err: &DieselError) -> Option<(&DatabaseErrorKind, &str)> {
    match err {
        DieselError::DatabaseError(kind, info) => info.constraint_name().map(|name| (kind, name)),
        _ => None,
    }
}
