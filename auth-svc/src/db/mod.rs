//! auth-svc's SQL, one module per table. Handlers never write queries; they
//! call these.

pub mod refresh_tokens;
pub mod schema;
pub mod signing_keys;
pub mod users;

pub static MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/auth");
