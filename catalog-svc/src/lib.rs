//! catalog-svc: the cinema's movies and showtimes, with an import of
//! popular movies from TheMovieDB.
//!
//! [`app::run`] starts the server. `api` holds the gRPC handlers; `domain`
//! the rules (value objects, what a movie is made of and how it changes, a
//! showtime's life cycle, the scheduling rules); `movies`, `showtimes` and
//! `import` run those rules in transactions, with their events; `tmdb`
//! talks to TheMovieDB; `db` holds the SQL.

pub mod api;
pub mod app;
pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod import;
pub mod movies;
pub mod render;
pub mod showtimes;
pub mod tmdb;

/// The shared outbox, then the service's own tables.
pub static MIGRATIONS: service_kit::db::Migrations = service_kit::db::Migrations::new(&[
    ("outbox", &service_kit::outbox::MIGRATIONS),
    ("catalog", &OWN_MIGRATIONS),
]);

static OWN_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/catalog");

/// Where the service listens unless `LISTEN_ADDR` says otherwise.
pub const DEFAULT_LISTEN_ADDR: &str = config::DEFAULT_LISTEN_ADDR;
