//! auth-svc: accounts, sign-in, refresh-token rotation and the signing keys.
//!
//! [`app::run`] starts the server; `api` holds the gRPC handlers, `accounts`
//! the sign-in rules, `db` the SQL.

pub mod accounts;
pub mod api;
pub mod app;
pub mod config;
pub mod db;
pub mod domain;
pub mod jwks;
pub mod keys;
pub mod passwords;
pub mod tokens;
