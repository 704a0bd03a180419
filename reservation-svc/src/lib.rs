//! reservation-svc: the restaurant's tables and the whole life cycle of a
//! table reservation.
//!
//! [`app::run`] starts the server. `api` holds the gRPC handlers (parsing in
//! `api/parse.rs`); `domain` the rules (value objects, the state machine,
//! the aggregate, who may run what, the policy) and every refusal with its
//! status code (`domain/refusal.rs`); `bookings` (CreateReservation),
//! `reservations`, `waitlist`, `floor` and `sweeper` run those rules in
//! transactions; `render` turns rows into messages and
//! events; `db` holds the SQL and the constraints the service relies on.

pub mod api;
pub mod app;
pub mod bookings;
pub mod config;
pub mod db;
pub mod domain;
pub mod floor;
pub mod render;
pub mod reservations;
pub mod sweeper;
pub mod waitlist;

/// The shared outbox and idempotency keys, then the service's own tables.
pub static MIGRATIONS: service_kit::db::Migrations = service_kit::db::Migrations::new(&[
    ("outbox", &service_kit::outbox::MIGRATIONS),
    ("idempotency", &service_kit::idempotency::MIGRATIONS),
    ("reservation", &OWN_MIGRATIONS),
]);

static OWN_MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("../migrations/reservation");

/// Where the service listens unless `LISTEN_ADDR` says otherwise.
pub const DEFAULT_LISTEN_ADDR: &str = config::DEFAULT_LISTEN_ADDR;
