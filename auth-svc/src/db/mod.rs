//! auth-svc's SQL, one module per table. Handlers never write queries; they
//! call these.

pub mod refresh_tokens;
pub mod schema;
pub mod signing_keys;
pub mod users;

/// auth-svc's tables (it has no domain events, so no outbox).
pub static MIGRATIONS: service_kit::db::Migrations =
    service_kit::db::Migrations::new(&[("auth", &OWN_MIGRATIONS)]);

static OWN_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/auth");
