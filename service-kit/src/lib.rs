//! What every Kursi service shares, so that each service's own code is only its
//! domain: settings from the environment, the gRPC server bootstrap (health,
//! reflection, timeouts, graceful shutdown), the database pool and migrations,
//! one mapping from errors to `tonic::Status`, and JWT verification against
//! the keys auth-svc publishes.

pub mod accounts;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod idempotency;
pub mod metrics;
pub mod outbox;
pub mod pages;
pub mod server;
pub mod shutdown;
pub mod telemetry;
pub mod undecodable;
pub mod values;

pub use error::{FieldViolation, ServiceError};
