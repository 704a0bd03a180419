//! order-svc: cinema ticket orders. A customer orders seats of a showtime
//! (asked of catalog-svc over gRPC), holds them while the order is PENDING,
//! pays, and gets one ticket per seat that staff admit once at the door.
//!
//! [`app::run`] starts the server. `api` holds the gRPC handlers; `domain`
//! the rules as pure functions (seats and how they are picked, the
//! showtime's, an order's life cycle, the door's, tickets) and the one
//! mapping of their refusals to gRPC codes; `orders`, `transition`,
//! `seat_map`, `door`, `sweeper` and `cancellations` load what the rules
//! look at, ask them and write, each in one transaction; `customers` says
//! whom an order is for; `catalog` asks catalog-svc and `service_kit`'s
//! `Accounts` auth-svc; `db` holds the SQL. Every rule reads the time from
//! the service's one `Clock` (`config.common.clock`).

pub mod api;
pub mod app;
pub mod cancellations;
pub mod catalog;
pub mod config;
pub mod customers;
pub mod db;
pub mod domain;
pub mod door;
pub mod orders;
pub mod render;
pub mod seat_map;
pub mod sweeper;
pub mod transition;

/// The shared outbox and idempotency keys, then the service's own tables.
pub static MIGRATIONS: service_kit::db::Migrations = service_kit::db::Migrations::new(&[
    ("outbox", &service_kit::outbox::MIGRATIONS),
    ("idempotency", &service_kit::idempotency::MIGRATIONS),
    ("order", &OWN_MIGRATIONS),
]);

static OWN_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/order");

/// Where the service listens unless `LISTEN_ADDR` says otherwise.
pub const DEFAULT_LISTEN_ADDR: &str = config::DEFAULT_LISTEN_ADDR;
