//! Test support shared by every crate's integration tests.
//!
//! - [`TestDb`]: a database of its own for each test, cloned from a template
//!   migrated once per migration set, so tests run in parallel (nextest runs
//!   each in its own process) and never share rows.
//! - [`Spawned`]: a real server on 127.0.0.1 port 0, stopped on drop.
//! - [`TestAuth`]: a running auth-svc with a bootstrapped admin, for tokens.
//! - [`schema`]: whether a service's `schema.rs` says what its migrations build.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod auth;
mod db;
pub mod health;
pub mod metrics;
pub mod nats;
pub mod otlp;
pub mod postgres;
pub mod raw;
pub mod schema;
mod spawn;
pub mod tmdb;

pub use auth::{ADMIN_EMAIL, ADMIN_PASSWORD, SignedIn, TestAuth, auth_config, service_config};
pub use db::TestDb;
pub use nats::TestNats;
pub use spawn::{Spawned, channel, spawn, spawn_on};

/// Attaches `authorization: Bearer <token>` to a request.
pub fn bearer<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("token is ASCII"),
    );
    request
}

/// The fields named by the google.rpc.BadRequest details of an
/// INVALID_ARGUMENT; panics on any other answer.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// The gRPC code of an answer, `Ok` for a success.
pub fn code<T>(result: &Result<T, tonic::Status>) -> tonic::Code {
    match result {
        Ok(_) => tonic::Code::Ok,
        Err(status) => status.code(),
    }
}
