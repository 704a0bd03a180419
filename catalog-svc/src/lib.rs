//! catalog-svc: the cinema's movies and showtimes, with an import of
//! popular movies from TheMovieDB.
//!
//! [`app::run`] starts the server. `api` holds the gRPC handlers (a request
//! parsed in `api::parse`, answered through `render`), for CatalogService
//! and for `google.longrunning.Operations` (the imports' operations);
//! `domain` the rules (value objects, what a movie is made of and how it
//! changes, a showtime's life cycle, the scheduling rules, what the import
//! makes of TheMovieDB's data, an operation's life cycle) and the typed
//! refusals they answer with, given their gRPC codes in one place
//! (`domain::refusal`); `movies`, `showtimes`, `import` and `operations` are
//! the commands, each loading, deciding with those rules and writing in one
//! transaction, with their events (rendered in `render`); `tmdb` talks to
//! TheMovieDB; `db` holds the SQL and the constraints' refusals.

pub mod api;
pub mod app;
pub mod config;
pub mod db;
pub mod domain;
pub mod events;
pub mod import;
pub mod movies;
pub mod operations;
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
