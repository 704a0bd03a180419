//! catalog-svc: movies and showtimes, with a TheMovieDB import.
//!
//! For now a skeleton: it starts, prepares its database, serves health and
//! reflection, verifies tokens like every service, and answers UNIMPLEMENTED
//! for every RPC of `kursi.catalog.v1.CatalogService` (the generated default stubs) until
//! its issue lands. It never returns made-up data.

pub mod app;

pub static MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/catalog");

/// Where the service listens unless `LISTEN_ADDR` says otherwise.
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:50053";
