//! order-svc: cinema ticket orders.
//!
//! For now a skeleton: it starts, prepares its database, serves health and
//! reflection, verifies tokens like every service, and answers UNIMPLEMENTED
//! for every RPC of `kursi.order.v1.OrderService` (the generated default stubs) until
//! its issue lands. It never returns made-up data.

pub mod app;

/// The shared outbox, then the service's own tables.
pub static MIGRATIONS: service_kit::db::Migrations = service_kit::db::Migrations::new(&[
    ("outbox", &service_kit::outbox::MIGRATIONS),
    ("order", &OWN_MIGRATIONS),
]);

static OWN_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/order");

/// Where the service listens unless `LISTEN_ADDR` says otherwise.
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:50054";
