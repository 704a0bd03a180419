//! auth-svc through a real tonic client against a real server and PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod accounts;
mod admin;
mod database_down;
mod forged_tokens;
mod key_rotation;
mod login;
mod lookup;
mod metrics;
mod reflection;
mod refresh;
mod replicas;
mod schema;

pub use testkit::violated_fields;
