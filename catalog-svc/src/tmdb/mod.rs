//! TheMovieDB's v3 API, as the import uses it: popular movies with their
//! genre names and runtimes, fetched politely and completely before anything
//! is written.
//!
//! - [`settings`]: the `TMDB_*` variables.
//! - [`TmdbClient::fetch_popular`]: everything an import needs, or one
//!   [`TmdbError`] naming the request that failed; with
//!   [`TmdbClient::fetch_popular_into`], counted into a [`Fetch`] whose
//!   [`FetchProgress`] (requests, retries, pages and movies fetched, a
//!   `Retry-After` being waited out) the import's operation reports.
//! - `transport`: one GET with the token, a deadline, a size limit, the
//!   in-flight limit and the retry rules; `wire`: TMDB's JSON shapes.

mod client;
mod error;
mod movie;
pub mod settings;
mod transport;
mod wire;

pub use client::{MAX_PAGES, TmdbClient};
pub use error::TmdbError;
pub use movie::TmdbMovie;
pub use settings::TmdbSettings;
pub use transport::{Fetch, FetchProgress};
