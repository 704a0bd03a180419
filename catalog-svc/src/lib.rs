//! catalog-svc: movies and showtimes, with a TheMovieDB import.

pub mod app;

/// The shared outbox, then the service's own tables.
pub static MIGRATIONS: service_kit::db::Migrations = service_kit::db::Migrations::new(&[
    ("outbox", &service_kit::outbox::MIGRATIONS),
    ("catalog", &OWN_MIGRATIONS),
]);

static OWN_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/catalog");

/// Where the service listens unless `LISTEN_ADDR` says otherwise.
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:50053";
